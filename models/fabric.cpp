#include "models/fabric.h"

#include "sim/registry.h"

namespace xpu {

std::vector<ParamSpec> FabricModule::param_specs() {
  return {
      p_count("devices", "8", "devices the fabric connects (the largest collective group)", 1, 1e7),
      p_qty("bandwidth", Dim::Bandwidth, "", "per-device bandwidth into the fabric, per direction"),
      p_qty("latency", Dim::Time, "5 us", "cost of one algorithm step (launch, synchronisation, hop)"),
      p_qty("energy_per_bit", Dim::EnergyPerBit, "5 pJ/bit", "energy per bit sent"),
  };
}

FabricModule::FabricModule(sc_core::sc_module_name name, const ParamSet& p) : Component(name, "fabric", p) {
  if (p.qty("bandwidth") <= 0) throw InputError(p.at("bandwidth").mark, std::string(this->name()) + ".bandwidth must be > 0");
}

double FabricModule::collective_seconds(const std::string& op, double bytes, int64_t group) const {
  const double p = double(group), bw = params().qty("bandwidth"), a = params().qty("latency");
  if (group > int64_t(params().count("devices")))
    throw InputError(std::string(name()) + ": a group of " + std::to_string(group) + " exceeds the fabric's " +
                     std::to_string(params().count("devices")) + " devices");
  if (group <= 1) return 0;
  // Ring algorithms: each device sends (p-1)/p of the data per phase, one latency per step.
  if (op == "all_reduce") return 2 * (p - 1) / p * bytes / bw + 2 * (p - 1) * a;
  if (op == "all_gather" || op == "reduce_scatter" || op == "all_to_all") return (p - 1) / p * bytes / bw + (p - 1) * a;
  if (op == "broadcast") return bytes / bw + (p - 1) * a;
  if (op == "send_recv" || op == "send" || op == "recv") return bytes / bw + a;
  throw InputError("unknown collective '" + op + "' (all_reduce, all_gather, reduce_scatter, all_to_all, broadcast, "
                   "send_recv)");
}

void FabricModule::count(double bytes_on_wire) {
  bytes_ += bytes_on_wire;
  collectives_ += 1;
  add_dynamic_energy(bytes_on_wire * 8 * params().qty("energy_per_bit"));
}

XPU_REGISTER_COMPONENT(FabricModule, "fabric",
                       "First-order interconnect among identical devices: per-device bandwidth, per-step latency, "
                       "ring collectives",
                       FabricModule::param_specs());

}  // namespace xpu
