#pragma once
// The on-chip network (crossbar) between cores and the global cache: an aggregate bandwidth and a traversal latency.
#include "models/bandwidth_server.h"
#include "models/interfaces.h"
#include "sim/component.h"

namespace xpu {

class NocModule : public Component, public DataPort {
 public:
  NocModule(sc_core::sc_module_name name, const ParamSet& p);
  static std::vector<ParamSpec> param_specs();
  uint64_t transfer(uint64_t now_ps, double bytes, Access access, bool write) override;
  uint64_t latency_ps() const override { return latency_ps_; }
  double peak_bandwidth() const override { return bw_; }
  double data_movement_energy_j() const override { return dynamic_energy_j(); }
  double utilization(double sim_seconds) const override;
  void finish(double sim_seconds) override;

 private:
  BandwidthServer port_;
  double bw_ = 0, pj_per_bit_ = 0;
  uint64_t latency_ps_ = 0;
  Stat bytes_{&stats_, "bytes", "B", "bytes carried in either direction"};
  Stat busy_time_{&stats_, "busy_time", "s", "time the network was carrying data"};
};

}  // namespace xpu
