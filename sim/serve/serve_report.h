#pragma once
// What a serving run measured, as the serving literature reports it: per-request time to first token (TTFT), gaps
// between tokens (TBT), end-to-end latency and queueing delay with their percentiles, throughput, goodput under an
// SLO, energy per token, KV-cache occupancy and batch sizes over time.
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/serve/serve_engine.h"

namespace xpu {

struct Slo {
  double ttft_s = 0, tbt_s = 0;  // 0: no bound on that metric
  double attainment = 0.9;       // --find-max-rate: the share of requests that must meet the bounds
  bool any() const { return ttft_s > 0 || tbt_s > 0; }
};
// `ttft=2s,tbt=100ms[,attainment=0.9]` (either bound or both); InputError at "--slo" otherwise.
Slo parse_slo(const std::string& text);

struct Distribution {
  double mean = 0, p50 = 0, p90 = 0, p99 = 0, max = 0;
  size_t count = 0;
};
// Percentiles by linear interpolation between order statistics.
Distribution distribution(std::vector<double> v);

struct ServeMetrics {
  size_t requests = 0, completed = 0, rejected = 0, goodput_requests = 0;
  int64_t output_tokens = 0, prompt_tokens = 0;
  double throughput_tokens_per_s = 0, throughput_requests_per_s = 0, goodput_requests_per_s = 0;
  double energy_per_token_j = 0, average_power_w = 0;
  double mean_in_system = 0;  // time average of requests arrived and not finished (the engine's own count)
  double mean_batch_tokens = 0, mean_batch_seqs = 0, peak_kv_occupancy = 0, mean_kv_occupancy = 0;
  Distribution ttft, tbt, e2e, queue;
};
ServeMetrics serve_metrics(const ServeResult& r, const Slo& slo);
// Devices of every replica of every pool.
int total_devices(const ServeResult& r);
// The price of every device of every pool (0 when a pool's config has no technology price).
double system_cost_usd(const ServeResult& r);

void print_serve_summary(std::ostream& out, const ServeResult& r, const ServeMetrics& m, const Slo& slo);
nlohmann::json serve_json(const ServeResult& r, const ServeMetrics& m, const Slo& slo);

}  // namespace xpu
