#include "sim/serve/max_rate.h"

#include <cmath>

#include "sim/config/errors.h"
#include "sim/engine/isolated_run.h"

namespace xpu {

std::vector<Request> at_rate(const std::vector<Request>& requests, double base_rate, double rate) {
  std::vector<Request> out = requests;
  const double scale = base_rate / rate;
  for (auto& r : out) r.arrival_s *= scale;
  return out;
}

MaxRateResult find_max_rate(const HardwareConfig& hw, const ParamSet& model, const std::string& model_name,
                            const std::vector<Request>& requests, double base_rate, const ServeOptions& o,
                            const Slo& slo, double tolerance, const std::function<void(const RateProbe&)>& on_probe) {
  if (!slo.any()) throw InputError(SourceMark{"--find-max-rate", 0, 0}, "needs --slo ttft=TIME and/or tbt=TIME");
  if (!(base_rate > 0)) throw std::logic_error("find_max_rate: the stream has no rate");
  MaxRateResult res;
  auto probe = [&](double rate) {
    ServeOptions po = o;
    po.progress = nullptr;
    nlohmann::json j = run_in_child([&] {
      ServeResult r = serve(hw, model, model_name, at_rate(requests, base_rate, rate), po);
      nlohmann::json s = serve_json(r, serve_metrics(r, slo), slo);
      s.erase("per_request");
      s.erase("iterations_timeline");
      return s;
    });
    RateProbe p;
    p.rate = rate;
    const double n = j["requests"].get<double>();
    const double good = j["goodput_requests"].get<double>();
    p.attainment = n > 0 ? good / n : 0;
    p.meets = p.attainment + 1e-9 >= slo.attainment;
    p.summary = std::move(j);
    res.probes.push_back(p);
    if (on_probe) on_probe(p);
    return p.meets;
  };
  // Bracket the answer by doubling or halving from the stream's own rate, then bisect in log space.
  double lo = 0, hi = 0;
  double r = base_rate;
  if (probe(r)) {
    lo = r;
    for (int i = 0; i < 30; ++i) {
      r *= 2;
      if (!probe(r)) {
        hi = r;
        break;
      }
      lo = r;
    }
    if (hi == 0) {
      res.max_rate = lo;
      return res;
    }  // still met at 2^30 x: the stream cannot load the system
  } else {
    hi = r;
    // Requests longer than the whole KV cache are refused at any rate: if they alone miss the attainment, no rate
    // meets the SLO.
    res.refused_share = res.probes.back().summary["rejected"].get<double>() /
                        std::max(1.0, res.probes.back().summary["requests"].get<double>());
    if (res.refused_share > 1 - slo.attainment + 1e-12) return res;
    for (int i = 0; i < 30; ++i) {
      r /= 2;
      if (probe(r)) {
        lo = r;
        break;
      }
      hi = r;
    }
    if (lo == 0) return res;  // not even a trickle meets the SLO
  }
  while (hi / lo > 1 + tolerance) {
    const double mid = std::sqrt(lo * hi);
    if (probe(mid))
      lo = mid;
    else
      hi = mid;
  }
  res.max_rate = lo;
  return res;
}

}  // namespace xpu
