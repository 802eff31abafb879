#pragma once
// HBM stacks x channels. Each channel is a bandwidth server; addresses interleave across channels at a fixed
// granularity, so large transfers spread over all channels and small ones touch a few. Row-buffer behaviour is folded
// into two efficiencies: sustained streaming (row hits) and random sector gathers (row misses, activate overhead).
#include <vector>

#include "models/interfaces.h"
#include "sim/component/component.h"

namespace xpu {

class HbmModule : public Component, public MainMemory {
 public:
  HbmModule(sc_core::sc_module_name name, const ParamSet& p);
  static std::vector<ParamSpec> param_specs();

  uint64_t transfer(uint64_t now_ps, double bytes, Access access, bool write) override;
  uint64_t latency_ps() const override { return latency_ps_; }
  double peak_bandwidth() const override { return peak_bw_; }
  double energy_per_byte() const override { return pj_per_bit_ * 8; }
  double capacity_bytes() const override { return params().qty("capacity"); }
  double data_movement_energy_j() const override { return dynamic_energy_j(); }
  void finish(double sim_seconds) override;
  double utilization(double sim_seconds) const override;

 protected:
  void extra_counters(std::vector<double*>&, std::vector<uint64_t*>& u) override { u.push_back(&busy_ps_total_); }

 private:
  // Flat arrays rather than one server object per channel: a large transfer updates every channel, and this loop
  // is the simulator's hottest.
  std::vector<uint64_t> free_at_ps_;
  uint64_t busy_ps_total_ = 0;
  double ps_per_byte_channel_ = 0;
  double peak_bw_ = 0, interleave_ = 256, granule_ = 32;
  double stream_eff_ = 1, random_eff_ = 1, pj_per_bit_ = 0;
  uint64_t latency_ps_ = 0;
  size_t next_channel_ = 0;

  Stat bytes_read_{&stats_, "bytes_read", "B", "bytes read from the stacks"};
  Stat bytes_written_{&stats_, "bytes_written", "B", "bytes written to the stacks"};
  Stat random_bytes_{&stats_, "random_bytes", "B", "bytes moved by random (gather) accesses, rounded to sectors"};
  Stat busy_time_{&stats_, "busy_time", "s", "channel busy time averaged over channels"};
};

}  // namespace xpu
