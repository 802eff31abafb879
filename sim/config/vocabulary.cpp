#include "sim/config/vocabulary.h"

#include <map>
#include <stdexcept>

namespace xpu {
namespace {

std::map<std::string, std::function<std::vector<std::string>()>>& table() {
  static std::map<std::string, std::function<std::vector<std::string>()>> t;
  return t;
}

}  // namespace

bool register_vocabulary(const std::string& name, std::function<std::vector<std::string>()> names) {
  if (!table().emplace(name, std::move(names)).second)
    throw std::logic_error("vocabulary '" + name + "' registered twice");
  return true;
}

std::vector<std::string> vocabulary(const std::string& name) {
  auto it = table().find(name);
  if (it == table().end()) throw std::logic_error("no vocabulary '" + name + "' is registered");
  return it->second();
}

}  // namespace xpu
