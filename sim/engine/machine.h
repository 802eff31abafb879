#pragma once
// One device elaborated from its hardware config: the SystemC modules the registry built, the connections as data
// path elements, and the core's, engines' and offload tier's paths to memory bound. simulate() runs these steps in
// order; an engine that runs many steps in one elaboration (serving, multi-rank replay) reuses them.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "models/compute_core.h"
#include "models/host.h"
#include "models/op_engine.h"
#include "sim/component/component.h"
#include "sim/config/hardware.h"
#include "sim/engine/edge_port.h"
#include "sim/engine/kernel_memo.h"
#include "sim/engine/result.h"
#include "sim/engine/simulation.h"
#include "sim/network/network.h"
#include "sim/workload/footprint.h"

namespace xpu {

struct Machine {
  const HardwareConfig* hw = nullptr;
  std::vector<std::unique_ptr<Component>> components;  // in config order
  std::vector<std::unique_ptr<EdgePort>> edges;        // one per connection, in config order
  size_t core_index = 0, memory_index = 0;
  ComputeCore* core = nullptr;
  HostModule* host = nullptr;
  CacheLevel* cache = nullptr;               // the first cache on the core's path to memory (none: nullptr)
  std::vector<OpEngine*> engines;            // engines beside the core, each with its path to memory bound
  double in_engine_bytes = 0;                // resident bytes the engines hold instead of device memory
  OffloadTier* offload = nullptr;            // the memory pool the core reaches, if any
  std::set<std::string> offloaded;           // resident tensors kept in the offload tier
  double offloaded_bytes = 0;
  std::unique_ptr<Network> network;          // the `network:` tiers joining copies of the device

  MainMemory& memory() const { return *dynamic_cast<MainMemory*>(components[memory_index].get()); }
};

// Every component through the registry (keyed by its YAML `type`) and every connection as an EdgePort. Exactly one
// compute core and one host are required.
void build_components_and_edges(const HardwareConfig& hw, Machine& m);
// The core's data path to the nearest main memory by hops: blocks up to the first cache serve hits, the rest serve
// misses.
void bind_core_data_path(Machine& m);
// Engines beside the core (CIM tiles) get their own path to main memory and place their stationary data for `wl`.
void place_engines(const Workload& wl, Machine& m);
// An offload tier (a memory pool) on a path from the core keeps whole classes of resident tensors; refuses a
// workload whose offloaded share exceeds the pool's when `check_memory`.
void bind_offload_tier(const Workload& wl, const Footprint& need, bool check_memory, Machine& m);
// A workload that does not fit the device memory (after the engines and the pool took their share) is refused.
void check_device_memory(const Workload& wl, const Footprint& need, const Machine& m);
// Warm start: what the workload reads but never writes is left in the cache by the previous replay of the same work.
void warm_cache_with_inputs(const Workload& wl, Machine& m);
// The copies of the device joined by the config's `network:` tiers (none without one).
void build_network(Machine& m);
// The blocks and connections whose counters a kernel changes, for the kernel memo: not the host (it counts its
// launches itself) and not the network's links and switches.
DeviceCounters device_counters(Machine& m);

// After the run: headline figures (time, busy, flops, bytes, ceilings), one record per component and per used
// connection with its energy at the scope it counts in, the effective config and the memory footprint.
void collect_headline(const Workload& wl, const Machine& m, double total_s, RunResult& res);
void collect_component_records(const Machine& m, double total_s, RunResult& res);
void collect_memory_record(const Footprint& need, const Machine& m, RunResult& res);
// The device's price and the run's TCO (after the energy and items are known); nothing without a `technology:`.
void collect_cost(const HardwareConfig& hw, const TcoOptions& o, RunResult& res);

}  // namespace xpu
