#pragma once
// A first-order interconnect among identical devices: each device has `bandwidth` per direction into the fabric and
// every algorithm step costs `latency`. Collectives take their ring (alpha-beta) time. The scale-out models (links,
// switches, topologies with contention) replace this; it serves workloads that need collectives before those exist.
#include <string>

#include "sim/component.h"

namespace xpu {

class Interconnect {
 public:
  virtual ~Interconnect() = default;
  // Seconds a collective `op` on `bytes` per device among `group` devices takes; throws InputError for an unknown op
  // or a group larger than the fabric.
  virtual double collective_seconds(const std::string& op, double bytes, int64_t group) const = 0;
  virtual void count(double bytes_on_wire) = 0;
};

class FabricModule : public Component, public Interconnect {
 public:
  FabricModule(sc_core::sc_module_name name, const ParamSet& p);
  static std::vector<ParamSpec> param_specs();
  double collective_seconds(const std::string& op, double bytes, int64_t group) const override;
  void count(double bytes_on_wire) override;
  double data_movement_energy_j() const override { return dynamic_energy_j(); }

 private:
  Stat bytes_{&stats_, "bytes", "B", "bytes sent into the fabric by this device"};
  Stat collectives_{&stats_, "collectives", "", "collectives run"};
};

}  // namespace xpu
