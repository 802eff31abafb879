#include "sim/engine/analysis.h"

#include <algorithm>
#include <map>

namespace xpu {

RunAnalysis analyze_run(const RunResult& r, const Workload& wl) {
  RunAnalysis a;
  const size_t n = r.ops.size();
  a.peak_flops = r.peak_flops;
  a.peak_bandwidth = r.peak_hbm_bw;

  // Time split: sweep over op starts and ends.
  std::vector<std::pair<double, int>> ev;  // (time, +1 start of op i+1 / -(i+1) end)
  for (size_t i = 0; i < n; ++i) {
    if (r.ops[i].end_s <= r.ops[i].start_s) continue;
    ev.push_back({r.ops[i].start_s, int(i) + 1});
    ev.push_back({r.ops[i].end_s, -int(i) - 1});
  }
  std::sort(ev.begin(), ev.end(), [](const auto& x, const auto& y) {
    return x.first != y.first ? x.first < y.first : x.second < y.second;  // ends before starts at equal times
  });
  std::map<int, Bound> running;
  double t = 0;
  for (const auto& [time, code] : ev) {
    const double dt = time - t;
    if (dt > 0) {
      if (running.empty()) a.idle_s += dt;
      else
        for (const auto& [op, b] : running) a.time_by_bound[size_t(b)] += dt / double(running.size());
    }
    t = time;
    if (code > 0) running[code] = r.ops[size_t(code - 1)].bound;
    else running.erase(-code);
  }
  if (r.total_time_s > t) a.idle_s += r.total_time_s - t;

  // Critical path, backwards from the op that ends last.
  std::vector<std::vector<size_t>> users(n);
  for (size_t i = 0; i < n && i < wl.ops.size(); ++i)
    for (size_t d : wl.ops[i].deps) users[d].push_back(i);
  std::map<std::string, std::vector<size_t>> by_unit;  // ops of a unit by start
  for (size_t i = 0; i < n; ++i) by_unit[r.ops[i].unit].push_back(i);
  std::vector<size_t> before_on_unit(n, SIZE_MAX);  // the op that started just before on the same unit
  for (auto& [u, v] : by_unit) {
    std::sort(v.begin(), v.end(), [&](size_t x, size_t y) { return r.ops[x].start_s < r.ops[y].start_s; });
    for (size_t k = 1; k < v.size(); ++k) before_on_unit[v[k]] = v[k - 1];
  }
  if (n > 0) {
    size_t cur = 0;
    for (size_t i = 1; i < n; ++i)
      if (r.ops[i].end_s > r.ops[cur].end_s) cur = i;
    std::vector<bool> seen(n, false);
    for (;;) {
      a.critical_path.push_back(cur);
      seen[cur] = true;
      const double start = r.ops[cur].start_s;
      size_t best = SIZE_MAX;
      auto consider = [&](size_t p) {
        if (p == cur || seen[p] || r.ops[p].end_s > start + 1e-12) return;
        if (best == SIZE_MAX || r.ops[p].end_s > r.ops[best].end_s) best = p;
      };
      if (cur < wl.ops.size())
        for (size_t d : wl.ops[cur].deps) consider(d);
      if (before_on_unit[cur] != SIZE_MAX) consider(before_on_unit[cur]);
      if (best == SIZE_MAX) break;
      cur = best;
    }
    std::reverse(a.critical_path.begin(), a.critical_path.end());
  }

  // Slack in the schedule as simulated: how much later an op could end before the end of the run moves. Its
  // successors are its dependents and the next op on its unit; a successor waits for the latest of its predecessors
  // (launch and stream gaps after that are fixed lags), and absorbs what its own slack allows.
  a.slack_s.assign(n, 0);
  if (n == wl.ops.size() && n > 0) {
    std::vector<std::vector<size_t>> succ = users;
    std::vector<double> pred_end(n, 0);
    for (size_t i = 0; i < n; ++i)
      for (size_t d : wl.ops[i].deps) pred_end[i] = std::max(pred_end[i], r.ops[d].end_s);
    for (const auto& [u, v] : by_unit)
      for (size_t k = 1; k < v.size(); ++k) {
        succ[v[k - 1]].push_back(v[k]);
        pred_end[v[k]] = std::max(pred_end[v[k]], r.ops[v[k - 1]].end_s);
      }
    // Reverse order of end time is a valid order: every successor ends after its predecessor.
    std::vector<size_t> order(n);
    for (size_t i = 0; i < n; ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t x, size_t y) { return r.ops[x].end_s > r.ops[y].end_s; });
    for (size_t i : order) {
      double sl = r.total_time_s - r.ops[i].end_s;
      if (!succ[i].empty()) sl = 1e300;
      for (size_t u : succ[i]) sl = std::min(sl, a.slack_s[u] + pred_end[u] - r.ops[i].end_s);
      a.slack_s[i] = std::max(0.0, sl);
    }
  }

