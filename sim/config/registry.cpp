#include "sim/config/registry.h"

#include <stdexcept>

namespace xpu {

const std::vector<ParamSpec>& common_component_params() {
  static const std::vector<ParamSpec> specs = {
      p_qty("area", Dim::Area, "0 mm2", "silicon area of this block, reported as part of the die area"),
      p_qty("static_power", Dim::Power, "0 W", "leakage and idle power, charged for the whole simulated time"),
  };
  return specs;
}

Registry& Registry::instance() {
  static Registry r;
  return r;
}

bool Registry::add(ComponentKind kind) {
  if (!kind.presets.empty()) {
    std::vector<std::string> names{"none"};
    std::string list;
    for (const auto& [n, v] : kind.presets) { names.push_back(n); list += (list.empty() ? "" : ", ") + n; }
    kind.params.push_back(p_choice("preset", "none", names, "named parameter set (" + list +
                                                                "); keys written beside it override its values"));
  }
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

bool Registry::add_area_model(const std::string& type, AreaModel model) {
  if (!area_models_.emplace(type, std::move(model)).second)
    throw std::logic_error("area model of '" + type + "' registered twice");
  return true;
}

const AreaModel* Registry::area_model(const std::string& type) const {
  auto it = area_models_.find(type);
  return it == area_models_.end() ? nullptr : &it->second;
}

std::vector<std::string> Registry::types() const {
  std::vector<std::string> out;
  for (const auto& [t, k] : kinds_) out.push_back(t);
  return out;
}

void apply_preset(const ComponentKind& kind, ConfigNode& node) {
  const ConfigNode* p = node.is_map() ? node.find("preset") : nullptr;
  if (!p || !p->is_scalar()) return;
  // Copies: node.set() below may reallocate the map that `p` points into.
  const std::string name = p->scalar;
  const SourceMark at = p->mark;
  auto it = kind.presets.find(name);
  if (it == kind.presets.end()) return;  // validation reports the bad name against the choices
  for (const auto& [k, v] : it->second) {
    if (node.find(k)) continue;
    ConfigNode value = parse_yaml(v, "preset " + name);
    value.mark = value.key_mark = at;  // errors in a preset value point at the `preset:` line
    node.set(k, value);
  }
}

}  // namespace xpu
