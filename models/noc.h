#pragma once
// The on-chip network (crossbar) between cores and the global cache: an aggregate bandwidth and a traversal latency,
// given directly or derived from a 2-D mesh of routers (link bandwidth, hop latency and the traffic pattern).
#include "models/bandwidth_server.h"
#include "models/interfaces.h"
#include "sim/component/component.h"

namespace xpu {

// What a 2-D mesh of x by y routers with links of `link_bw` per direction sustains.
struct MeshDerivation {
  double bisection_bandwidth = 0;  // aggregate for uniform traffic, bounded by the middle cuts (B/s)
  double link_sum_bandwidth = 0;   // every directed neighbour link at once (B/s)
  double uniform_hops = 0;         // mean hop count of uniform traffic
  double bandwidth = 0, hops = 0;  // those of the chosen pattern
};
MeshDerivation derive_mesh(double x, double y, double link_bw, bool neighbour);

class NocModule : public Component, public DataPort {
 public:
  NocModule(sc_core::sc_module_name name, const ParamSet& p);
  static std::vector<ParamSpec> param_specs();
  uint64_t transfer(uint64_t now_ps, double bytes, Access access, bool write) override;
  uint64_t latency_ps() const override { return latency_ps_; }
  double peak_bandwidth() const override { return bw_; }
  double energy_per_byte() const override { return pj_per_bit_ * 8; }
  double data_movement_energy_j() const override { return dynamic_energy_j(); }
  double utilization(double sim_seconds) const override;
  void finish(double sim_seconds) override;
  const MeshDerivation& mesh() const { return mesh_; }  // zeros without a mesh

 protected:
  void extra_counters(std::vector<double*>&, std::vector<uint64_t*>& u) override { u.push_back(&port_.busy_counter()); }

 private:
  BandwidthServer port_;
  double bw_ = 0, pj_per_bit_ = 0;
  double random_cost_ = 1;  // occupancy per byte of random gathers relative to the pattern's (mesh: the bisection)
  MeshDerivation mesh_;
  uint64_t latency_ps_ = 0;
  Stat bytes_{&stats_, "bytes", "B", "bytes carried in either direction"};
  Stat busy_time_{&stats_, "busy_time", "s", "time the network was carrying data"};
};

}  // namespace xpu
