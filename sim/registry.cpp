#include "sim/registry.h"

#include <stdexcept>

namespace xpu {

Registry& Registry::instance() {
  static Registry r;
  return r;
}

bool Registry::add(ComponentKind kind) {
  for (const auto& p : common_component_params()) kind.params.push_back(p);
  std::string t = kind.type;
  if (!kinds_.emplace(t, std::move(kind)).second)
    throw std::logic_error("component type '" + t + "' registered twice");
  return true;
}

const ComponentKind* Registry::find(const std::string& type) const {
  auto it = kinds_.find(type);
  return it == kinds_.end() ? nullptr : &it->second;
}

std::vector<std::string> Registry::types() const {
  std::vector<std::string> out;
  for (const auto& [t, k] : kinds_) out.push_back(t);
  return out;
}

}  // namespace xpu
