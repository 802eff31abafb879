#include "models/noc.h"

#include <cmath>

#include "sim/registry.h"

namespace xpu {

std::vector<ParamSpec> NocModule::param_specs() {
  return {
      p_qty("bandwidth", Dim::Bandwidth, "", "aggregate bandwidth between the cores and the cache slices"),
      p_qty("latency", Dim::Time, "20 ns", "traversal latency"),
      p_qty("energy_per_bit", Dim::EnergyPerBit, "0.3 pJ/bit", "wire and router energy per bit carried"),
  };
}

NocModule::NocModule(sc_core::sc_module_name name, const ParamSet& p) : Component(name, "noc", p) {
  bw_ = p.qty("bandwidth");
  if (bw_ <= 0) throw InputError(p.at("bandwidth").mark, std::string(this->name()) + ".bandwidth must be > 0");
  port_.configure(bw_);
  latency_ps_ = static_cast<uint64_t>(std::llround(p.qty("latency") * 1e12));
  pj_per_bit_ = p.qty("energy_per_bit");
}

uint64_t NocModule::transfer(uint64_t now_ps, double bytes, Access, bool) {
  if (bytes <= 0) return now_ps;
  bytes_ += bytes;
  add_dynamic_energy(bytes * 8 * pj_per_bit_);
  return port_.reserve(now_ps, bytes);
}

double NocModule::utilization(double s) const { return s > 0 ? port_.busy_ps() * 1e-12 / s : 0; }

void NocModule::finish(double s) {
  Component::finish(s);
  busy_time_.set(port_.busy_ps() * 1e-12);
}

XPU_REGISTER_COMPONENT(NocModule, "noc", "On-chip network or crossbar between cores and the global cache",
                       NocModule::param_specs());

}  // namespace xpu
