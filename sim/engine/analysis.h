#pragma once
// Why a run took its time: the wall-clock split by what bound the running ops (or nothing running), the critical
// path through the dependency DAG as simulated with each op's slack, and a roofline placement of every op.
#include <array>
#include <map>
#include <string>
#include <nlohmann/json.hpp>
#include <vector>

#include "sim/engine/result.h"
#include "sim/workload/op.h"

namespace xpu {

struct RooflinePoint {
  size_t op = 0;
  double intensity = 0;  // FLOP per byte of main memory (of its minimum traffic when all of it was served on chip)
  double achieved = 0;   // FLOP/s over the op's duration
};

struct RunAnalysis {
  // Wall time by the bound of the ops running then (overlapping ops share an interval equally); `idle_s`: nothing
  // on the device (launch latency, host dispatch, waiting on the host).
  std::array<double, kBoundCount> time_by_bound{};
  double idle_s = 0;
  std::vector<size_t> critical_path;  // op indices, first to last: each op's latest-ending predecessor (a dependency
                                      // or the op before it on the same unit), back from the op that ends last
  std::vector<double> slack_s;        // per op: how much later it could end, in the schedule as simulated, before a
                                      // chain of its dependents to the end of the run moves (resources not re-scheduled)
  std::vector<RooflinePoint> roofline;
  // Per unit (compute core, engines, network): the share of each of `buckets` equal slices of the run during which
  // it had an op running.
  size_t buckets = 0;
  std::map<std::string, std::vector<double>> busy_over_time;
  double peak_flops = 0, peak_bandwidth = 0, cache_bandwidth = 0;
};

// The per-op lists of the JSON (critical path, roofline points) stop here; per-op figures themselves (ops, slack)
// are complete.
constexpr size_t kMaxListedOps = 10000;

RunAnalysis analyze_run(const RunResult& r, const Workload& wl);
nlohmann::json analysis_to_json(const RunAnalysis& a, const RunResult& r);

}  // namespace xpu
