#include "sim/component/component.h"

namespace xpu {

Component::Component(sc_core::sc_module_name name, const std::string& type, const ParamSet& params)
    : sc_core::sc_module(name), type_(type), params_(params) {}

void Component::finish(double sim_seconds) { energy_static_.set(static_power_w() * sim_seconds); }

const std::vector<ParamSpec>& common_component_params() {
  static const std::vector<ParamSpec> specs = {
      p_qty("area", Dim::Area, "0 mm2", "silicon area of this block, reported as part of the die area"),
      p_qty("static_power", Dim::Power, "0 W", "leakage and idle power, charged for the whole simulated time"),
  };
  return specs;
}

}  // namespace xpu
