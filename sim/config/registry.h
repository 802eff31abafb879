#pragma once
// One registry of component kinds keyed by the YAML `type`. Each model file registers itself with one line:
//   XPU_REGISTER_COMPONENT(HbmModule, "hbm", "HBM stacks ...", HbmModule::param_specs());
// The catalogue (type, doc, parameters, presets) is what the config loader validates against; it holds the factory
// only as a function, so configuration knows no SystemC (sim/component/component.h is the module base).
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/config/area_estimate.h"
#include "sim/config/config_tree.h"
#include "sim/config/params.h"

namespace xpu {

class Component;  // sim/component/component.h

struct ComponentKind {
  std::string type;
  std::string doc;
  std::vector<ParamSpec> params;  // the kind's own, followed by the common ones
  std::function<Component*(const std::string& name, const ParamSet&)> create;
  // Named sets of parameter values (`preset: nvlink4`); keys the user writes beside the preset win.
  std::map<std::string, std::map<std::string, std::string>> presets = {};
};

class Registry {
 public:
  static Registry& instance();
  // Returns true so that registration can initialise a static; a duplicate type is a programming error.
  bool add(ComponentKind kind);
  const ComponentKind* find(const std::string& type) const;
  std::vector<std::string> types() const;
  // The kind's area model (sim/config/area_estimate.h), kept apart from the kind so that registration order
  // between files does not matter; null when the kind has none (its area is what the config writes).
  bool add_area_model(const std::string& type, AreaModel model);
  const AreaModel* area_model(const std::string& type) const;

 private:
  std::map<std::string, ComponentKind> kinds_;
  std::map<std::string, AreaModel> area_models_;
};

#define XPU_CONCAT2(a, b) a##b
#define XPU_CONCAT(a, b) XPU_CONCAT2(a, b)
#define XPU_REGISTER_COMPONENT(CLASS, TYPE, DOC, SPECS)                                                   \
  static const bool XPU_CONCAT(xpu_registered_, __LINE__) = ::xpu::Registry::instance().add(             \
      {TYPE, DOC, SPECS, [](const std::string& n, const ::xpu::ParamSet& p) -> ::xpu::Component* {       \
         return new CLASS(n.c_str(), p);                                                                  \
       }})

#define XPU_REGISTER_COMPONENT_WITH_PRESETS(CLASS, TYPE, DOC, SPECS, PRESETS)                            \
  static const bool XPU_CONCAT(xpu_registered_, __LINE__) = ::xpu::Registry::instance().add(             \
      {TYPE, DOC, SPECS,                                                                                   \
       [](const std::string& n, const ::xpu::ParamSet& p) -> ::xpu::Component* {                          \
         return new CLASS(n.c_str(), p);                                                                  \
       },                                                                                                  \
       PRESETS})

#define XPU_REGISTER_AREA_MODEL(TYPE, FN) \
  static const bool XPU_CONCAT(xpu_area_model_, __LINE__) = ::xpu::Registry::instance().add_area_model(TYPE, FN)

// Parameters every component kind accepts; the registry appends them to each kind's own declaration.
const std::vector<ParamSpec>& common_component_params();

// Fills the values of `node`'s `preset:` (if any) under the keys it does not set itself.
void apply_preset(const ComponentKind& kind, ConfigNode& node);

}  // namespace xpu
