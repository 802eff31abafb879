#include "sim/component/component.h"

namespace xpu {

Component::Component(sc_core::sc_module_name name, const std::string& type, const ParamSet& params)
    : sc_core::sc_module(name), type_(type), params_(params) {}

void Component::finish(double sim_seconds) { energy_static_.set(static_power_w() * sim_seconds); }

}  // namespace xpu
