#pragma once
// What a simulation run produced, as plain data: the reports (summary, JSON, CSV, Chrome trace) read only this.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "models/tile_record.h"
#include "sim/cost/device_cost.h"

namespace xpu {

// Why an op took the time it did: the resource whose demand came closest to the op's duration.
// dependency: idle while other devices work (a pipeline bubble).
enum class Bound { compute, memory, cache, latency, interconnect, measured, dependency, programming };
constexpr size_t kBoundCount = 8;
const char* bound_name(Bound b);

struct OpRecord {
  size_t index = 0;
  std::string name, kind, variant, layer, dtype;
  std::string unit;           // component that executed it
  double start_s = 0, end_s = 0;
  double flops = 0;
  double bytes = 0;           // bytes moved to/from main memory (HBM) by this op
  double cache_bytes = 0;     // bytes served by the on-chip cache (hits)
  double min_bytes = 0;       // each input read once, each output written once
  double net_bytes = 0;       // a collective's payload per device over the network
  uint64_t tiles = 0;
  uint64_t waves = 0;         // ceil(tiles / concurrent tile slots)
  double compute_s = 0;       // time the work would take at the unit's peak compute rate
  double memory_s = 0;        // time its main-memory bytes take at peak bandwidth
  double cache_s = 0;         // time its cache bytes take at peak cache bandwidth
  double launch_s = 0;        // launch overhead and fixed latencies
  Bound bound = Bound::latency;
  double energy_j = 0;        // dynamic energy attributed to the op
  double clock_hz = 0;        // the unit's clock while it ran (the power cap may hold it below the maximum); 0: none
  bool modelled = true;       // false: executed with its measured duration (trace ops the simulator does not model)
  std::string mapping;        // how the mapper lowered it (tile shape, schedule, splits)
  int64_t rank = -1;          // the replayed rank it ran on (multi-rank replay); -1: the one simulated device
  double duration_s() const { return end_s - start_s; }
};

struct ComponentRecord {
  std::string name, type;
  double area_mm2 = 0;
  double energy_dynamic_j = 0, energy_static_j = 0;
  double data_movement_j = 0;   // part of the dynamic energy that moved data
  double utilization = 0;       // busy time / total time (0..1) where the kind defines busy
  nlohmann::json stats;         // every declared statistic: {"name": value}
  std::string scope = "device"; // device: one device's block (its figures are per device); system: network blocks
  double copies = 1;            // how many times its energy counts in the system total (the device count for device blocks)
};

struct RunResult {
  std::string hw_name, hw_file, workload_name, workload_file, workload_description;
  double items = 0;            // tokens or samples the whole job produced per step (0: not known)
  double items_per_replica = 0; // the same for one data-parallel replica (the workload's own count)
  int64_t replicas = 1;         // data-parallel replicas of the job
  int64_t job_devices = 1;      // devices the job runs on (tp x pp x dp); the system's others are idle, not counted
  std::string item;
  double total_time_s = 0;
  double gpu_busy_s = 0;        // sum of op durations on the device (a profiler's kernel sum): overlapping streams
                                // (collectives beside compute) can make it exceed the run; pipeline bubbles excluded
  double gpu_active_s = 0;      // time with at least one op running on the device (never more than the run)
  double max_clock_hz = 0, sustained_clock_hz = 0;  // per device: the configured clock, and the busy-weighted one
  double tdp_w = 0;             // the power cap the governor held (0: none)
  int64_t devices = 1;          // copies of the device in the system (network.devices)
  double energy_j = 0;          // dynamic + static, whole system (every device and the network)
  double energy_compute_j = 0;  // dynamic energy of arithmetic
  double energy_data_j = 0;     // dynamic energy of data movement (memories, caches, NoC, links)
  double energy_static_j = 0;
  double area_mm2 = 0;
  DeviceCost cost;  // area by block, yield, price and full-load power per device (present with a `technology:`)
  Tco tco;          // the job's devices amortised plus the run's energy, per step and per million items
  double flops = 0, hbm_bytes = 0;
  double peak_flops = 0, peak_hbm_bw = 0;  // ceilings of the machine for the dominant dtype
  // The software stack (sim/workload/stack.h) and what its fusion did: kernels run, kernels the eager graph had, bytes
  // of intermediate tensors kept on chip (per device).
  std::string stack = "eager";
  size_t kernels = 0, eager_kernels = 0;
  double fused_bytes = 0;
  int64_t ranks_replayed = 0;   // > 0: a multi-rank replay, whose per-device figures are means over its ranks
  uint64_t events = 0;          // simulation events processed (tile completions and op launches)
  double wall_s = 0;            // host time the simulation took
  std::vector<OpRecord> ops;
  std::vector<TileRecord> tiles;
  std::vector<ComponentRecord> components;
  nlohmann::json effective_config;  // hardware config after overlays and -p overrides
  nlohmann::json memory;            // footprint against capacity: weights, KV cache, optimizer, peak activations
  nlohmann::json analysis;     // sim/analysis.h: time split by bound, critical path, slack, roofline
};

}  // namespace xpu
