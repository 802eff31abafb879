#pragma once
// The system network as a discrete-event model: every copy of the device and every switch is a vertex of a Boost.Graph,
// every link an edge whose two directions are bandwidth servers. A message reserves each link of its route in turn
// (cut-through: the head moves on after the link latency, the tail cannot pass a slower upstream link), so flows that
// share a link queue behind each other and contention emerges from the event queue. Routes are the least-cost paths
// (latency plus serialisation of a reference chunk); among equal-cost next hops a message takes the least loaded
// (adaptive routing) or the one its flow hashes to (ECMP). Collectives are chunked, pipelined schedules of such
// messages, run for every group of devices that takes part.
#include <boost/graph/adjacency_list.hpp>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <set>
#include <systemc>
#include <unordered_map>
#include <vector>

#include "models/bandwidth_server.h"
#include "models/network/net_element.h"
#include "sim/network/max_min.h"
#include "sim/network/interconnect.h"
#include "sim/network/network_spec.h"

namespace xpu {

struct NetVertex {
  int64_t device = -1;                 // device number, or -1 for a switch
  SwitchTemplate* sw = nullptr;
};
struct NetEdge {
  uint32_t id = 0;                     // index of the pair of directed links
  double weight = 0;                   // routing cost
};
using NetGraph = boost::adjacency_list<boost::listS, boost::vecS, boost::undirectedS, NetVertex, NetEdge, boost::no_property,
                                       boost::listS>;

class Network : public sc_core::sc_module, public Interconnect {
 public:
  SC_HAS_PROCESS(Network);
  // `elements` maps component names to the link and switch templates the tiers name.
  Network(sc_core::sc_module_name name, const NetworkSpec& spec, const std::map<std::string, NetElement*>& elements);
  ~Network() override;

  int64_t devices() const override { return spec_.devices; }
  void start(const CollectiveCall& call, std::function<void(const CollectiveOutcome&)> done) override;

  // ---- primitives the collective algorithms use ----
  using Arrival = std::function<void(uint64_t at_ps)>;
  uint64_t now_ps() const { return now_ps_; }
  void at(uint64_t t_ps, std::function<void()> fn);
  // Sends `bytes` of payload from vertex `src` to `dst` no earlier than now + `delay_ps`; `arrived` runs when the last
  // byte is there. `flow` seeds the ECMP hash.
  void send(uint32_t src, uint32_t dst, double bytes, uint64_t delay_ps, uint64_t flow, Arrival arrived);
  // A sender-to-peer queue that keeps at most `window` messages in flight, so that flows sharing a link interleave.
  struct Pipe {
    Pipe() = default;
    Pipe(uint32_t from, uint32_t to, uint64_t flow_id) : src(from), dst(to), flow(flow_id) {}
    uint32_t src = 0, dst = 0;
    uint64_t flow = 0;
    int inflight = 0;
    // Messages not yet sent, oldest at `head`: a vector allocates nothing until the first message (a collective on
    // thousands of devices makes hundreds of thousands of pipes; a std::deque allocates on construction).
    std::vector<std::pair<double, Arrival>> queue;
    size_t head = 0;
    bool idle() const { return head == queue.size(); }
  };
  void push(Pipe& p, double bytes, Arrival arrived);
  // In-network reduction of `bytes` at switch vertex `sw`; returns when the reduced bytes are ready.
  uint64_t reduce_at(uint32_t sw, double bytes);

  const NetworkSpec& spec() const { return spec_; }
  const CollectiveSettings& settings() const { return spec_.collectives; }
  // Tier-0 instance (node) of a device, and the like for any tier.
  int64_t instance_of(int64_t device, size_t tier) const { return device / spec_.tiers[tier].group; }
  // The reduction switches every device of `devices` attaches to directly (all of them, or none).
  std::vector<uint32_t> shared_reduction_switches(const std::vector<int64_t>& devices) const;
  // Bandwidth of the direct edge between two vertices (0 when not adjacent).
  double edge_bandwidth(uint32_t a, uint32_t b) const;
  // Optical circuit tiers: make sure circuits for these device pairs exist, then call `go` (after any reconfiguration).
  void with_circuits(const std::vector<std::pair<int64_t, int64_t>>& pairs, std::function<void()> go);
  void release_circuits(const std::vector<std::pair<int64_t, int64_t>>& pairs);
  uint64_t events() const { return events_; }

