#include "models/noc.h"

#include <cmath>

#include "sim/config/registry.h"

namespace xpu {

std::vector<ParamSpec> NocModule::param_specs() {
  ParamSpec bw = p_qty("bandwidth", Dim::Bandwidth, "",
                       "aggregate bandwidth between the cores and the cache slices (required unless `mesh` is given)");
  bw.optional = true;
  return {
      bw,
      p_qty("latency", Dim::Time, "20 ns", "traversal latency (with `mesh`: the fixed part, injection and ejection)"),
      p_qty("energy_per_bit", Dim::EnergyPerBit, "0.3 pJ/bit", "wire and router energy per bit carried"),
      p_count_list("mesh", "[]",
                   "[x, y] routers of a 2-D mesh: bandwidth and latency are then derived from link_bandwidth, "
                   "hop_latency and traffic; []: a crossbar described by bandwidth alone",
                   2, 1, 1e7),
      p_qty("link_bandwidth", Dim::Bandwidth, "0 GB/s", "mesh: bandwidth of one link between neighbours, per direction"),
      p_qty("hop_latency", Dim::Time, "1 ns", "mesh: latency of one router and link hop"),
      p_choice("traffic", "uniform", {"uniform", "neighbour"},
               "mesh: pattern of the traffic the cores send: uniform (any core to any slice; limited by the "
               "bisection, mean hop count (x+y)/3) or neighbour (placed data, one hop; every link busy); random "
               "gathers always cross the bisection"),
  };
}

MeshDerivation derive_mesh(double x, double y, double link_bw, bool neighbour) {
  MeshDerivation d;
  // Uniform traffic: a share floor(k/2) ceil(k/2) / k^2 of all bytes crosses the middle cut of a dimension of k
  // routers in each direction, over the cut's links (the routers of the other dimension); the tighter cut bounds the
  // aggregate (Dally & Towles: 4 min(x, y) link_bandwidth for even sizes).
  d.bisection_bandwidth = 0;
  auto cut = [&](double k, double across) {
    if (k < 2) return;
    double share = std::floor(k / 2) * std::ceil(k / 2) / (k * k);
    double bw = across * link_bw / share;
    d.bisection_bandwidth = d.bisection_bandwidth > 0 ? std::min(d.bisection_bandwidth, bw) : bw;
  };
  cut(x, y);
  cut(y, x);
  // Every directed link between neighbours at once.
  d.link_sum_bandwidth = 2 * (x * (y - 1) + y * (x - 1)) * link_bw;
  // Mean Manhattan distance between two independent uniform positions: (k^2 - 1) / (3k) per dimension.
  d.uniform_hops = (x * x - 1) / (3 * x) + (y * y - 1) / (3 * y);
  d.bandwidth = neighbour ? d.link_sum_bandwidth : d.bisection_bandwidth;
  d.hops = neighbour ? 1.0 : d.uniform_hops;
  return d;
}

NocModule::NocModule(sc_core::sc_module_name name, const ParamSet& p) : Component(name, "noc", p) {
  const std::string me = this->name();
  double latency_s = p.qty("latency");
  const auto& mesh = p.list("mesh");
  if (mesh.size() == 2) {
    if (p.has("bandwidth"))
      throw InputError(p.at("bandwidth").mark, me + ": give either bandwidth or mesh (which derives it), not both");
    if (p.qty("link_bandwidth") <= 0)
      throw InputError(p.at("mesh").mark, me + ".link_bandwidth must be > 0 with a mesh");
    if (mesh[0] * mesh[1] < 2) throw InputError(p.at("mesh").mark, me + ".mesh needs at least two routers");
    mesh_ = derive_mesh(mesh[0], mesh[1], p.qty("link_bandwidth"), p.str("traffic") == "neighbour");
    bw_ = mesh_.bandwidth;
    latency_s += mesh_.hops * p.qty("hop_latency");
    // Random gathers cannot be placed next to their reader: they cross the bisection whatever the pattern.
    random_cost_ = mesh_.bisection_bandwidth > 0 ? bw_ / mesh_.bisection_bandwidth : 1;
  } else {
    if (!p.has("bandwidth")) {
      // Both are absent, so neither has a line of its own: point at the component.
      const SourceMark& at = p.mark;
      throw InputError(at, me + ": missing required parameter 'bandwidth' (or a `mesh` to derive it from)");
    }
    bw_ = p.qty("bandwidth");
    if (bw_ <= 0) throw InputError(p.at("bandwidth").mark, me + ".bandwidth must be > 0");
  }
  port_.configure(bw_);
  latency_ps_ = static_cast<uint64_t>(std::llround(latency_s * 1e12));
  pj_per_bit_ = p.qty("energy_per_bit");
}

uint64_t NocModule::transfer(uint64_t now_ps, double bytes, Access access, bool) {
  if (bytes <= 0) return now_ps;
  bytes_ += bytes;
  add_dynamic_energy(bytes * 8 * pj_per_bit_);
  // Extra occupancy, as the HBM charges its efficiencies: the bytes count once in the statistics.
  return port_.reserve(now_ps, access == Access::random ? bytes * random_cost_ : bytes);
}

double NocModule::utilization(double s) const { return s > 0 ? port_.busy_ps() * 1e-12 / s : 0; }

void NocModule::finish(double s) {
  Component::finish(s);
  busy_time_.set(port_.busy_ps() * 1e-12);
}

XPU_REGISTER_COMPONENT(NocModule, "noc", "On-chip network or crossbar between cores and the global cache",
                       NocModule::param_specs());

}  // namespace xpu
