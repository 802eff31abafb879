#include "sim/serve/serve_html.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "sim/report/format.h"

namespace xpu {
namespace {

std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<')
      o += "&lt;";
    else if (c == '>')
      o += "&gt;";
    else if (c == '&')
      o += "&amp;";
    else if (c == '"')
      o += "&quot;";
    else
      o += c;
  }
  return o;
}

const char* kColors[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7"};

const char* kStyle = R"(<style>
body{margin:0;background:#f4f5f7;color:#1d232b;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:1100px;margin:0 auto;padding:16px 20px 40px}
h1{font-size:22px;margin:8px 0 2px}
h2{font-size:17px;margin:0 0 10px;border-bottom:1px solid #e3e6ea;padding-bottom:4px}
section{background:#fff;border:1px solid #e3e6ea;border-radius:6px;padding:14px 18px;margin:14px 0}
.sub,.note{color:#5b6673;margin:0;font-size:13px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:8px}
.card{border:1px solid #e3e6ea;border-radius:5px;padding:7px 10px;background:#fafbfc}
.card b{display:block;font-size:12px;font-weight:500;color:#5b6673}
.card span{font-size:17px;font-weight:600}
table{border-collapse:collapse;font-size:13px}
th,td{padding:3px 10px;border-bottom:1px solid #edf0f2;text-align:right}
th:first-child,td:first-child{text-align:left}
svg{display:block;max-width:100%;height:auto}
svg text{font-size:11px;fill:#3b4654}
svg .grid{stroke:#e6e9ed}
svg .frame{fill:none;stroke:#aab3bd}
.legend{font-size:12.5px;margin:4px 0}
.legend i{display:inline-block;width:11px;height:11px;margin:0 5px 0 12px;vertical-align:-1px;border-radius:2px}
</style>)";

constexpr double W = 1000, H = 300, L = 60, R = 20, T = 12, B = 34;

// Cumulative distributions of several samples on one log-scaled time axis.
std::string cdf_chart(const std::vector<std::pair<std::string, std::vector<double>>>& series) {
  double lo = 1e300, hi = 0;
  for (const auto& [name, v] : series)
    for (double x : v)
      if (x > 0) {
        lo = std::min(lo, x);
        hi = std::max(hi, x);
      }
  if (!(hi > 0)) return "<p class=\"note\">no latencies to plot</p>";
  lo = std::max(lo, hi * 1e-6);  // six decades at most: a near-zero wait would stretch the axis
  const double l0 = std::floor(std::log10(lo)), l1 = std::max(l0 + 1, std::ceil(std::log10(hi)));
  auto X = [&](double x) { return L + (W - L - R) * (std::log10(std::max(x, std::pow(10, l0))) - l0) / (l1 - l0); };
  auto Y = [&](double f) { return T + (H - T - B) * (1 - f); };
  std::string o = fmt("<svg viewBox=\"0 0 %.0f %.0f\" width=\"100%%\" role=\"img\">\n", W, H);
  for (double d = l0; d <= l1 + 1e-9; d += 1) {
    o += fmt("<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", X(std::pow(10, d)), T,
             X(std::pow(10, d)), H - B);
    o += fmt("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>\n", X(std::pow(10, d)), H - B + 14,
             d == l0             ? "start"
             : d + 1 > l1 + 1e-9 ? "end"
                                 : "middle",
             esc(fmt_time(std::pow(10, d))).c_str());
  }
  for (double f : {0.0, 0.5, 0.9, 0.99}) {
    o += fmt("<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", L, Y(f), W - R, Y(f));
    o += fmt("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", L - 4, Y(f) + 4, f);
  }
  o +=
      fmt("<rect class=\"frame\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n", L, T, W - L - R, H - T - B);
  o += fmt(
      "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">latency (log scale); share of samples at or below</text>\n",
      (L + W - R) / 2, H - 4);
  for (size_t k = 0; k < series.size(); ++k) {
    std::vector<double> v = series[k].second;
    if (v.empty()) continue;
    std::sort(v.begin(), v.end());
    // At most ~600 points per curve: evenly spaced ranks, the last always.
    const size_t step = std::max<size_t>(1, v.size() / 600);
    std::string pts;
    for (size_t i = 0; i < v.size(); i += step) pts += fmt("%.1f,%.1f ", X(v[i]), Y(double(i + 1) / double(v.size())));
    pts += fmt("%.1f,%.1f", X(v.back()), Y(1));
    o += fmt("<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\" points=\"%s\"/>\n", kColors[k % 8],
             pts.c_str());
  }
  o += "</svg>\n<div class=\"legend\">";
  for (size_t k = 0; k < series.size(); ++k)
    o += fmt("<i style=\"background:%s\"></i>%s", kColors[k % 8], esc(series[k].first).c_str());
  return o + "</div>\n";
}

// One value per replica over time in 400 slots: each slot's largest value (a peak never disappears), or its
// time-weighted mean over the slot (idle time counting as 0). `top` 0: scaled to the largest value.
std::string timeline_chart(const ServeResult& r, double (*value)(const ServeSample&), const char* label, double top,
                           bool peak_per_slot) {
  const double t1 = std::max(r.duration_s, 1e-12);
  const size_t slots = 400;
  const double dt = t1 / double(slots);
  std::vector<std::vector<double>> series(size_t(std::max(1, r.replicas)), std::vector<double>(slots, 0.0));
  std::vector<std::vector<double>> area = series;
  for (const auto& s : r.samples) {
    if (s.replica < 0 || size_t(s.replica) >= series.size()) continue;
    auto& peak = series[size_t(s.replica)];
    auto& sum = area[size_t(s.replica)];
    const size_t a = std::min(slots - 1, size_t(s.start_s / dt)), b = std::min(slots - 1, size_t(s.end_s / dt));
    for (size_t i = a; i <= b; ++i) {
      peak[i] = std::max(peak[i], value(s));
      const double overlap = std::min(s.end_s, dt * double(i + 1)) - std::max(s.start_s, dt * double(i));
      if (overlap > 0) sum[i] += overlap * value(s);
    }
  }
  if (!peak_per_slot)
    for (size_t k = 0; k < series.size(); ++k)
      for (size_t i = 0; i < slots; ++i) series[k][i] = area[k][i] / dt;
  if (top <= 0) {
    for (const auto& v : series) top = std::max(top, *std::max_element(v.begin(), v.end()));
    if (top <= 0) top = 1;
  }
  auto X = [&](double t) { return L + (W - L - R) * t / t1; };
  auto Y = [&](double v) { return T + (H - T - B) * (1 - v / top); };
  std::string o = fmt("<svg viewBox=\"0 0 %.0f %.0f\" width=\"100%%\" role=\"img\">\n", W, H);
  for (int i = 0; i <= 4; ++i) {
    const double v = top * i / 4;
    o += fmt("<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", L, Y(v), W - R, Y(v));
    o += fmt("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.4g</text>\n", L - 4, Y(v) + 4, v);
  }
  for (int i = 0; i <= 5; ++i)
    o += fmt("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>\n", X(t1 * i / 5), H - B + 14,
             i == 0   ? "start"
             : i == 5 ? "end"
                      : "middle",
             i == 0 ? "0" : esc(fmt_time(t1 * i / 5)).c_str());
  o +=
      fmt("<rect class=\"frame\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n", L, T, W - L - R, H - T - B);
  o += fmt("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s over simulated time (%s per slot)</text>\n",
           (L + W - R) / 2, H - 4, label, peak_per_slot ? "largest" : "mean");
  for (size_t k = 0; k < series.size(); ++k) {
    std::string pts;
    for (size_t i = 0; i < slots; ++i) pts += fmt("%.1f,%.1f ", X(dt * (double(i) + 0.5)), Y(series[k][i]));
    o += fmt("<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.2\" points=\"%s\"/>\n", kColors[k % 8],
             pts.c_str());
  }
  o += "</svg>\n";
  if (series.size() > 1) {
    o += "<div class=\"legend\">";
    for (size_t k = 0; k < series.size() && k < 16; ++k)
      o += fmt("<i style=\"background:%s\"></i>replica %zu", kColors[k % 8], k);
    o += series.size() > 16 ? " …</div>\n" : "</div>\n";
  }
  return o;
}

double occupancy(const ServeSample& s) { return s.kv_blocks > 0 ? 100.0 * double(s.kv_blocks_used) / s.kv_blocks : 0; }
double batch_tokens(const ServeSample& s) { return double(s.tokens); }

std::string card(const std::string& what, const std::string& value) {
  return "<div class=\"card\"><b>" + esc(what) + "</b><span>" + esc(value) + "</span></div>";
}

}  // namespace

std::string serve_html(const ServeResult& r, const ServeMetrics& m, const Slo& slo) {
  std::string o =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>xpusim serve: " + esc(r.model_name) +
      "</title>" + kStyle + "</head><body><main>\n";
  o += "<h1>Serving " + esc(r.model_name) + "</h1><p class=\"sub\">" + esc(r.hw_name) + ": " +
       std::to_string(r.replicas) + " replica(s), " + std::to_string(total_devices(r)) + " device(s), stack " +
       esc(r.stack) + "; " + std::to_string(m.requests) + " requests over " + esc(fmt_time(r.duration_s)) +
       " simulated</p>\n";
  o += "<section><h2>Headline (whole system)</h2><div class=\"cards\">";
  o += card("Throughput", fmt("%.2f requests/s", m.throughput_requests_per_s));
  o += card("Output tokens", fmt("%.1f tokens/s", m.throughput_tokens_per_s));
  if (slo.any()) o += card("Goodput (SLO met)", fmt("%.2f requests/s", m.goodput_requests_per_s));
  o += card("TTFT p99", m.ttft.count ? fmt_time(m.ttft.p99) : "n/a");
  o += card("TBT p99", m.tbt.count ? fmt_time(m.tbt.p99) : "n/a");
  o += card("Energy per output token", m.output_tokens ? fmt_energy(m.energy_per_token_j) : "n/a");
  o += card("Average power", fmt("%.0f W", m.average_power_w));
  o += card("Preemptions", std::to_string(r.preemptions));
  o += card("KV occupancy (mean, peak)", fmt("%.1f%%, %.1f%%", 100 * m.mean_kv_occupancy, 100 * m.peak_kv_occupancy));
  o += "</div></section>\n";

  o += "<section><h2>Latency</h2><table><tr><th></th><th>mean</th><th>p50</th><th>p90</th><th>p99</th><th>samples</"
       "th></tr>";
  for (const auto& [name, d] :
       std::vector<std::pair<const char*, const Distribution*>>{{"time to first token", &m.ttft},
                                                                {"time between tokens", &m.tbt},
                                                                {"end to end", &m.e2e},
                                                                {"queueing", &m.queue}}) {
    if (!d->count) {
      o += fmt("<tr><td>%s</td><td colspan=\"5\">none: no request completed</td></tr>", name);
      continue;
    }
    o += fmt("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%zu</td></tr>", name,
             fmt_time(d->mean).c_str(), fmt_time(d->p50).c_str(), fmt_time(d->p90).c_str(), fmt_time(d->p99).c_str(),
             d->count);
  }
  o += "</table>\n";
  std::vector<double> ttft, tbt, e2e, queue;
  for (const auto& q : r.requests) {
    if (!q.completed) continue;
    ttft.push_back(q.first_token_s - q.arrival_s);
    e2e.push_back(q.finish_s - q.arrival_s);
    queue.push_back(q.scheduled_s - q.arrival_s);
    tbt.insert(tbt.end(), q.tbt_s.begin(), q.tbt_s.end());
  }
  o += cdf_chart({{"TTFT", ttft}, {"TBT (per token gap)", tbt}, {"end to end", e2e}, {"queueing", queue}});
  o +=
      "<p class=\"note\">Queueing waits of zero (a request scheduled on arrival) sit at the left edge.</p></section>\n";

  o += "<section><h2>KV cache and batches over time</h2>";
  o += timeline_chart(r, occupancy, "KV-cache occupancy (%)", 100, true);
  o += timeline_chart(r, batch_tokens, "new tokens per iteration", 0, false);
  o += "<p class=\"note\">Occupancy: each replica's largest in each of 400 time slots; tokens: the time-weighted "
       "mean of its iterations in the slot (idle time as 0).</p></section>\n";
  o += "</main></body></html>\n";
  return o;
}

}  // namespace xpu
