#pragma once
// Request-level serving on xpusim's own hardware models: every replica is a device (or a tensor-parallel group) of
// the config elaborated once; requests arrive, a router assigns them, each replica's scheduler forms an iteration's
// batch, and that batch (its matmuls over all tokens, an attention kernel per group of requests with their own KV
// lengths, the tensor-parallel all-reduces) is simulated on the replica's modules as it is formed, in the same
// SystemC elaboration as every other iteration.
#include <functional>
#include <string>
#include <vector>

#include "sim/config/hardware.h"
#include "sim/config/params.h"
#include "sim/engine/simulation.h"
#include "sim/serve/request_stream.h"
#include "sim/serve/scheduler.h"

namespace xpu {

struct ServeOptions {
  SchedulerOptions sched;  // kv_blocks 0: from the memory left after weights and activations
  int replicas = 1;
  // Disaggregated serving (prefill_replicas > 0): prompts on prefill replicas of `hw`, decoding on decode replicas
  // of `decode_hw` (nullptr: `hw`), the KV caches moved between them over `hw`'s network.
  int prefill_replicas = 0, decode_replicas = 0;
  const HardwareConfig* decode_hw = nullptr;
  const ParamSet* decode_model = nullptr;  // the decode pool's model parameters (another tp, pp); nullptr: the same
  std::string router = "round_robin";      // round_robin, least_outstanding
  double memory_fraction = 0.9;            // share of device memory the engine may use (vLLM's gpu_memory_utilization)
  double swap_space_bytes = 0;             // host memory per device for swapped KV caches (0: preempt by recompute)
  std::string stack = "graphs";            // software stack of every iteration (sim/workload/stack.h)
  bool check_memory = true;
  bool reuse = true;  // an iteration identical to one already simulated takes its recorded time
  std::function<void(size_t done, size_t total)> progress;  // requests finished
};

struct ServeSample {  // one iteration of one replica
  int replica = 0;
  int64_t kv_blocks = 0;  // the replica's KV-cache capacity in blocks
  double start_s = 0, end_s = 0;
  int64_t tokens = 0, seqs = 0, prefill_tokens = 0, decodes = 0;
  int64_t kv_blocks_used = 0;
};

struct ServeRequestResult {
  int64_t id = 0;
  int replica = 0;
  double arrival_s = 0, scheduled_s = -1, first_token_s = -1, finish_s = -1;
  int64_t prompt_tokens = 0, output_tokens = 0, generated = 0, preemptions = 0;
  bool completed = false, rejected = false;
  std::vector<double> tbt_s;
  // Mean gap between its tokens (0 with fewer than two tokens).
  double mean_tbt_s() const {
    double sum = 0;
    for (double g : tbt_s) sum += g;
    return tbt_s.empty() ? 0 : sum / double(tbt_s.size());
  }
};

struct ServePool {            // replicas of one config and role
  std::string name, hw_name;  // name: replica, prefill or decode
  int replicas = 0;
  int64_t kv_blocks = 0;                                              // per replica
  double memory_bytes = 0, weights_bytes = 0, activations_bytes = 0;  // per device
  double device_usd = -1;                                             // -1: not priced
  std::string swap_target;        // the block swapped caches go to (the host, or a memory pool)
  int tp = 1, pp = 1;             // each replica's parallel degrees
  double kv_bytes_per_token = 0;  // per device
  int devices_per_replica() const { return tp * pp; }
};

struct ServeResult {
  std::string hw_name, model_name, stack;
  int replicas = 1;          // of every pool
  int64_t block_tokens = 0;  // tokens per KV block
  double duration_s = 0;     // first arrival to last completion
  double energy_j = 0;       // every device of every replica, static included
  int64_t iterations = 0, preemptions = 0, rejected = 0;
  int64_t reused_iterations = 0;            // iterations that took a recorded one's time and counters
  int64_t swaps = 0;                        // preemptions that swapped the cache to host memory
  double swap_bytes = 0, swap_stall_s = 0;  // all devices' bytes each way; iterations' waits for the copies
  uint64_t events = 0;
  std::vector<ServePool> pools;  // one, or prefill and decode: their configs, parallel degrees, KV capacity, price
  const ServePool& first_pool() const { return pools.front(); }  // the one that takes arrivals
  int64_t kv_transfers = 0;                         // disaggregated: caches moved from prefill to decode replicas
  double kv_transfer_bytes = 0, kv_transfer_s = 0;  // all devices' bytes; summed transfer times
  double in_system_area = 0;  // integral over time of requests arrived and not yet finished or rejected (s)
  double wall_s = 0;
  std::vector<ServeRequestResult> requests;
  std::vector<ServeSample> samples;
};

// `model` are the transformer generator's validated parameters (their tp sets the replica's devices).
ServeResult serve(const HardwareConfig& hw, const ParamSet& model, const std::string& model_name,
                  const std::vector<Request>& requests, const ServeOptions& o);

}  // namespace xpu
