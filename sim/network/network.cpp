#include "sim/network/network.h"

#include <boost/graph/dijkstra_shortest_paths.hpp>

#include <algorithm>
#include <cmath>
#include <set>

#include "models/sim_time.h"

namespace xpu {

struct Network::OcsState {
  size_t tier = 0;
  int64_t first = 0, count = 0;       // devices of this instance
  LinkTemplate* link = nullptr;
  SwitchTemplate* sw = nullptr;
  std::string policy;
  Circuits circuits;
  std::vector<uint32_t> edge_ids;
  int users = 0;
  uint64_t ready_ps = 0;
  std::deque<std::pair<std::vector<std::pair<int64_t, int64_t>>, std::function<void()>>> pending;
};

namespace {
uint64_t to_ps(double s) { return ps_from_seconds(s, "the network"); }
// Dimensions of a torus for `n` devices with at most `ports` circuits each (2 per dimension), most balanced first.
std::vector<int64_t> torus_dims(int64_t n, int64_t ports) {
  std::vector<int64_t> best{n};
  double best_score = double(n);
  for (int64_t a = 1; a <= n; ++a) {
    if (n % a) continue;
    for (int64_t b = 1; b <= n / a; ++b) {
      if ((n / a) % b) continue;
      int64_t c = n / a / b;
      std::vector<int64_t> d;
      for (int64_t x : {a, b, c})
        if (x > 1) d.push_back(x);
      if (int64_t(d.size()) * 2 > ports || d.empty()) continue;
      double score = 0;  // diameter
      for (auto x : d) score += double(x / 2);
      if (score < best_score) { best_score = score; best = d; }
    }
  }
  return best;
}
using Circuits = std::set<std::pair<int64_t, int64_t>>;

// Circuits of a torus (a ring for one dimension) over devices first .. first + prod(dims) - 1, pairs as (low, high).
Circuits torus_circuits(int64_t first, const std::vector<int64_t>& dims) {
  Circuits out;
  int64_t count = 1;
  for (auto d : dims) count *= d;
  std::vector<int64_t> stride(dims.size(), 1);
  for (size_t k = 1; k < dims.size(); ++k) stride[k] = stride[k - 1] * dims[k - 1];
  for (int64_t m = 0; m < count; ++m)
    for (size_t k = 0; k < dims.size(); ++k) {
      const int64_t n = dims[k], c = (m / stride[k]) % n;
      if (n < 2 || (n == 2 && c == 1)) continue;
      const int64_t peer = c + 1 < n ? m + stride[k] : m - c * stride[k];
      out.insert(std::minmax(first + m, first + peer));
    }
  return out;
}

std::map<int64_t, int> peers_of(const Circuits& c) {
  std::map<int64_t, int> n;
  for (auto [a, b] : c) { ++n[a]; ++n[b]; }
  return n;
}

int most_peers(const Circuits& c) {
  int worst = 0;
  for (auto [d, n] : peers_of(c)) worst = std::max(worst, n);
  return worst;
}
// Pods of a k-ary fat tree over `endpoints`: leaves of k/2 endpoints, k/2 leaves per pod.
int64_t fat_tree_pods(int64_t endpoints, int64_t radix) {
  const int64_t half = radix / 2, leaves = (endpoints + half - 1) / half;
  return (leaves + half - 1) / half;
}
}  // namespace

Network::Network(sc_core::sc_module_name name, const NetworkSpec& spec, const std::map<std::string, NetElement*>& elements)
    : sc_core::sc_module(name), spec_(spec), elements_(elements) {
  build();
  const auto& cs = spec_.collectives;
  if (cs.engine == "flow" && !ocs_.empty())
    throw InputError(cs.engine_mark, "collectives.engine: flow does not model optical circuit reconfiguration; use chunk or "
                              "auto on a network with an ocs tier");
  fluid_ = ocs_.empty() && (cs.engine == "flow" || (cs.engine == "auto" && spec_.devices >= cs.flow_from));
  SC_METHOD(run);
  sensitive << wake_;
  dont_initialize();
}

Network::~Network() = default;

uint32_t Network::add_switch(SwitchTemplate* sw) {
  NetVertex v;
  v.sw = sw;
  sw->add_instances(1);
  return uint32_t(boost::add_vertex(v, graph_));
}

uint32_t Network::connect(uint32_t a, uint32_t b, LinkTemplate* link, double share, bool circuit) {
  const uint32_t id = uint32_t(links_.size() / 2);
  const double bw = link->bandwidth() * share, lat = link->latency_s();
  auto sw_lat = [&](uint32_t v) { return graph_[v].sw ? graph_[v].sw->hop_latency_s() : 0.0; };
  NetEdge e;
  e.id = id;
  // Cost of a reference chunk over the template's full bundle: parallel planes of one kind tie, so they share load.
  e.weight = lat + ref_bytes_ / link->bandwidth() + 0.5 * (sw_lat(a) + sw_lat(b));
  auto [ed, ok] = boost::add_edge(a, b, e, graph_);
  edge_of_.push_back(ed);
  for (auto [from, to] : {std::pair{a, b}, std::pair{b, a}}) {
    DLink l;
    l.srv.configure(bw);
    l.bw = bw;
    l.latency_ps = to_ps(lat + sw_lat(to));
    l.buffer_bytes = graph_[from].sw ? graph_[from].sw->buffer_bytes() : 0;
    l.elem = link;
    l.into_switch = graph_[to].sw;
    l.from = from;
    l.to = to;
    links_.push_back(l);
  }
  if (!circuit) link->add_instances(share);
  return id;
}

void Network::remove_edge_id(uint32_t id) {
  links_[2 * id].alive = links_[2 * id + 1].alive = false;
  boost::remove_edge(edge_of_[id], graph_);
}

void Network::build() {
  const int64_t D = spec_.devices;
  for (int64_t d = 0; d < D; ++d) {
    NetVertex v;
    v.device = d;
    boost::add_vertex(v, graph_);
  }
  ocs_tier_of_device_.assign(size_t(D), -1);
  for (size_t ti = 0; ti < spec_.tiers.size(); ++ti) {
    const TierSpec& t = spec_.tiers[ti];
    const std::string at = "tier '" + t.name + "': ";
    auto* link = dynamic_cast<LinkTemplate*>(elements_.at(t.link));
    if (!link) throw InputError(t.mark, at + "'" + t.link + "' is a " + elements_.at(t.link)->type() +
                                           ", not a link (link, d2d, photonic_link)");
    SwitchTemplate* sw = nullptr;
    if (!t.switch_name.empty()) {
      sw = dynamic_cast<SwitchTemplate*>(elements_.at(t.switch_name));
      if (!sw) throw InputError(t.mark, at + "'" + t.switch_name + "' is a " + elements_.at(t.switch_name)->type() +
                                             ", not a switch (switch, optical_circuit_switch)");
      if (sw->circuit_switched() != (t.topology == "ocs"))
        throw InputError(t.mark, at + (t.topology == "ocs" ? "an ocs tier needs an optical_circuit_switch"
                                                           : "an optical_circuit_switch belongs in an ocs tier"));
    }
    const int64_t G = t.group;
    for (int64_t inst = 0; inst < D / G; ++inst) {
      const int64_t base = inst * G;
      if (t.topology == "switched") {
        const double lanes = link->lanes();
        for (int64_t s = 0; s < t.switches; ++s) {
          const double l = t.lanes.empty() ? lanes / double(t.switches) : double(t.lanes[size_t(s)]);
          if (double(G) * std::ceil(l) > sw->ports())
            throw InputError(t.mark, at + std::to_string(G) + " devices x " + std::to_string(int64_t(std::ceil(l))) +
                                         " lanes exceed the switch's " + std::to_string(int64_t(sw->ports())) + " ports");
          uint32_t v = add_switch(sw);
          for (int64_t m = 0; m < G; ++m) connect(uint32_t(base + m), v, link, l / lanes);
        }
      } else if (t.topology == "ring") {
        for (int64_t m = 0; m < G && G > 1; ++m)
          if (G > 2 || m == 0) connect(uint32_t(base + m), uint32_t(base + (m + 1) % G), link, 1);
      } else if (t.topology == "torus" || t.topology == "mesh") {
        std::vector<int64_t> stride(t.dims.size(), 1);
        for (size_t k = 1; k < t.dims.size(); ++k) stride[k] = stride[k - 1] * t.dims[k - 1];
        for (int64_t m = 0; m < G; ++m)
          for (size_t k = 0; k < t.dims.size(); ++k) {
            const int64_t n = t.dims[k], c = (m / stride[k]) % n;
            if (n < 2) continue;
            if (c + 1 < n) connect(uint32_t(base + m), uint32_t(base + m + stride[k]), link, 1);
            else if (t.topology == "torus" && n > 2) connect(uint32_t(base + m), uint32_t(base + m - c * stride[k]), link, 1);
          }
      } else if (t.topology == "full_mesh") {
        for (int64_t a = 0; a < G; ++a)
          for (int64_t b = a + 1; b < G; ++b) connect(uint32_t(base + a), uint32_t(base + b), link, 1);
      } else if (t.topology == "fat_tree") {
        std::vector<uint32_t> ends, cores;
        for (int64_t m = 0; m < G; ++m) ends.push_back(uint32_t(base + m));
        fat_tree(ends, link, sw, t, at, fat_tree_pods(G, t.radix), cores);
      } else if (t.topology == "rail") {
        const int64_t g = spec_.tiers[ti - 1].group, nodes = G / g;
        if (nodes > t.radix) {
          // Rail-optimised fat tree (a DGX SuperPOD at scale): each rail (device i of every node) is a fat tree of
          // its own, leaves per scalable unit and spines per pod, and the pods of every rail share one core layer.
          std::vector<uint32_t> cores;
          const int64_t pods = fat_tree_pods(nodes, t.radix);
          for (int64_t r = 0; r < g; ++r) {
            std::vector<uint32_t> ends;
            for (int64_t n = 0; n < nodes; ++n) ends.push_back(uint32_t(base + n * g + r));
            fat_tree(ends, link, sw, t, at, pods * g, cores);
          }
          continue;
        }
        std::vector<uint32_t> rails;
        for (int64_t r = 0; r < g; ++r) rails.push_back(add_switch(sw));
        for (int64_t m = 0; m < G; ++m) connect(uint32_t(base + m), rails[size_t(m % g)], link, 1);
        // Spines join the rails for traffic between different local ranks (when NVLink forwarding is not used), with
        // as many uplinks per rail as it has nodes (full bisection) over the oversubscription.
        const double up = std::max<double>(1.0, double(nodes) / double(t.switches)) / t.oversubscription;
        for (int64_t s = 0; s < t.switches; ++s) {
          uint32_t sp = add_switch(sw);
          for (uint32_t r : rails) connect(r, sp, link, up);
        }
      } else if (t.topology == "ocs") {
        const double ports = link->lanes();
        if (double(G) * ports > double(t.switches) * sw->ports())
          throw InputError(t.mark, at + std::to_string(G) + " devices x " + std::to_string(int64_t(ports)) +
                                       " fibres exceed " + std::to_string(t.switches) + " x " +
                                       std::to_string(int64_t(sw->ports())) + " switch ports");
        for (int64_t s = 0; s < t.switches; ++s) add_switch(sw);
        auto st = std::make_unique<OcsState>();
        st->tier = ti;
        st->first = base;
        st->count = G;
        st->link = link;
        st->sw = sw;
        st->policy = t.circuits;
        link->add_instances(double(G) / 2);  // each device's fibres: one link's worth per two ends
        for (int64_t m = 0; m < G; ++m) ocs_tier_of_device_[size_t(base + m)] = int(ocs_.size());
        if (t.circuits == "ring" || t.circuits == "torus")
          set_circuits(*st, torus_circuits(base, t.circuits == "ring" ? std::vector<int64_t>{G}
                                                                      : torus_dims(G, int64_t(ports))));
        ocs_.push_back(std::move(st));
      }
    }
  }
}

void Network::fat_tree(const std::vector<uint32_t>& ends, LinkTemplate* link, SwitchTemplate* sw, const TierSpec& t,
                       const std::string& at, int64_t all_pods, std::vector<uint32_t>& cores) {
  // k-ary fat tree of radix-k switches (Al-Fares et al., 2008): a leaf serves k/2 endpoints and has k/2 uplinks, a
  // pod is up to k/2 leaves with k/2 spines (every leaf to every spine), and spine j of every pod joins core plane
  // j: the `all_pods` pods' k/2 uplinks per spine spread over as many full-radix cores as they fill (`cores` is
  // shared by every call of one tier, so the rails of a rail-optimised fabric meet there). A tree that fits one
  // switch is one switch; one pod needs no cores. Oversubscription thins the leaves' uplinks.
  const int64_t k = t.radix, half = k / 2, E = int64_t(ends.size());
  if (E <= k) {
    uint32_t v = add_switch(sw);
    for (uint32_t e : ends) connect(e, v, link, 1);
    return;
  }
  const int64_t leaves = (E + half - 1) / half, pods = fat_tree_pods(E, k);
  if (pods > k || all_pods > k)
    throw InputError(t.mark, at + std::to_string(E) + " endpoints need more than three levels of radix-" +
                                 std::to_string(k) + " switches (at most " + std::to_string(k * half * half) + ")");
  const double up = 1.0 / t.oversubscription;
  const int64_t per_plane = std::max<int64_t>(1, (all_pods * half + k - 1) / k);
  for (int64_t p = 0; p < pods; ++p) {
    const int64_t first = p * half, count = std::min(half, leaves - first);
    std::vector<uint32_t> sp;
    for (int64_t j = 0; j < half; ++j) sp.push_back(add_switch(sw));
    for (int64_t l = first; l < first + count; ++l) {
      uint32_t leaf = add_switch(sw);
      for (int64_t m = l * half; m < std::min(E, (l + 1) * half); ++m) connect(ends[size_t(m)], leaf, link, 1);
      for (uint32_t s : sp) connect(leaf, s, link, up);
    }
    if (all_pods == 1) continue;  // one pod alone is the two-level tree: its spines need no uplinks
    if (cores.empty())
      for (int64_t c = 0; c < half * per_plane; ++c) cores.push_back(add_switch(sw));
    for (int64_t j = 0; j < half; ++j)
      for (int64_t c = 0; c < per_plane; ++c)
        connect(sp[size_t(j)], cores[size_t(j * per_plane + c)], link, double(half) / double(per_plane));
  }
}

void Network::at(uint64_t t, std::function<void()> fn) {
  t = std::max(t, now_ps_);
  queue_.push(Ev{t, seq_++, std::move(fn)});
  if (t < next_wake_) {
    const uint64_t now = sc_core::sc_time_stamp().value();
    next_wake_ = t;
    wake_.notify(sc_core::sc_time::from_value(t > now ? t - now : 0));
  }
}

void Network::run() {
  now_ps_ = sc_core::sc_time_stamp().value();
  next_wake_ = UINT64_MAX;
  while (!queue_.empty() && queue_.top().t <= now_ps_) {
    auto fn = std::move(const_cast<Ev&>(queue_.top()).fn);
    queue_.pop();
    ++events_;
    try {
      fn();
    } catch (const InputError&) {
      error_ = std::current_exception();
      sc_core::sc_stop();
      return;
    }
  }
  if (!queue_.empty() && queue_.top().t < next_wake_) {
    next_wake_ = queue_.top().t;
    wake_.notify(sc_core::sc_time::from_value(next_wake_ - now_ps_));
  }
}

const std::vector<double>& Network::dist_to(uint32_t dst) {
  auto it = dist_cache_.find(dst);
  if (it != dist_cache_.end()) return it->second;
  // Bounded memory on very large systems: about 1 GiB of distance tables, evicting the oldest destination first.
  const size_t cap = std::max<size_t>(64, (size_t(1) << 30) / (sizeof(double) * std::max<size_t>(1, boost::num_vertices(graph_))));
  while (dist_cache_.size() >= cap && !dist_order_.empty()) {
    dist_cache_.erase(dist_order_.front());
    dist_order_.pop_front();
  }
  dist_order_.push_back(dst);
  std::vector<double> dist(boost::num_vertices(graph_), 0);
  boost::dijkstra_shortest_paths(
      graph_, dst,
      boost::weight_map(boost::get(&NetEdge::weight, graph_))
          .distance_map(boost::make_iterator_property_map(dist.begin(), boost::get(boost::vertex_index, graph_))));
  return dist_cache_.emplace(dst, std::move(dist)).first->second;
}

uint32_t Network::next_hop(uint32_t v, uint32_t dst, const std::vector<double>& dist, uint64_t flow, uint32_t* link) {
  // Adaptive: among the equal-cost next hops, the one where a chunk would finish first; ties go to the flow's hash
  // for determinism. Two passes over the edges instead of collecting candidates: this runs once per hop.
  const double tol = 1e-12 + 1e-9 * dist[v];
  auto candidate = [&](const NetGraph::edge_descriptor& e, uint32_t* li, double* cost) {
    const uint32_t u = uint32_t(boost::target(e, graph_));
    if (std::abs(graph_[e].weight + dist[u] - dist[v]) > tol) return false;
    const uint32_t id = graph_[e].id;
    *li = 2 * id + (links_[2 * id].from == v ? 0 : 1);
    const DLink& L = links_[*li];
    *cost = double(std::max(L.srv.free_at_ps(), now_ps_)) + (L.bw > 0 ? 1e12 * ref_bytes_ / L.bw : 0);
    return true;
  };
  double best = 1e300;
  uint64_t ties = 0;
  uint32_t li;
  double cost;
  for (auto [e, end] = boost::out_edges(v, graph_); e != end; ++e) {
    if (!candidate(*e, &li, &cost)) continue;
    if (cost < best - 0.5) { best = cost; ties = 0; }
    if (cost <= best + 0.5) ++ties;
  }
  if (!ties) throw std::logic_error("network: no route");
  uint64_t pick = ties == 1 ? 0 : mix64(flow ^ (uint64_t(v) << 32)) % ties;
  for (auto [e, end] = boost::out_edges(v, graph_); e != end; ++e) {
    if (!candidate(*e, &li, &cost) || cost > best + 0.5) continue;
    if (pick-- == 0) {
      *link = li;
      return links_[li].to;
    }
  }
  throw std::logic_error("network: no route");
}

// One part of a message on its way: it reserves a link when its head reaches that link's start, so a link's queue
// holds only what has really arrived there (reserving a whole route ahead would leave holes in downstream queues).
struct Network::Transit {
  uint32_t dst = 0;
  double wire = 0;
  uint64_t flow = 0;
  uint64_t prev_end = 0, prev_lat = 0;
  uint32_t prev_link = UINT32_MAX;
  std::shared_ptr<Join> join;
};
struct Network::Join {
  int parts = 0;
  uint64_t last = 0;
  Arrival arrived;
};

void Network::hop(Transit tr, uint32_t v, uint64_t t, uint32_t forced_link) {
  uint32_t li, u;
  if (forced_link != UINT32_MAX) {
    li = forced_link;
    u = links_[li].to;
  } else {
    u = next_hop(v, tr.dst, dist_to(tr.dst), tr.flow, &li);
  }
  DLink& L = links_[li];
  const uint64_t start = std::max(t, L.srv.free_at_ps());
  // A switch that cannot buffer the wait stalls the link feeding it (credit back-pressure).
  if (tr.prev_link != UINT32_MAX && L.buffer_bytes > 0 && L.bw > 0) {
    const uint64_t buf_ps = to_ps(L.buffer_bytes / L.bw);
    if (start > t + buf_ps) links_[tr.prev_link].srv.hold_until(start - buf_ps);
  }
  uint64_t end = L.srv.reserve(start, tr.wire);
  const double busy = double(end - start) * 1e-12;
  if (tr.prev_link != UINT32_MAX && end < tr.prev_end + tr.prev_lat) {
    end = tr.prev_end + tr.prev_lat;  // the tail cannot arrive faster than the slower link before delivers it
    L.srv.hold_until(end);
  }
  L.elem->carry(tr.wire, busy);
  // The switch port this link feeds is busy while the link delivers into it.
  if (L.into_switch && graph_[u].device < 0) L.into_switch->carry(tr.wire, busy);
  tr.prev_end = end;
  tr.prev_lat = L.latency_ps;
  tr.prev_link = li;
  if (u == tr.dst) {
    Join& j = *tr.join;
    j.last = std::max(j.last, end + L.latency_ps);
    if (--j.parts == 0) at(j.last, [join = tr.join] { join->arrived(join->last); });
    return;
  }
  const uint64_t head = start + L.latency_ps;
  at(head, [this, tr = std::move(tr), u, head]() mutable { hop(std::move(tr), u, head, UINT32_MAX); });
}

void Network::send(uint32_t src, uint32_t dst, double bytes, uint64_t delay_ps, uint64_t flow, Arrival arrived) {
  const uint64_t t = now_ps_ + delay_ps;
  if (src == dst || bytes <= 0) {
    at(t, [arrived = std::move(arrived), t] { arrived(t); });
    return;
  }
  const double wire = bytes / spec_.collectives.protocol_efficiency;
  const auto& dist = dist_to(dst);
  if (dist[src] >= std::numeric_limits<double>::max() / 2)
    throw InputError("network: device " + std::to_string(src) + " cannot reach device " + std::to_string(dst));
  // Parallel planes (a GPU's links to several switches, equal-cost torus directions) carry one message striped
  // across them in proportion to their bandwidth, as NVLink interleaves addresses over its links.
  std::vector<std::pair<uint32_t, double>> planes;
  const double tol = 1e-12 + 1e-9 * dist[src];
  double total = 0;
  for (auto [e, end] = boost::out_edges(src, graph_); e != end; ++e) {
    uint32_t u = uint32_t(boost::target(*e, graph_));
    if (std::abs(graph_[*e].weight + dist[u] - dist[src]) > tol) continue;
    const uint32_t id = graph_[*e].id, li = 2 * id + (links_[2 * id].from == src ? 0 : 1);
    planes.push_back({li, links_[li].bw});
    total += links_[li].bw;
  }
  auto join = std::make_shared<Join>();
  join->arrived = std::move(arrived);
  Transit tr;
  tr.dst = dst;
  tr.flow = flow;
  tr.join = join;
  if (planes.size() > 1 && total > 0 && wire >= 65536) {
    join->parts = int(planes.size());
    for (auto [li, bw] : planes) {
      Transit part = tr;
      part.wire = wire * bw / total;
      hop(std::move(part), src, t, li);
    }
  } else {
    join->parts = 1;
    tr.wire = wire;
    hop(std::move(tr), src, t, UINT32_MAX);
  }
}

void Network::push(Pipe& p, double bytes, Arrival arrived) {
  p.queue.emplace_back(bytes, std::move(arrived));
  pump(p);
}

void Network::pump(Pipe& p) {
  const uint64_t step = to_ps(spec_.collectives.step_latency_s);
  while (p.inflight < spec_.collectives.window && !p.idle()) {
    auto [b, cb] = std::move(p.queue[p.head++]);
    if (p.idle()) { p.queue.clear(); p.head = 0; }
    ++p.inflight;
    send(p.src, p.dst, b, step, p.flow, [this, &p, cb = std::move(cb)](uint64_t t) {
      --p.inflight;
      cb(t);
      pump(p);
    });
  }
}

uint64_t Network::reduce_at(uint32_t sw, double bytes) {
  SwitchTemplate* s = graph_[sw].sw;
  auto& srv = reducers_[sw];
  if (srv.unlimited()) srv.configure(s->reduction_bandwidth());
  return srv.reserve(now_ps_, bytes);
}

std::vector<uint32_t> Network::shared_reduction_switches(const std::vector<int64_t>& devs) const {
  std::vector<uint32_t> out;
  if (devs.empty()) return out;
  for (auto [e, end] = boost::out_edges(uint32_t(devs[0]), graph_); e != end; ++e) {
    uint32_t s = uint32_t(boost::target(*e, graph_));
    if (!graph_[s].sw || graph_[s].sw->reduction_bandwidth() <= 0) continue;
    bool all = true;
    for (size_t i = 1; i < devs.size() && all; ++i) all = boost::edge(uint32_t(devs[i]), s, graph_).second;
    if (all) out.push_back(s);
  }
  return out;
}

double Network::edge_bandwidth(uint32_t a, uint32_t b) const {
  auto [e, ok] = boost::edge(a, b, graph_);
  if (!ok) return 0;
  return links_[2 * graph_[e].id].bw;
}

void Network::set_circuits(OcsState& st, Circuits next) {
  for (uint32_t id : st.edge_ids) remove_edge_id(id);
  st.edge_ids.clear();
  st.circuits = std::move(next);
  // Each device's fibres are split evenly among its peers; a circuit gets what both ends can give it.
  const double ports = st.link->lanes();
  auto peers = peers_of(st.circuits);
  for (auto [a, b] : st.circuits) {
    const double p = std::max(1.0, std::floor(ports / double(std::max(peers[a], peers[b]))));
    st.edge_ids.push_back(connect(uint32_t(a), uint32_t(b), st.link, p / ports, true));
  }
  dist_cache_.clear();
  dist_order_.clear();
}

Network::OcsState* Network::ocs_for(const std::vector<std::pair<int64_t, int64_t>>& pairs) {
  // All pairs of one call lie in the same OCS instance, or not on an OCS at all; fixed circuits need no management.
  for (auto [a, b] : pairs) {
    const int i = ocs_tier_of_device_[size_t(a)];
    if (i >= 0 && i == ocs_tier_of_device_[size_t(b)]) {
      OcsState* st = ocs_[size_t(i)].get();
      return st->policy == "ring" || st->policy == "torus" ? nullptr : st;
    }
  }
  return nullptr;
}

void Network::with_circuits(const std::vector<std::pair<int64_t, int64_t>>& pairs, std::function<void()> go) {
  OcsState* sp = ocs_for(pairs);
  if (!sp) { go(); return; }
  OcsState& st = *sp;
  Circuits want;
  for (auto [a, b] : pairs)
    if (a != b) want.insert(std::minmax(a, b));
  const int64_t ports = int64_t(st.link->lanes());
  // The circuits this call would set: what it needs (with earlier ones kept under `accumulate`), or a torus when
  // a device would need more peers than it has fibres (traffic then relays through devices).
  Circuits next = want;
  if (st.policy == "accumulate") {
    Circuits merged = st.circuits;
    merged.insert(want.begin(), want.end());
    if (most_peers(merged) <= ports) next = merged;
  }
  if (most_peers(next) > ports) next = torus_circuits(st.first, torus_dims(st.count, ports));
  const bool have = std::includes(st.circuits.begin(), st.circuits.end(), want.begin(), want.end()) ||
                    next == st.circuits;
  if (have && now_ps_ >= st.ready_ps) { ++st.users; go(); return; }
  if (have) { ++st.users; at(st.ready_ps, std::move(go)); return; }
  if (st.users > 0) { st.pending.emplace_back(pairs, std::move(go)); return; }
  set_circuits(st, std::move(next));
  // Mirrors move only when no light crosses them: after the last transfer so far, plus the reconfiguration time.
  const double reconf = st.sw->reconfiguration_s();
  st.sw->count_reconfiguration(reconf);
  st.ready_ps = std::max(now_ps_, st.ready_ps) + to_ps(reconf);
  ++st.users;
  at(st.ready_ps, std::move(go));
}

void Network::release_circuits(const std::vector<std::pair<int64_t, int64_t>>& pairs) {
  OcsState* st = ocs_for(pairs);
  if (!st || --st->users > 0 || st->pending.empty()) return;
  auto pending = std::move(st->pending);
  st->pending.clear();
  for (auto& [p, go] : pending) with_circuits(p, std::move(go));
}

}  // namespace xpu
