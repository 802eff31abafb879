#pragma once
// Capacity search: the highest arrival rate at which a share of requests (the SLO's attainment, 90 % by default)
// meets the latency bounds. The stream's arrival times are scaled (a Poisson or gamma stream stays one, with the
// same lengths; a trace keeps its burst pattern), and each rate is one serving run in its own process.
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/serve/serve_engine.h"
#include "sim/serve/serve_report.h"

namespace xpu {

struct RateProbe {
  double rate = 0;        // requests per second
  double attainment = 0;  // share of all requests that met the SLO (rejected ones did not)
  bool meets = false;
  nlohmann::json summary;  // the run's serve_json without per-request and per-iteration arrays
};

struct MaxRateResult {
  double max_rate = 0;            // 0: not even the lowest probed rate meets the SLO
  std::vector<RateProbe> probes;  // in the order run
  double refused_share = 0;       // of the requests, those longer than the KV cache holds (refused at any rate)
};

// `requests` arrive at `base_rate` on average; probes scale their times. `tolerance`: relative width at which the
// bisection stops.
MaxRateResult find_max_rate(const HardwareConfig& hw, const ParamSet& model, const std::string& model_name,
                            const std::vector<Request>& requests, double base_rate, const ServeOptions& o,
                            const Slo& slo, double tolerance,
                            const std::function<void(const RateProbe&)>& on_probe = nullptr);

// The requests with arrival times scaled so that they come at `rate` instead of `base_rate`.
std::vector<Request> at_rate(const std::vector<Request>& requests, double base_rate, double rate);

}  // namespace xpu