  // ---- fluid flows (the flow engine) ----
  // Collectives run as fluid flows when the engine is `flow` (or `auto` on a system of `flow_from` devices or more,
  // without optical circuits): no chunks, no per-hop events, rates shared max-min fairly and recomputed only when a
  // flow starts or ends.
  bool fluid() const { return fluid_; }
  struct Stream {
    uint32_t src = 0, dst = 0;
    double weight = 1;  // payload bytes this stream moves per unit of its flow
    bool operator==(const Stream& o) const { return src == o.src && dst == o.dst && weight == o.weight; }
    bool operator!=(const Stream& o) const { return !(*this == o); }
  };
  // How a coupled flow moves: `units` payload bytes per unit-weight stream in chunks of `chunk`, at most `in_flight`
  // chunks per stream on their way (the chunk engine's window), each chunk hop taking its serialisation at the
  // route's bandwidth, the path latency and the step synchronisation. That hop time caps the rate (in_flight chunks
  // per hop), `fill_hops` more hops follow the last chunk (a pipeline's depth), and `extra_ps` is added at the end.
  // `mean_hop`: the data passes the streams in turn (a ring, a chain, a tree's levels), so a hop takes the streams'
  // mean time, else the slowest stream's.
  struct FluidShape {
    double units = 0, chunk = 0, in_flight = 1, fill_hops = 0;
    uint64_t extra_ps = 0;
    bool mean_hop = false;
    double copies = 1;  // identical, link-disjoint groups this flow stands for (energy counted for all)
    double critical_s = 0;  // > 0: one chunk's time through the whole pipeline (a tree's slowest branch up and down)
  };
  // One chunk's hop from `src` to `dst` alone: path latency, step synchronisation and serialisation.
  double hop_time(uint32_t src, uint32_t dst, double chunk);
  // Moves a coupled flow over all `streams` at one shared rate, striped over the equal-cost paths as adaptive routing
  // and NVLink's address interleaving spread a message; `arrived` runs when it is delivered. `more` adds non-link
  // resources (reduction units) with their bytes per unit.
  void fluid_send(const std::vector<Stream>& streams, const FluidShape& shape, Arrival arrived,
                  const MaxMinFlows::Use& more = {});
  // The fluid resource of a switch's in-network reduction unit.
  uint32_t reducer_resource(uint32_t sw);
  double reduction_bandwidth(uint32_t sw) const { return graph_[sw].sw->reduction_bandwidth(); }
  // A user error raised inside a network event (an unreachable device) stops the simulation and is kept here.
  std::exception_ptr error() const { return error_; }

 private:
  struct DLink {
    BandwidthServer srv;
    uint64_t latency_ps = 0;   // link latency plus the traversal latency of the switch it enters
    double buffer_bytes = 0;   // of the switch output it enters (0: unbounded)
    double bw = 0;
    LinkTemplate* elem = nullptr;
    SwitchTemplate* into_switch = nullptr;
    uint32_t from = 0, to = 0;
    bool alive = true;
  };
  struct OcsState;

  void run();
  void pump(Pipe& p);
  void build();
  void fat_tree(const std::vector<uint32_t>& ends, LinkTemplate* link, SwitchTemplate* sw, const TierSpec& t,
                const std::string& at, int64_t all_pods, std::vector<uint32_t>& cores);
  uint32_t add_switch(SwitchTemplate* sw);
  using Circuits = std::set<std::pair<int64_t, int64_t>>;
  void set_circuits(OcsState& st, Circuits next);
  OcsState* ocs_for(const std::vector<std::pair<int64_t, int64_t>>& pairs);
  uint32_t connect(uint32_t a, uint32_t b, LinkTemplate* link, double lanes_share, bool circuit = false);
  void remove_edge_id(uint32_t id);
  const std::vector<double>& dist_to(uint32_t dst);
  struct Transit;
  struct Join;
  void hop(Transit tr, uint32_t v, uint64_t t, uint32_t forced_link);
  uint32_t next_hop(uint32_t v, uint32_t dst, const std::vector<double>& dist, uint64_t flow, uint32_t* link);
  std::vector<std::vector<int64_t>> groups_of(const CollectiveCall& call) const;
  // Whether every group is group 0 moved by whole instances of the smallest tier holding it, with no link in common
  // between the routes of group 0 and those of the others (checked against the second and the last group).
  bool disjoint_translates(const std::vector<std::vector<int64_t>>& groups);

