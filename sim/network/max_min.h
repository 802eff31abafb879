#pragma once
// Max-min fair rates for fluid flows on shared resources (links, in-switch reduction units). A flow is a set of
// streams that move together at one rate (a ring's ranks can only forward what they received, so a ring runs at the
// pace of its slowest stream); `use` lists, per resource, the bytes the flow puts on it per unit it moves. Rates come
// from progressive filling: every unfrozen flow rises at the same pace until a resource fills (or the flow reaches
// its own limit), and the flows there keep that rate. This is the fluid model large-scale network simulators use
// (SimGrid, ASTRA-sim's analytical congestion backend); the chunk engine is its exact counterpart.
//
// Solving is incremental: only the flows that share a resource, directly or through other flows, with a flow that
// started or ended since the last solve are recomputed (the rings of different torus lines never meet, so a torus
// all-reduce re-solves one line at a time), and a component whose flows and links are those of one solved before
// (the same collective in every layer, meeting the same load) takes that solution again.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace xpu {

// A 64-bit finaliser (MurmurHash3's): the network's hashes of flows, routes and stream sets.
inline uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

class MaxMinFlows {
 public:
  using Use = std::vector<std::pair<uint32_t, double>>;  // resource, bytes per unit
  // A flow's own limit: a pipeline of `window` units in flight whose every hop takes `latency` plus `serial` (one
  // chunk's serialisation alone) cannot pass window / (latency + serial); where three or more such flows meet on a
  // link, each hop also waits there for half the others' chunks (solve() adds it). Flows whose limits together
  // exceed a link's bandwidth share it max-min fairly.
  struct Pipeline {
    double window = 0, latency = 0, serial = 0;  // window 0: no limit
    double chunk = 0;  // units per chunk: the wait it causes flows that share its links
    double cap() const;
  };
  // `capacity` in bytes/s per resource.
  void set_capacity(uint32_t resource, double bytes_per_s);
  double capacity(uint32_t resource) const { return resource < cap_.size() ? cap_[resource] : 0; }
  // Adds a flow and returns its id (ids are reused after remove).
  uint32_t add(Use use, Pipeline pipe);
  uint32_t add(Use use) { return add(std::move(use), Pipeline()); }
  void remove(uint32_t id);
  // Recomputes the rates (units per second) of the flows connected to those added or removed since the last call
  // and returns their ids; every other flow keeps its rate.
  const std::vector<uint32_t>& solve();
  double rate(uint32_t id) const { return flows_[id].rate; }
  const Use& use(uint32_t id) const { return flows_[id].use; }
  size_t active() const { return active_; }
  uint64_t solves() const { return solves_; }

 private:
  struct Flow {
    Use use;
    std::vector<uint32_t> pos;  // where this flow sits in on_[resource] for each entry of `use`
    double rate = 0, cap = 0;
    Pipeline pipe;
    uint64_t sig = 0;  // hash of what its rate depends on
    bool live = false;
  };
  std::vector<double> cap_;
  std::vector<Flow> flows_;
  std::vector<uint32_t> free_;
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> on_;  // per resource: flow, entry of its `use`
  std::vector<uint32_t> dirty_;            // resources whose flows changed
  size_t active_ = 0;
  uint64_t solves_ = 0;
  // Solutions of components of kReuseFrom flows or more, by a hash of their flows' signatures.
  static constexpr size_t kReuseFrom = 16, kReuseEntries = 256;
  std::unordered_map<uint64_t, std::unordered_map<uint64_t, double>> reuse_;
  // Scratch reused between solves.
  std::vector<char> res_seen_, flow_seen_;
  std::vector<uint32_t> component_, res_list_;
  std::vector<double> demand_, left_;
  std::vector<int32_t> local_;
  std::vector<uint32_t> touched_, start_, members_;
  std::vector<char> frozen_;
  void fill();
};

}  // namespace xpu