  // Busy time per unit over the run: the union of its ops' intervals, spread over equal slices.
  a.buckets = 100;
  if (r.total_time_s > 0)
    for (const auto& [unit, v] : by_unit) {
      std::vector<double>& b = a.busy_over_time[unit];
      b.assign(a.buckets, 0);
      const double w = r.total_time_s / double(a.buckets);
      double cs = -1, ce = -1;
      auto flush = [&]() {
        if (ce <= cs) return;
        for (size_t k = size_t(std::max(0.0, cs / w)); k < a.buckets && double(k) * w < ce; ++k)
          b[k] += std::max(0.0, std::min(ce, double(k + 1) * w) - std::max(cs, double(k) * w)) / w;
      };
      for (size_t i : v) {  // ops sorted by start
        if (r.ops[i].start_s > ce) { flush(); cs = r.ops[i].start_s; ce = r.ops[i].end_s; }
        else ce = std::max(ce, r.ops[i].end_s);
      }
      flush();
      for (double& x : b) x = std::min(1.0, x);
    }

  for (size_t i = 0; i < n; ++i) {
    const OpRecord& o = r.ops[i];
    if (o.flops <= 0 || o.duration_s() <= 0) continue;
    // An op served entirely on chip has no main-memory bytes: place it by its minimum traffic instead.
    const double bytes = o.bytes > 0 ? o.bytes : std::max(o.min_bytes, 1.0);
    a.roofline.push_back({i, o.flops / bytes, o.flops / o.duration_s()});
  }
  return a;
}

nlohmann::json analysis_to_json(const RunAnalysis& a, const RunResult& r) {
  nlohmann::json j;
  nlohmann::json split = nlohmann::json::object();
  for (size_t b = 0; b < kBoundCount; ++b)
    if (a.time_by_bound[b] > 0) split[bound_name(static_cast<Bound>(b))] = a.time_by_bound[b];
  split["idle"] = a.idle_s;
  j["time_by_bound_s"] = split;
  nlohmann::json path = nlohmann::json::array();
  // A million-op path would dominate the result file: its first kMaxListedOps ops are listed, the length is always
  // given.
  j["critical_path_ops"] = a.critical_path.size();
  double busy = 0;
  for (size_t i : a.critical_path) busy += r.ops[i].duration_s();
  j["critical_path_busy_s"] = busy;
  size_t listed = 0;
  for (size_t i : a.critical_path)
    if (++listed > kMaxListedOps) break;
    else path.push_back({{"index", i}, {"name", r.ops[i].name}, {"unit", r.ops[i].unit}, {"start_s", r.ops[i].start_s},
                    {"end_s", r.ops[i].end_s}, {"bound", bound_name(r.ops[i].bound)}});
  j["critical_path"] = std::move(path);
  j["slack_s"] = a.slack_s;
  // Like the path, the roofline lists at most 10,000 points: the ops that took the most time, in op order.
  std::vector<const RooflinePoint*> shown;
  for (const auto& p : a.roofline) shown.push_back(&p);
  if (shown.size() > kMaxListedOps) {
    std::nth_element(shown.begin(), shown.begin() + kMaxListedOps, shown.end(), [&](auto* x, auto* y) {
      double dx = r.ops[x->op].duration_s(), dy = r.ops[y->op].duration_s();
      return dx != dy ? dx > dy : x->op < y->op;
    });
    shown.resize(kMaxListedOps);
    std::sort(shown.begin(), shown.end(), [](auto* x, auto* y) { return x->op < y->op; });
  }
  nlohmann::json roof = nlohmann::json::array();
  for (const auto* p : shown)
    roof.push_back({{"op", p->op}, {"intensity", p->intensity}, {"achieved_flops", p->achieved}});
  j["roofline"] = {{"points", std::move(roof)}, {"points_total", a.roofline.size()}, {"peak_flops", a.peak_flops},
                   {"peak_bandwidth", a.peak_bandwidth}};
  j["busy_over_time"] = {{"buckets", a.buckets},
                         {"bucket_s", a.buckets ? r.total_time_s / double(a.buckets) : 0.0},
                         {"units", a.busy_over_time}};
  return j;
}

}  // namespace xpu