  NetworkSpec spec_;
  std::map<std::string, NetElement*> elements_;
  NetGraph graph_;
  std::vector<DLink> links_;                      // 2 per edge id
  std::vector<NetGraph::edge_descriptor> edge_of_;
  std::unordered_map<uint32_t, std::vector<double>> dist_cache_;
  std::deque<uint32_t> dist_order_;  // cached destinations, oldest first
  std::vector<std::unique_ptr<OcsState>> ocs_;
  std::vector<int> ocs_tier_of_device_;          // index into ocs_ per device, -1 if none
  struct Ev { uint64_t t, seq; std::function<void()> fn; bool operator>(const Ev& o) const { return t != o.t ? t > o.t : seq > o.seq; } };
  std::priority_queue<Ev, std::vector<Ev>, std::greater<Ev>> queue_;
  uint64_t seq_ = 0, now_ps_ = 0, events_ = 0, next_wake_ = UINT64_MAX;
  std::unordered_map<uint32_t, BandwidthServer> reducers_;  // in-network reduction units per switch vertex
  double ref_bytes_ = 1048576.0;
  sc_core::sc_event wake_;
  std::exception_ptr error_;
  std::vector<std::shared_ptr<void>> running_, finished_;  // collective runs, kept alive until after they finish

  // Fluid engine state. Routes are found by a bidirectional Dijkstra on a compressed copy of the graph and kept per
  // (source, destination).
  struct FluidRoute {
    MaxMinFlows::Use use;    // directed link, share of the stream's bytes
    uint64_t latency_ps = 0;
    double min_bw = 0;       // what the stream gets alone over its spread, bytes/s
  };
  struct FluidFlow {
    double left = 0, rate = 0;  // units left as of `since_ps`, moving at `rate` units/s since
    uint64_t tail_ps = 0, since_ps = 0, version = 0;
    Arrival arrived;
  };
  struct Due {
    uint64_t t;
    uint32_t id;
    uint64_t version;
    bool operator>(const Due& o) const { return t > o.t; }
  };
  const FluidRoute& fluid_route(uint32_t src, uint32_t dst);
  struct FluidAgg {
    std::vector<Stream> streams;
    MaxMinFlows::Use use;  // wire bytes per unit on each link, all streams together
    double lat_max = 0, lat_sum = 0, inv_max = 0, inv_sum = 0, paths = 0;  // path latency (s), s per byte alone
  };
  std::unordered_map<uint64_t, FluidAgg> aggs_;
  void fluid_update();
  void build_csr();
  bool fluid_ = false;
  MaxMinFlows mm_;
  std::vector<FluidFlow> ff_;
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> ff_due_;  // finish times; stale versions skipped
  uint64_t ff_gen_ = 0, ff_wake_ps_ = UINT64_MAX;
  bool ff_pending_ = false;
  std::unordered_map<uint64_t, FluidRoute> routes_;
  std::unordered_map<uint32_t, uint32_t> reducer_ids_;
  struct CsrEdge { uint32_t to, link; double weight; };
  std::vector<uint32_t> csr_off_;
  std::vector<CsrEdge> csr_;
  std::vector<double> sp_dist_;
  std::vector<char> sp_done_;
  std::vector<uint32_t> sp_touched_;
  std::vector<double> fw_dist_;  // the forward half of the bidirectional search
  std::vector<char> fw_done_;
  std::vector<uint32_t> fw_touched_;
  bool prune_transit_ = false;  // outer tiers all switched: devices of other nodes relay nothing
  std::vector<int64_t> node_of_;  // first-tier instance of each vertex's device, -1 for a switch
};

}  // namespace xpu
