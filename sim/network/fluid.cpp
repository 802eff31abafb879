// The flow engine: collectives as fluid flows whose rates are max-min fair shares of the links they cross, recomputed
// only when a flow starts or ends. Events per collective phase instead of per chunk and hop, so a 16,384-device
// all-reduce costs a few hundred rate solves instead of hundreds of millions of link reservations.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <queue>

#include "models/sim_time.h"
#include "sim/network/network.h"

namespace xpu {

void Network::build_csr() {
  const size_t V = boost::num_vertices(graph_);
  csr_off_.assign(V + 1, 0);
  for (size_t v = 0; v < V; ++v) csr_off_[v + 1] = csr_off_[v] + uint32_t(boost::out_degree(v, graph_));
  csr_.resize(csr_off_[V]);
  for (size_t v = 0; v < V; ++v) {
    uint32_t k = csr_off_[v];
    for (auto [e, end] = boost::out_edges(v, graph_); e != end; ++e) {
      const uint32_t u = uint32_t(boost::target(*e, graph_)), id = graph_[*e].id;
      csr_[k++] = CsrEdge{u, 2 * id + (links_[2 * id].from == v ? 0u : 1u), graph_[*e].weight};
    }
  }
  sp_dist_.assign(V, std::numeric_limits<double>::infinity());
  sp_done_.assign(V, 0);
  fw_dist_.assign(V, std::numeric_limits<double>::infinity());
  fw_done_.assign(V, 0);
  routes_.clear();
  node_of_.assign(V, -1);
  for (size_t v = 0; v < V; ++v)
    if (graph_[v].device >= 0) node_of_[v] = instance_of(graph_[v].device, 0);
  prune_transit_ = spec_.tiers.size() > 1;
  for (size_t t = 1; t < spec_.tiers.size(); ++t) {
    const std::string& top = spec_.tiers[t].topology;
    prune_transit_ = prune_transit_ && (top == "switched" || top == "fat_tree" || top == "rail");
  }
}

const Network::FluidRoute& Network::fluid_route(uint32_t src, uint32_t dst) {
  const uint64_t key = (uint64_t(src) << 32) | dst;
  auto it = routes_.find(key);
  if (it != routes_.end()) return it->second;
  if (csr_off_.empty()) build_csr();
  // Distances to the destination for every vertex on a shortest path from the source. A bidirectional Dijkstra
  // (the graph is undirected with symmetric costs) finds the shortest distance D, meeting in the middle; then the
  // backward search goes on to the source, expanding only vertices that could still lie on a path of length D
  // (their distance to the destination plus a lower bound on their distance from the source within D). In a fat
  // tree this visits the paths between the two and not every switch within D of the destination.
  using Item = std::pair<double, uint32_t>;
  using MinHeap = std::priority_queue<Item, std::vector<Item>, std::greater<Item>>;
  MinHeap fwd, bwd;
  const double inf = std::numeric_limits<double>::infinity();
  const int64_t node_src = node_of_[src] >= 0 ? node_of_[src] : -2, node_dst = node_of_[dst] >= 0 ? node_of_[dst] : -2;
  // Beyond the first tier, devices relay nothing when the outer tiers are all switched: only the devices of the
  // source's and the destination's own first-tier instance (their node) can be on a route.
  auto usable = [&](const CsrEdge& e) {
    return links_[e.link].alive &&
           !(prune_transit_ && node_of_[e.to] >= 0 && node_of_[e.to] != node_src && node_of_[e.to] != node_dst);
  };
  auto touch_b = [&](uint32_t v, double d) {
    if (sp_dist_[v] == inf) sp_touched_.push_back(v);
    sp_dist_[v] = d;
    bwd.push({d, v});
  };
  auto touch_f = [&](uint32_t v, double d) {
    if (fw_dist_[v] == inf) fw_touched_.push_back(v);
    fw_dist_[v] = d;
    fwd.push({d, v});
  };
  auto clean = [&] {
    for (uint32_t v : sp_touched_) { sp_dist_[v] = inf; sp_done_[v] = 0; }
    for (uint32_t v : fw_touched_) { fw_dist_[v] = inf; fw_done_[v] = 0; }
    sp_touched_.clear();
    fw_touched_.clear();
  };
  touch_b(dst, 0);
  touch_f(src, 0);
  double best = src == dst ? 0 : inf;
  auto top = [inf](MinHeap& h, const std::vector<char>& done) {
    while (!h.empty() && done[h.top().second]) h.pop();
    return h.empty() ? inf : h.top().first;
  };
  for (;;) {
    const double tf = top(fwd, fw_done_), tb = top(bwd, sp_done_);
    if (tf == inf || tb == inf || tf + tb >= best) break;
    const bool forward = tf <= tb;
    MinHeap& h = forward ? fwd : bwd;
    const uint32_t v = h.top().second;
    const double d = h.top().first;
    h.pop();
    (forward ? fw_done_ : sp_done_)[v] = 1;
    for (uint32_t k = csr_off_[v]; k < csr_off_[v + 1]; ++k) {
      const CsrEdge& e = csr_[k];
      if (!usable(e)) continue;
      const double nd = d + e.weight;
      if (forward) {
        if (nd < fw_dist_[e.to]) touch_f(e.to, nd);
        best = std::min(best, nd + sp_dist_[e.to]);
      } else {
        if (nd < sp_dist_[e.to]) touch_b(e.to, nd);
        best = std::min(best, nd + fw_dist_[e.to]);
      }
    }
  }
  if (best == inf) {
    clean();
    throw InputError("network: device " + std::to_string(src) + " cannot reach device " + std::to_string(dst));
  }
  const double D = best, slack = 1e-12 + 1e-9 * D, frontier = top(fwd, fw_done_);
  while (!sp_done_[src]) {
    const double d = top(bwd, sp_done_);
    if (d == inf || d > D + slack) break;
    const uint32_t v = bwd.top().second;
    bwd.pop();
    sp_done_[v] = 1;
    for (uint32_t k = csr_off_[v]; k < csr_off_[v + 1]; ++k) {
      const CsrEdge& e = csr_[k];
      if (!usable(e)) continue;
      const double nd = d + e.weight, from_src = fw_done_[e.to] ? fw_dist_[e.to] : frontier;
      if (nd + from_src > D + slack) continue;
      if (nd < sp_dist_[e.to]) touch_b(e.to, nd);
    }
  }
  if (!sp_done_[src]) {
    clean();
    throw std::logic_error("network: the restricted search missed the source");
  }
  // Spread the stream over the shortest-path DAG as the chunk engine's adaptive routing spreads chunks: kSlices
  // slices, each taking at every vertex the equal-cost next hop whose link is least loaded (load over bandwidth,
  // this slice included). Parallel planes fill in proportion to their bandwidth.
  constexpr int kSlices = 64;
  FluidRoute route;
  struct Arc { uint32_t to, link; double bw, load; };
  std::unordered_map<uint32_t, std::vector<Arc>> out;
  {
    std::vector<uint32_t> stack{src};
    std::unordered_map<uint32_t, char> seen{{src, 1}};
    while (!stack.empty()) {
      const uint32_t v = stack.back();
      stack.pop_back();
      if (v == dst) continue;
      const double tol = 1e-12 + 1e-9 * sp_dist_[v];
      for (uint32_t k = csr_off_[v]; k < csr_off_[v + 1]; ++k) {
        const CsrEdge& e = csr_[k];
        if (!links_[e.link].alive || !sp_done_[e.to]) continue;
        if (std::abs(e.weight + sp_dist_[e.to] - sp_dist_[v]) > tol) continue;
        out[v].push_back({e.to, e.link, links_[e.link].bw > 0 ? links_[e.link].bw : 1.0, 0});
        if (seen.emplace(e.to, 1).second) stack.push_back(e.to);
      }
    }
  }
  // A route with one way forward at every vertex (a torus neighbour, a switch hop) needs no slicing.
  bool single = true;
  for (auto& [v, arcs] : out) single = single && arcs.size() == 1;
  const double slice = single ? 1.0 : 1.0 / kSlices;
  for (int k = 0; k < (single ? 1 : kSlices); ++k)
    for (uint32_t v = src; v != dst;) {
      auto& arcs = out[v];
      size_t pick = 0;
      double low = std::numeric_limits<double>::infinity();
      for (size_t i = 0; i < arcs.size(); ++i) {
        const double c = (arcs[i].load + slice) / arcs[i].bw;
        if (c < low * (1 - 1e-9)) { low = c; pick = i; }
      }
      arcs[pick].load += slice;
      v = arcs[pick].to;
    }
  std::map<uint32_t, double> use;
  double worst = 0;
  for (auto& [v, arcs] : out)
    for (const Arc& a : arcs)
      if (a.load > 0) {
        use[a.link] += a.load;
        worst = std::max(worst, a.load / a.bw);
      }
  const double total = worst > 0 ? 1 / worst : 0;
  // The route's bandwidth is what the stream gets alone (parallel planes add up); latency along the first
  // equal-cost path.
  route.min_bw = total;
  for (uint32_t v = src; v != dst;) {
    const double tol = 1e-12 + 1e-9 * sp_dist_[v];
    uint32_t pick = UINT32_MAX;
    for (uint32_t k = csr_off_[v]; k < csr_off_[v + 1] && pick == UINT32_MAX; ++k) {
      const CsrEdge& e = csr_[k];
      if (links_[e.link].alive && sp_done_[e.to] && std::abs(e.weight + sp_dist_[e.to] - sp_dist_[v]) <= tol) pick = k;
    }
    if (pick == UINT32_MAX) throw std::logic_error("network: no fluid route");
    const DLink& L = links_[csr_[pick].link];
    route.latency_ps += L.latency_ps;
    v = csr_[pick].to;
  }
  clean();
  route.use.assign(use.begin(), use.end());
  std::sort(route.use.begin(), route.use.end());
  return routes_.emplace(key, std::move(route)).first->second;
}

double Network::hop_time(uint32_t src, uint32_t dst, double chunk) {
  if (src == dst) return 0;
  const FluidRoute& r = fluid_route(src, dst);
  const double eff = spec_.collectives.protocol_efficiency;
  return double(r.latency_ps) * 1e-12 + spec_.collectives.step_latency_s + (r.min_bw > 0 ? chunk / eff / r.min_bw : 0);
}

uint32_t Network::reducer_resource(uint32_t sw) {
  auto it = reducer_ids_.find(sw);
  if (it != reducer_ids_.end()) return it->second;
  // Reduction units are numbered after every directed link the network can have (circuits never run fluid).
  const uint32_t id = uint32_t(links_.size() + reducer_ids_.size());
  mm_.set_capacity(id, graph_[sw].sw->reduction_bandwidth());
  reducer_ids_.emplace(sw, id);
  return id;
}

void Network::fluid_send(const std::vector<Stream>& streams, const FluidShape& sh, Arrival arrived,
                         const MaxMinFlows::Use& more) {
  const double eff = spec_.collectives.protocol_efficiency;
  const double sync_s = spec_.collectives.step_latency_s;
  const double cb = sh.chunk > 0 ? std::min(sh.chunk, sh.units) : sh.units;
  // The streams' combined load per link and their path figures, kept per stream set: the same groups send again
  // and again (every layer's all-reduce), and combining their routes is most of a send's cost.
  uint64_t key = 0;
  auto mixin = [&](uint64_t x) { key = mix64(key ^ x); };
  for (const Stream& st : streams) {
    mixin(st.src);
    mixin(st.dst);
    uint64_t wb;
    std::memcpy(&wb, &st.weight, sizeof wb);
    mixin(wb);
  }
  auto it = aggs_.find(key);
  if (it == aggs_.end() || it->second.streams != streams) {
    if (aggs_.size() >= 16384) aggs_.clear();  // bounded: a long run with ever new groups rebuilds as it goes
    FluidAgg g;
    g.streams = streams;
    std::unordered_map<uint32_t, double> acc;
    for (const Stream& st : streams) {
      if (st.src == st.dst || st.weight <= 0) continue;
      const FluidRoute& r = fluid_route(st.src, st.dst);
      for (auto [li, share] : r.use) acc[li] += st.weight / eff * share;
      const double lat = double(r.latency_ps) * 1e-12, inv = r.min_bw > 0 ? st.weight / eff / r.min_bw : 0;
      g.lat_max = std::max(g.lat_max, lat);
      g.lat_sum += lat;
      g.inv_max = std::max(g.inv_max, inv);
      g.inv_sum += inv;
      ++g.paths;
    }
    g.use.assign(acc.begin(), acc.end());
    std::sort(g.use.begin(), g.use.end());
    it = aggs_.insert_or_assign(key, std::move(g)).first;
  }
  const FluidAgg& g = it->second;
  const double paths = g.paths;
  const bool mean = sh.mean_hop && paths > 0;
  const double lat = sync_s + (mean ? g.lat_sum / paths : g.lat_max);
  const double ser = cb * (mean ? g.inv_sum / paths : g.inv_max);
  const double hop = lat + ser;
  MaxMinFlows::Use use = g.use;
  // Energy and busy time are counted when the flow starts: the totals do not depend on the rate.
  if (sh.units > 0)
    for (auto [li, w] : use) {
      DLink& L = links_[li];
      const double bytes = sh.units * w * sh.copies, busy = L.bw > 0 ? bytes / L.bw : 0;
      L.elem->carry(bytes, busy);
      if (L.into_switch && graph_[L.to].device < 0) L.into_switch->carry(bytes, busy);
    }
  for (auto& m : more) use.push_back(m);
  // One chunk in flight pays every hop in full; more overlap their hops with each other's serialisation, and the
  // last one's latency remains. With its critical path known, the pipeline fills for that path less the hop the
  // rate already pays.
  const double tail = (sh.critical_s > 0 ? std::max(0.0, sh.critical_s - hop) : sh.fill_hops * hop) +
                      (sh.in_flight > 1 ? lat : 0) + double(sh.extra_ps) * 1e-12;
  const uint64_t tail_ps = ps_from_seconds(tail, "the network");
  if (use.empty() || sh.units <= 0) {
    const uint64_t t = now_ps_ + tail_ps + (paths > 0 ? ps_from_seconds(hop, "the network") : 0);
    at(t, [arrived = std::move(arrived), t] { arrived(t); });
    return;
  }
  for (auto [li, w] : use)
    if (li < links_.size() && mm_.capacity(li) == 0) mm_.set_capacity(li, links_[li].bw);
  MaxMinFlows::Pipeline pipe;
  pipe.window = sh.in_flight * cb;
  pipe.latency = lat;
  pipe.serial = ser;
  pipe.chunk = cb;
  const uint32_t id = mm_.add(std::move(use), pipe);
  if (ff_.size() <= id) ff_.resize(size_t(id) + 1);
  FluidFlow& f = ff_[id];
  f.left = sh.units;
  f.tail_ps = tail_ps;
  f.arrived = std::move(arrived);
  f.rate = 0;
  f.since_ps = now_ps_;
  if (!ff_pending_) {
    ff_pending_ = true;
    at(now_ps_, [this] {
      ff_pending_ = false;
      fluid_update();
    });
  }
}

void Network::fluid_update() {
  // Flows due now end; their arrival follows after their tail latency, and the resources they free are re-solved.
  // Arrivals at the same time share one event (the thousands of hand-offs of a pipeline step end together).
  std::map<uint64_t, std::vector<Arrival>> arrivals;
  while (!ff_due_.empty() && ff_due_.top().t <= now_ps_) {
    const auto d = ff_due_.top();
    ff_due_.pop();
    FluidFlow& f = ff_[d.id];
    if (!f.arrived || f.version != d.version) continue;
    arrivals[checked_time(now_ps_ + f.tail_ps, "the network")].push_back(std::move(f.arrived));
    f.arrived = nullptr;
    mm_.remove(d.id);
  }
  for (auto& [t, cbs] : arrivals)
    at(t, [cbs = std::move(cbs), t = t] {
      for (const auto& cb : cbs) cb(t);
    });
  for (uint32_t id : mm_.solve()) {
    FluidFlow& f = ff_[id];
    if (!f.arrived) continue;
    f.left = std::max(0.0, f.left - f.rate * double(now_ps_ - f.since_ps) * 1e-12);
    f.since_ps = now_ps_;
    f.rate = mm_.rate(id);
    ++f.version;
    if (!(f.rate > 0)) continue;
    const double ps = std::ceil(f.left / f.rate * 1e12);
    ff_due_.push({now_ps_ + uint64_t(std::max(1.0, std::min(ps, 4e18))), id, f.version});
  }
  while (!ff_due_.empty() && (!ff_[ff_due_.top().id].arrived || ff_[ff_due_.top().id].version != ff_due_.top().version))
    ff_due_.pop();
  if (ff_due_.empty() || ff_due_.top().t >= ff_wake_ps_) return;
  ff_wake_ps_ = ff_due_.top().t;
  const uint64_t gen = ++ff_gen_;
  at(ff_wake_ps_, [this, gen] {
    if (gen != ff_gen_) return;
    ff_wake_ps_ = UINT64_MAX;
    fluid_update();
  });
}

}  // namespace xpu
