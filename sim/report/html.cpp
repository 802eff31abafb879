#include "sim/report/html.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "sim/config/errors.h"
#include "sim/report/format.h"
#include "sim/report/json.h"
#include "sim/report/summary.h"

namespace xpu {

namespace {

using nlohmann::json;

// Text from user files may hold markup or invalid UTF-8: escaped, and invalid bytes become U+FFFD.
std::string esc(const std::string& s) {
  std::string o;
  o.reserve(s.size() + 8);
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '&':
          o += "&amp;";
          break;
        case '<':
          o += "&lt;";
          break;
        case '>':
          o += "&gt;";
          break;
        case '"':
          o += "&quot;";
          break;
        case '\'':
          o += "&#39;";
          break;
        default:
          if (c < 0x20 && c != '\n' && c != '\t')
            o += ' ';
          else
            o += char(c);
      }
      ++i;
      continue;
    }
    size_t len = c >= 0xF0 && c < 0xF5 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
    bool ok = len > 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (ok) {
      o.append(s, i, len);
      i += len;
    } else {
      o += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return o;
}

// Long names would stretch tables and chart labels; the tail is kept because it is the part that differs.
std::string clip(const std::string& s, size_t width) {
  if (s.size() <= width) return s;
  size_t from = s.size() - (width - 1);
  while (from < s.size() && (static_cast<unsigned char>(s[from]) & 0xC0) == 0x80) ++from;  // whole characters
  return "\xE2\x80\xA6" + s.substr(from);
}

std::string pct(double part, double whole) { return fmt("%.1f%%", 100 * ratio(part, whole)); }

const json& field(const json& j, const char* key) {
  static const json null_json;
  if (j.is_object()) {
    auto it = j.find(key);
    if (it != j.end()) return *it;
  }
  return null_json;
}
double num(const json& j, const char* key, double dflt = 0) {
  const json& v = field(j, key);
  return v.is_number() ? v.get<double>() : dflt;
}
std::string str(const json& j, const char* key) {
  const json& v = field(j, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

// ---- colours ------------------------------------------------------------------------------------------------------

const char* kind_color(const std::string& kind, size_t ordinal) {
  static const std::map<std::string, const char*> known = {
      {"matmul", "#4e79a7"}, {"attention", "#f28e2b"},   {"elementwise", "#59a14f"},
      {"norm", "#e15759"},   {"softmax", "#b07aa1"},     {"embedding_bag", "#76b7b2"},
      {"concat", "#edc948"}, {"interaction", "#ff9da7"}, {"collective", "#9c755f"}};
  static const char* spare[] = {"#17becf", "#bcbd22", "#8c564b", "#7f7f7f", "#1f77b4",
                                "#d62728", "#9467bd", "#2ca02c", "#e377c2", "#ff7f0e"};
  auto it = known.find(kind);
  if (it != known.end()) return it->second;
  return spare[ordinal % (sizeof spare / sizeof *spare)];
}

const std::vector<std::string>& bound_order() {
  static const std::vector<std::string> v = {"compute",    "memory",      "cache",    "latency", "interconnect",
                                             "dependency", "programming", "measured", "idle"};
  return v;
}
const char* bound_color(const std::string& b) {
  static const std::map<std::string, const char*> c = {
      {"compute", "#e15759"},     {"memory", "#4e79a7"},       {"cache", "#76b7b2"},
      {"latency", "#edc948"},     {"interconnect", "#9c755f"}, {"dependency", "#b07aa1"},
      {"programming", "#ff9da7"}, {"measured", "#bab0ac"},     {"idle", "#d9d9d9"}};
  auto it = c.find(b);
  return it == c.end() ? "#7f7f7f" : it->second;
}

// Kinds in the run, sorted by name: each gets a CSS class k<i> used by the roofline dots and the timeline.
struct Kinds {
  std::vector<std::string> names;
  std::map<std::string, size_t> index;
  explicit Kinds(const RunResult& r) {
    std::set<std::string> s;
    for (const auto& op : r.ops) s.insert(op.kind);
    for (const auto& k : s) {
      index[k] = names.size();
      names.push_back(k);
    }
  }
  size_t of(const std::string& k) const {
    auto it = index.find(k);
    return it == index.end() ? 0 : it->second;
  }
  const char* color(size_t i) const { return kind_color(names[i], i); }
};

std::string legend_item(const char* color, const std::string& label) {
  return "<span class=\"lg\"><i style=\"background:" + std::string(color) + "\"></i>" + esc(label) + "</span>";
}

std::string kind_legend(const Kinds& k, const std::set<size_t>& used) {
  std::string o = "<div class=\"legend\">";
  for (size_t i : used) o += legend_item(k.color(i), k.names[i].empty() ? "(none)" : k.names[i]);
  return o + "</div>\n";
}

// ---- generic charts -----------------------------------------------------------------------------------------------

struct Segment {
  double value = 0;
  std::string color;
};
struct BarRow {
  std::string label, text, tip;
  std::vector<Segment> parts;
  double total() const {
    double t = 0;
    for (const auto& s : parts) t += std::max(0.0, s.value);
    return t;
  }
};

constexpr double kChartW = 1100;

// One row per entry: label, bar (stacked segments) scaled to the largest row, text after the bar.
std::string bar_chart(const std::vector<BarRow>& rows, const char* cls = "bars") {
  if (rows.empty()) return {};
  const double label_w = 210, bar_w = 470, row_h = 22;
  double mx = 0;
  for (const auto& r : rows) mx = std::max(mx, r.total());
  std::string o = fmt("<svg class=\"%s\" viewBox=\"0 0 %.0f %.0f\" width=\"100%%\" role=\"img\">\n", cls, kChartW,
                      rows.size() * row_h + 4);
  for (size_t i = 0; i < rows.size(); ++i) {
    const BarRow& r = rows[i];
    double y = 2 + i * row_h;
    o += fmt("<text class=\"lbl\" x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">", label_w - 8, y + 15) +
         esc(clip(r.label, 32)) + "</text>";
    double x = label_w;
    for (const auto& s : r.parts) {
      if (s.value <= 0 || mx <= 0) continue;
      double w = s.value / mx * bar_w;
      o += fmt("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\" fill=\"%s\"><title>", x, y + 3,
               std::max(w, 0.5), row_h - 6, s.color.c_str()) +
           esc(r.tip.empty() ? r.label + ": " + r.text : r.tip) + "</title></rect>";
      x += w;
    }
    o += fmt("<text class=\"val\" x=\"%.1f\" y=\"%.1f\">", x + 6, y + 15) + esc(r.text) + "</text>\n";
  }
  return o + "</svg>\n";
}

struct Slice {
  std::string label, text;
  double value = 0;
  const char* color = "#999";
};

// The whole as one bar split into its parts, with a legend that gives each part's value and share.
std::string stacked_bar(const std::vector<Slice>& parts, const std::string& what) {
  double total = 0;
  for (const auto& p : parts) total += std::max(0.0, p.value);
  if (total <= 0) return "<p class=\"note\">nothing to show</p>\n";
  std::string o = fmt("<svg class=\"stack\" viewBox=\"0 0 %.0f 30\" width=\"100%%\" role=\"img\">", kChartW);
  double x = 0;
  for (const auto& p : parts) {
    if (p.value <= 0) continue;
    double w = p.value / total * kChartW;
    o +=
        fmt("<rect x=\"%.1f\" y=\"2\" width=\"%.1f\" height=\"26\" fill=\"%s\"><title>", x, std::max(w, 0.5), p.color) +
        esc(p.label + ": " + p.text + " (" + pct(p.value, total) + " of " + what + ")") + "</title></rect>";
    if (w > 60)
      o += fmt("<text class=\"in\" x=\"%.1f\" y=\"20\" text-anchor=\"middle\">", x + w / 2) + esc(p.label) + "</text>";
    x += w;
  }
  o += "</svg>\n<div class=\"legend\">";
  for (const auto& p : parts)
    if (p.value > 0) o += legend_item(p.color, p.label + " " + p.text + " (" + pct(p.value, total) + ")");
  return o + "</div>\n";
}

// Ticks of a linear axis from 0 to `hi`: a step of 1, 2 or 5 times a power of ten, about `n` of them.
double nice_step(double hi, int n) {
  if (hi <= 0) return 1;
  double raw = hi / n, p = std::pow(10.0, std::floor(std::log10(raw))), m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

// A label for 10^k: plain decimals near 1, SI prefixes beyond.
std::string pow10_label(int k) {
  if (k >= -3 && k < 3) return k >= 0 ? fmt("%.0f", std::pow(10.0, k)) : fmt("%.*f", -k, std::pow(10.0, k));
  static const char* pre[] = {"a", "f", "p", "n", "u", "m", "", "k", "M", "G", "T", "P", "E", "Z", "Y"};
  int e = k >= 0 ? k / 3 : -((-k + 2) / 3);
  int idx = e + 6;
  if (idx < 0 || idx >= int(sizeof pre / sizeof *pre)) return fmt("1e%d", k);
  return fmt("%.0f%s", std::pow(10.0, k - 3 * e), pre[idx]);
}

// ---- sections -----------------------------------------------------------------------------------------------------

const char* kStyle = R"(<style>
*{box-sizing:border-box}
body{margin:0;background:#f4f5f7;color:#1d232b;font-size:14px;line-height:1.45;
  font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
main{max-width:1200px;margin:0 auto;padding:16px 20px 40px}
h1{font-size:22px;margin:8px 0 2px}
h2{font-size:17px;margin:0 0 10px;border-bottom:1px solid #e3e6ea;padding-bottom:4px}
h3{font-size:14px;margin:14px 0 6px;color:#3b4654}
section{background:#fff;border:1px solid #e3e6ea;border-radius:6px;padding:14px 18px;margin:14px 0}
nav{font-size:13px;margin:6px 0 0}
nav a{color:#2f5d8a;margin-right:12px;text-decoration:none}
.sub{color:#5b6673;margin:0}
.note{color:#5b6673;font-size:12.5px;margin:6px 0}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:8px}
.card{border:1px solid #e3e6ea;border-radius:5px;padding:7px 10px;background:#fafbfc}
.card b{display:block;font-size:12px;font-weight:500;color:#5b6673}
.card span{font-size:17px;font-weight:600}
.card small{display:block;color:#5b6673;font-size:12px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:3px 8px;border-bottom:1px solid #edf0f2;text-align:left;vertical-align:middle}
th{background:#f6f7f9;font-weight:600;color:#3b4654}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.name{max-width:420px;overflow-wrap:anywhere}
tr.more td{color:#5b6673;font-style:italic}
tr.base td{font-weight:600}
tr.err td{color:#a33}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12.5px;margin:6px 0}
.lg i{display:inline-block;width:11px;height:11px;margin-right:5px;vertical-align:-1px;border-radius:2px}
svg{display:block;max-width:100%;height:auto}
svg text{font-size:12px;fill:#1d232b}
svg .lbl{fill:#3b4654}
svg .val{fill:#3b4654;font-size:11.5px}
svg .in{fill:#fff;font-size:11.5px;font-weight:600}
svg .ax{font-size:11px;fill:#5b6673}
svg .at{font-size:12px;fill:#3b4654}
svg .grid{stroke:#e6e9ed;stroke-width:1}
svg .frame{fill:none;stroke:#aab3bd;stroke-width:1}
svg .ceil{stroke:#222;stroke-width:1.6;fill:none}
svg .slope{stroke:#222;stroke-width:1.6;fill:none;stroke-dasharray:6 3}
svg .lane{fill:#f7f8fa}
.bar1{fill:#4e79a7}
)";

void section_summary(std::string& o, const RunResult& r) {
  const double t = r.total_time_s;
  auto card = [&](const std::string& title, const std::string& value, const std::string& small = {}) {
    o += "<div class=\"card\"><b>" + esc(title) + "</b><span>" + esc(value) + "</span>";
    if (!small.empty()) o += "<small>" + esc(small) + "</small>";
    o += "</div>\n";
  };
  o += "<section id=\"summary\"><h2>Summary</h2>\n<table class=\"meta\">";
  o += "<tr><th>Hardware</th><td>" + esc(r.hw_name.empty() ? "?" : r.hw_name) +
       (r.hw_file.empty() ? "" : " <span class=\"sub\">(" + esc(r.hw_file) + ")</span>") + "</td></tr>";
  o += "<tr><th>Workload</th><td>" + esc(r.workload_name.empty() ? "?" : r.workload_name) +
       (r.workload_file.empty() ? "" : " <span class=\"sub\">(" + esc(r.workload_file) + ")</span>");
  if (!r.workload_description.empty()) o += "<br><span class=\"sub\">" + esc(r.workload_description) + "</span>";
  o += "</td></tr></table>\n<div class=\"cards\" style=\"margin-top:10px\">\n";
  card("Total time", fmt_time(t), "GPU busy " + fmt_time(r.gpu_active_s) + " (" + pct(r.gpu_active_s, t) + ", per device)");
  card("Energy", fmt_energy(r.energy_j),
       r.devices > 1 ? fmt("whole job: %lld devices and their network", (long long)r.job_devices)
                     : std::string("whole job: one device"));
  card("Average power", fmt("%.1f W", ratio(r.energy_j, t)), "whole job");
  card("Devices", fmt("%lld", (long long)r.job_devices),
       r.job_devices < r.devices ? fmt("of the system's %lld (the rest idle, not counted)", (long long)r.devices)
                                 : fmt("%zu ops simulated per device", r.ops.size()));
  double fl = ratio(r.flops, t);
  card("Achieved compute", fmt("%.2f TFLOP/s", fl / 1e12),
       (r.peak_flops > 0 ? pct(fl, r.peak_flops) + " of peak, " : std::string()) + "per device");
  card("Peak compute", fmt("%.1f TFLOP/s", r.peak_flops / 1e12), "per device, dominant dtype");
  double bw = ratio(r.hbm_bytes, t);
  card("Achieved HBM", fmt("%.1f GB/s", bw / 1e9),
       (r.peak_hbm_bw > 0 ? pct(bw, r.peak_hbm_bw) + " of peak, " : std::string()) + "per device");
  card("Peak HBM", fmt("%.1f GB/s", r.peak_hbm_bw / 1e9), "per device");
  if (r.items > 0) {
    std::string item = r.item.empty() ? "item" : r.item;
    card("Energy per " + item, fmt_energy(r.energy_j / r.items), fmt("whole job, %.0f %ss per step", r.items, item.c_str()));
    card("Throughput", fmt_count(ratio(r.items, t)) + " " + item + "s/s",
         r.replicas > 1 ? fmt("whole job, %lld data-parallel replicas", (long long)r.replicas) : std::string("whole job"));
  }
  card("Work", fmt_si(r.flops, "FLOP"), fmt_si(r.hbm_bytes, "B") + " of HBM traffic, per device");
  double area = 0;
  for (const auto& c : r.components) area += c.scope == "device" ? c.area_mm2 : 0;
  if (r.components.empty()) area = r.area_mm2;
  card("Die area", fmt("%.1f mm\xC2\xB2", area), "per device");
  o += "</div>\n</section>\n";
}

// Die area by block and part, yield and the price of a device, and the run's TCO (configs with `technology:`).
void section_cost(std::string& o, const RunResult& r) {
  const DeviceCost& c = r.cost;
  if (!c.present) return;
  static const char* colors[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
                                 "#ff9da7", "#9c755f", "#bab0ac"};
  o += "<section id=\"cost\"><h2>Area and cost</h2>\n<p class=\"sub\">Technology " + esc(c.node) +
       ": each block's area derived from its structure (units, MACs per dtype, lanes, SRAM, PHYs) unless the config "
       "writes it; <code>xpusim cost</code> prints the same.</p>\n<div class=\"cards\">\n";
  auto card = [&](const std::string& label, const std::string& value, const std::string& sub) {
    o += "<div class=\"card\"><b>" + esc(label) + "</b><span>" + esc(value) + "</span><small>" + esc(sub) +
         "</small></div>\n";
  };
  card("Die area", fmt("%.1f mm\xC2\xB2", c.die_mm2), "per device");
  card("Yield", fmt("%.1f %%", 100 * c.yield),
       fmt("%.0f dies per wafer; %.1f %% if every defect killed the die", c.dies_per_wafer, 100 * c.yield_without_spares));
  card("Price", c.priced ? fmt("$%.0f", c.device_usd) : std::string("none"),
       c.priced ? "per device: die, HBM, interposer, package" : "the die cannot be made (see the note)");
  card("Full-load power", fmt("%.0f W", c.full_load_w),
       c.tdp_w > 0 ? fmt("per device, from the technology (cap %.0f W)", c.tdp_w) : std::string("per device"));
  if (r.tco.present) {
    card("TCO per step", fmt("$%.4g", r.tco.usd_per_step), "whole job: devices amortised and energy");
    if (r.tco.usd_per_mitem > 0)
      card("TCO per million " + r.item + "s", fmt("$%.4g", r.tco.usd_per_mitem),
           fmt("%.3g years, PUE %.2g, $%.3g/kWh", r.tco.options.years, r.tco.options.pue, r.tco.options.usd_per_kwh));
  }
  o += "</div>\n<h3>Die area by block</h3>\n";
  std::vector<Slice> blocks;
  for (size_t i = 0; i < c.blocks.size(); ++i)
    blocks.push_back({c.blocks[i].name, fmt("%.1f mm\xC2\xB2", c.blocks[i].mm2), c.blocks[i].mm2, colors[i % 10]});
  o += stacked_bar(blocks, "the die area");
  std::vector<BarRow> rows;
  for (const auto& b : c.blocks)
    for (const auto& p : b.parts)
      rows.push_back({b.name + ": " + p.name, fmt("%.1f mm\xC2\xB2 \xC2\xB7 ", p.mm2) + pct(p.mm2, c.die_mm2), "",
                      {{p.mm2, "#4e79a7"}}});
  o += bar_chart(rows);
  if (c.priced) {
    o += "<h3>Price per device</h3>\n";
    const double lost = c.device_usd - (c.die_usd + c.hbm_usd + c.interposer_usd + c.package_usd);
    o += stacked_bar({{"die", fmt("$%.0f", c.die_usd), c.die_usd, "#4e79a7"},
                      {"HBM", fmt("$%.0f", c.hbm_usd), c.hbm_usd, "#f28e2b"},
                      {"interposer", fmt("$%.0f", c.interposer_usd), c.interposer_usd, "#76b7b2"},
                      {"package", fmt("$%.0f", c.package_usd), c.package_usd, "#59a14f"},
                      {"assembly loss", fmt("$%.0f", lost), lost, "#bab0ac"}},
                     "the price");
  }
  for (const auto& n : c.notes) o += "<p class=\"note\">" + esc(n) + "</p>\n";
  o += "</section>\n";
}

// Op durations summed per kind, longest first (ties by name).
struct KindTime {
  std::string kind;
  size_t count = 0;
  double time = 0, flops = 0, bytes = 0;
};
std::vector<KindTime> time_by_kind(const RunResult& r) {
  std::map<std::string, KindTime> m;
  for (const auto& op : r.ops) {
    KindTime& k = m[op.kind];
    k.kind = op.kind;
    k.count++;
    k.time += op.duration_s();
    k.flops += op.flops;
    k.bytes += op.bytes;
  }
  std::vector<KindTime> v;
  for (auto& kv : m) v.push_back(kv.second);
  std::stable_sort(v.begin(), v.end(), [](const KindTime& a, const KindTime& b) { return a.time > b.time; });
  return v;
}

double time_denominator(const RunResult& r) {
  double d = r.total_time_s;
  if (d <= 0)
    for (const auto& op : r.ops) d += op.duration_s();
  return d;
}

void section_time(std::string& o, const RunResult& r, const Kinds& kinds) {
  o += "<section id=\"time\"><h2>Where the time went</h2>\n";
  const json& split = field(r.analysis, "time_by_bound_s");
  std::map<std::string, double> by;
  bool from_analysis = split.is_object();
  if (from_analysis) {
    for (auto it = split.begin(); it != split.end(); ++it)
      if (it.value().is_number()) by[it.key()] = it.value().get<double>();
  } else {
    for (const auto& op : r.ops) by[bound_name(op.bound)] += op.duration_s();
  }
  std::vector<std::string> order = bound_order();
  for (const auto& kv : by)
    if (std::find(order.begin(), order.end(), kv.first) == order.end()) order.push_back(kv.first);
  double total = 0;
  for (const auto& kv : by) total += std::max(0.0, kv.second);
  o += from_analysis ? "<h3>Wall time by what bound the running ops (idle: nothing running on the device)</h3>\n"
                     : "<h3>Op time by bound (no run analysis in this result)</h3>\n";
  std::vector<Slice> slices;
  std::vector<BarRow> rows;
  for (const auto& b : order) {
    auto it = by.find(b);
    if (it == by.end() || it->second <= 0) continue;
    slices.push_back({b, fmt_time(it->second), it->second, bound_color(b)});
    rows.push_back(
        {b, fmt_time(it->second) + " \xC2\xB7 " + pct(it->second, total), "", {{it->second, bound_color(b)}}});
  }
  o += stacked_bar(slices, "the time");
  o += bar_chart(rows);

  const double denom = time_denominator(r);
  o += "<h3>Op time by kind</h3>\n";
  std::vector<BarRow> krows;
  for (const auto& k : time_by_kind(r))
    krows.push_back(
        {k.kind.empty() ? "(none)" : k.kind,
         fmt("%s \xC2\xB7 %s \xC2\xB7 %zu ops \xC2\xB7 %.2f TFLOP/s \xC2\xB7 %.1f GB/s", fmt_time(k.time).c_str(),
             pct(k.time, denom).c_str(), k.count, ratio(k.flops, k.time) / 1e12, ratio(k.bytes, k.time) / 1e9),
         "",
         {{k.time, kinds.color(kinds.of(k.kind))}}});
  o += bar_chart(krows);
  o += "<p class=\"note\">Shares are of the run's wall time; ops that overlap each count in full here.</p>\n";
  o += "</section>\n";
}

void section_energy(std::string& o, const RunResult& r) {
  o += "<section id=\"energy\"><h2>Where the energy went</h2>\n";
  double e = r.energy_j;
  double other = e - r.energy_compute_j - r.energy_data_j - r.energy_static_j;
  std::vector<Slice> s = {{"compute", fmt_energy(r.energy_compute_j), r.energy_compute_j, "#e15759"},
                          {"data movement", fmt_energy(r.energy_data_j), r.energy_data_j, "#4e79a7"},
                          {"static", fmt_energy(r.energy_static_j), r.energy_static_j, "#bab0ac"}};
  if (other > 1e-9 * std::max(1.0, e)) s.push_back({"other dynamic", fmt_energy(other), other, "#edc948"});
  o += "<h3>Total " + esc(fmt_energy(e)) + fmt(", average power %.1f W", ratio(e, r.total_time_s));
  if (r.items > 0) o += ", " + esc(fmt_energy(e / r.items)) + " per " + esc(r.item.empty() ? "item" : r.item);
  o += "</h3>\n" + stacked_bar(s, "the energy");
  std::vector<BarRow> rows;
  for (const auto& p : s) rows.push_back({p.label, p.text + " \xC2\xB7 " + pct(p.value, e), "", {{p.value, p.color}}});
  o += bar_chart(rows);

  if (!r.components.empty()) {
    struct C {
      const ComponentRecord* c;
      double dyn, stat;
    };
    std::vector<C> cs;
    for (const auto& c : r.components) cs.push_back({&c, c.copies * c.energy_dynamic_j, c.copies * c.energy_static_j});
    std::stable_sort(cs.begin(), cs.end(), [](const C& a, const C& b) { return a.dyn + a.stat > b.dyn + b.stat; });
    const size_t show = 25;
    o += "<h3>Per component (dynamic + static";
    if (r.devices > 1) o += fmt("; device blocks count all %lld devices", (long long)r.devices);
    o += ")</h3>\n";
    std::vector<BarRow> crows;
    for (size_t i = 0; i < cs.size() && i < show; ++i) {
      const C& c = cs[i];
      std::string label = c.c->name + " (" + c.c->type + ")";
      crows.push_back({label,
                       fmt_energy(c.dyn + c.stat) + " \xC2\xB7 " + pct(c.dyn + c.stat, e) +
                           fmt(" \xC2\xB7 utilization %.1f%%", 100 * c.c->utilization),
                       label + ": dynamic " + fmt_energy(c.dyn) + ", static " + fmt_energy(c.stat) +
                           (c.c->copies != 1 ? fmt(" (x%g copies)", c.c->copies) : std::string()),
                       {{c.dyn, "#4e79a7"}, {c.stat, "#bab0ac"}}});
    }
    o += bar_chart(crows);
    o += "<div class=\"legend\">" + legend_item("#4e79a7", "dynamic") + legend_item("#bab0ac", "static") + "</div>\n";
    if (cs.size() > show) o += fmt("<p class=\"note\">\xE2\x80\xA6 %zu more components</p>\n", cs.size() - show);
  }
  o += "</section>\n";
}

void section_roofline(std::string& o, const RunResult& r, const Kinds& kinds) {
  struct P {
    size_t op;
    double x, y;
  };
  std::vector<P> pts;
  const json& roof = field(r.analysis, "roofline");
  const json& jp = field(roof, "points");
  if (jp.is_array()) {
    for (const auto& p : jp) {
      double x = num(p, "intensity"), y = num(p, "achieved_flops");
      double op = num(p, "op", -1);
      if (op < 0 || size_t(op) >= r.ops.size()) continue;
      pts.push_back({size_t(op), x, y});
    }
  } else {
    for (size_t i = 0; i < r.ops.size(); ++i) {
      const OpRecord& op = r.ops[i];
      if (op.flops <= 0 || op.duration_s() <= 0) continue;
      pts.push_back({i, op.flops / std::max(op.bytes, 1.0), op.flops / op.duration_s()});
    }
  }
  double peak = num(roof, "peak_flops", r.peak_flops), bw = num(roof, "peak_bandwidth", r.peak_hbm_bw);
  size_t skipped = 0;
  std::vector<P> ok;
  for (const auto& p : pts) {
    if (p.x > 0 && p.y > 0 && std::isfinite(p.x) && std::isfinite(p.y))
      ok.push_back(p);
    else
      ++skipped;
  }
  o += "<section id=\"roofline\"><h2>Roofline</h2>\n";
  if (ok.empty()) {
    o += "<p class=\"note\">No op did arithmetic: nothing to place on a roofline.</p>\n</section>\n";
    return;
  }
  double xlo = 1e300, xhi = 0, ylo = 1e300, yhi = 0;
  for (const auto& p : ok) {
    xlo = std::min(xlo, p.x);
    xhi = std::max(xhi, p.x);
    ylo = std::min(ylo, p.y);
    yhi = std::max(yhi, p.y);
  }
  if (peak > 0) ylo = std::min(ylo, peak);
  if (peak > 0 && bw > 0) xlo = std::min(xlo, peak / bw), xhi = std::max(xhi, peak / bw);
  int x0 = int(std::floor(std::log10(xlo))), x1 = int(std::ceil(std::log10(xhi)));
  int y0 = int(std::floor(std::log10(ylo)));
  if (x1 <= x0) x1 = x0 + 1;
  // The top: the decade above the fastest op, or a little above the compute roof (room for its label).
  double ytop = std::max(std::ceil(std::log10(yhi)), double(y0 + 1));
  if (peak > 0) ytop = std::max(ytop, std::log10(peak) + 0.3);
  const int y1 = int(std::floor(ytop + 1e-9));  // the last decade tick

  const double W = 1100, H = 520, ml = 80, mr = 30, mt = 20, mb = 52;
  const double pw = W - ml - mr, ph = H - mt - mb;
  auto X = [&](double lx) { return ml + (lx - x0) / (x1 - x0) * pw; };  // lx: log10 of intensity
  auto Y = [&](double ly) { return mt + ph - (ly - y0) / (ytop - y0) * ph; };
  o += fmt("<svg id=\"roofline-chart\" class=\"roofline\" viewBox=\"0 0 %.0f %.0f\" width=\"100%%\" role=\"img\">\n", W,
           H);
  o += fmt("<rect class=\"frame\" x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\"/>\n", ml, mt, pw, ph);
  int xstep = (x1 - x0) > 12 ? 2 : 1, ystep = (y1 - y0) > 10 ? 2 : 1;
  for (int k = x0; k <= x1; ++k) {
    double x = X(k);
    if (k > x0 && k < x1)
      o += fmt("<line class=\"grid\" x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\"/>", x, mt, x, mt + ph);
    if ((k - x0) % xstep == 0)
      o += fmt("<text class=\"ax\" x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%s</text>\n", x, mt + ph + 16,
               pow10_label(k).c_str());
  }
  for (int k = y0; k <= y1; ++k) {
    double y = Y(k);
    if (k > y0 && k < ytop - 1e-9)
      o += fmt("<line class=\"grid\" x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\"/>", ml, y, ml + pw, y);
    if ((k - y0) % ystep == 0)
      o += fmt("<text class=\"ax\" x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", ml - 6, y + 4,
               pow10_label(k).c_str());
  }
  o +=
      fmt("<text class=\"at\" x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">arithmetic intensity (FLOP per byte of "
          "main memory)</text>\n",
          ml + pw / 2, H - 12);
  o +=
      fmt("<text class=\"at\" transform=\"translate(16 %.0f) rotate(-90)\" text-anchor=\"middle\">achieved "
          "FLOP/s</text>\n",
          mt + ph / 2);
  // Ceilings: bandwidth slope up to the ridge point, then the compute roof.
  double lr = (peak > 0 && bw > 0) ? std::log10(peak / bw) : double(x0);
  if (bw > 0) {
    double lb = std::log10(bw);
    double a = std::max(double(x0), y0 - lb), b = std::min(double(x1), peak > 0 ? lr : double(x1));
    b = std::min(b, ytop - lb);
    if (a < b) {
      o += fmt("<line class=\"slope\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", X(a), Y(a + lb), X(b),
               Y(b + lb));
      // The label runs along the slope, above it.
      double lx = a + (b - a) * 0.12;
      double ang = std::atan2(Y(b + lb) - Y(a + lb), X(b) - X(a)) * 57.29577951308232;  // degrees
      o += fmt("<text class=\"at\" transform=\"translate(%.1f %.1f) rotate(%.1f)\" y=\"-6\">", X(lx), Y(lx + lb), ang) +
           esc("HBM " + fmt_si(bw, "B/s")) + "</text>\n";
    }
  }
  if (peak > 0) {
    double lp = std::log10(peak), a = std::max(double(x0), lr);
    if (a < x1) {
      o += fmt("<line class=\"ceil\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", X(a), Y(lp), X(x1), Y(lp));
      o += fmt("<text class=\"at\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", X(x1) - 6, Y(lp) - 6) +
           esc("peak " + fmt_si(peak, "FLOP/s")) + "</text>\n";
    }
  }
  // Dots, most time-consuming last so they are drawn on top. Beyond 3000 dots, one per pixel and kind.
  std::stable_sort(ok.begin(), ok.end(),
                   [&](const P& a, const P& b) { return r.ops[a.op].duration_s() < r.ops[b.op].duration_s(); });
  std::set<std::tuple<long, long, size_t>> seen;
  std::set<size_t> used;
  const bool thin = ok.size() > 3000;
  size_t drawn = 0;
  for (const auto& p : ok) {
    const OpRecord& op = r.ops[p.op];
    double cx = X(std::log10(p.x)), cy = Y(std::log10(p.y));
    size_t k = kinds.of(op.kind);
    if (thin && !seen.insert({std::lround(cx), std::lround(cy), k}).second) continue;
    used.insert(k);
    ++drawn;
    o += fmt("<circle class=\"k%zu\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\"><title>", k, cx, cy) +
         esc(op.name + " (" + op.kind + "): " + fmt("%.3g FLOP/B, ", p.x) + fmt_si(p.y, "FLOP/s") + ", " +
             fmt_time(op.duration_s()) + ", " + bound_name(op.bound) + "-bound") +
         "</title></circle>\n";
  }
  o += "</svg>\n" + kind_legend(kinds, used);
  o += "<p class=\"note\">One dot per op that did arithmetic";
  if (thin) o += fmt(" (%zu ops; one dot per pixel and kind: %zu drawn)", ok.size(), drawn);
  if (skipped) o += fmt("; %zu without a positive intensity or rate left out", skipped);
  o += ". Solid: peak compute rate; dashed: main-memory bandwidth. Ops that stream through the on-chip cache "
       "can sit above the dashed line.</p>\n</section>\n";
}

void section_critical(std::string& o, const RunResult& r) {
  const json& path = field(r.analysis, "critical_path");
  const json& slack = field(r.analysis, "slack_s");
  if (!path.is_array() && !slack.is_array()) return;
  const double total = time_denominator(r);
  o += "<section id=\"critical\"><h2>Critical path</h2>\n";
  if (path.is_array() && !path.empty()) {
    double on = 0;
    for (const auto& p : path) on += num(p, "end_s") - num(p, "start_s");
    o += fmt("<p class=\"sub\">%zu ops, each the latest-ending predecessor of the next (a dependency or the op before "
             "it on its unit); they run for ",
             path.size()) +
         esc(fmt_time(on)) + " of the " + esc(fmt_time(total)) + " (" + pct(on, total) +
         "), the rest is gaps between them.</p>\n";
    o += "<table><tr><th class=\"n\">#</th><th>op</th><th>unit</th><th>bound</th><th class=\"n\">start</th>"
         "<th class=\"n\">duration</th><th class=\"n\">share</th></tr>\n";
    const size_t show = 30;
    for (size_t i = 0; i < path.size() && i < show; ++i) {
      const json& p = path[i];
      double d = num(p, "end_s") - num(p, "start_s");
      o += fmt("<tr><td class=\"n\">%zu</td><td class=\"name\">", i + 1) + esc(str(p, "name")) + "</td><td>" +
           esc(str(p, "unit")) + "</td><td>" + esc(str(p, "bound")) + "</td><td class=\"n\">" +
           esc(fmt_time(num(p, "start_s"))) + "</td><td class=\"n\">" + esc(fmt_time(d)) + "</td><td class=\"n\">" +
           pct(d, total) + "</td></tr>\n";
    }
    if (path.size() > show) {
      double rest = 0;
      for (size_t i = show; i < path.size(); ++i) rest += num(path[i], "end_s") - num(path[i], "start_s");
      o += fmt("<tr class=\"more\"><td></td><td colspan=\"4\">\xE2\x80\xA6 %zu more ops</td>", path.size() - show) +
           "<td class=\"n\">" + esc(fmt_time(rest)) + "</td><td class=\"n\">" + pct(rest, total) + "</td></tr>\n";
    }
    o += "</table>\n";
  }
  if (slack.is_array() && !slack.empty()) {
    std::vector<std::pair<double, size_t>> v;
    size_t zero = 0;
    const double tiny = std::max(1e-12, 1e-9 * total);  // rounding in the event times is not slack
    for (size_t i = 0; i < slack.size() && i < r.ops.size(); ++i) {
      double s = slack[i].is_number() ? slack[i].get<double>() : 0;
      if (s > tiny)
        v.push_back({s, i});
      else
        ++zero;
    }
    std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    o +=
        fmt("<h3>Ops with the most slack</h3>\n<p class=\"note\">How much later each could end before the end of the "
            "run moves (schedule as simulated). %zu of %zu ops have none%s.</p>\n",
            zero, std::min(slack.size(), r.ops.size()),
            v.empty() ? ": every op is on a chain that reaches the end of the run" : "");
    if (!v.empty()) {
      o += "<table><tr><th>op</th><th>kind</th><th>unit</th><th class=\"n\">duration</th><th class=\"n\">slack</th>"
           "</tr>\n";
      for (size_t i = 0; i < v.size() && i < 10; ++i) {
        const OpRecord& op = r.ops[v[i].second];
        o += "<tr><td class=\"name\">" + esc(op.name) + "</td><td>" + esc(op.kind) + "</td><td>" + esc(op.unit) +
             "</td><td class=\"n\">" + esc(fmt_time(op.duration_s())) + "</td><td class=\"n\">" +
             esc(fmt_time(v[i].first)) + "</td></tr>\n";
      }
      o += "</table>\n";
    }
  }
  o += "</section>\n";
}

const json& whatif_rows(const json& w) {
  if (w.is_object() && w.contains("rows")) return w["rows"];
  return w;
}

void section_whatif(std::string& o, const json& whatif) {
  const json& rows = whatif_rows(whatif);
  if (!rows.is_array() || rows.empty()) return;
  // Bars grow from the 1x line: right for a speedup, left (at most 45 px) for a slowdown, one scale for both.
  double gain = 0.01;
  for (const auto& row : rows) gain = std::max(gain, num(row, "speedup") - 1);
  o += "<section id=\"whatif\"><h2>What if</h2>\n<p class=\"sub\">The same workload rerun with one resource changed "
       "at a time, ranked by speedup over the baseline (first row).</p>\n";
  o += "<table class=\"whatif\"><tr><th>variant</th><th>change</th><th class=\"n\">time</th><th class=\"n\">speedup"
       "</th><th style=\"width:260px\"></th><th class=\"n\">energy</th></tr>\n";
  const double bar_w = 250;
  for (size_t i = 0; i < rows.size(); ++i) {
    const json& row = rows[i];
    std::string err = str(row, "error");
    double sp = num(row, "speedup"), t = num(row, "time_s", num(row, "time")),
           e = num(row, "energy_j", num(row, "energy"));
    std::string cls = i == 0 ? " class=\"base\"" : !err.empty() ? " class=\"err\"" : "";
    o += "<tr" + cls + "><td>" + esc(str(row, "name")) + "</td><td class=\"name\">" + esc(str(row, "change")) + "</td>";
    if (!err.empty()) {
      o += "<td colspan=\"4\">failed: " + esc(err) + "</td></tr>\n";
      continue;
    }
    o += "<td class=\"n\">" + esc(fmt_time(t)) + "</td><td class=\"n\">" + fmt("%.3fx", sp) + "</td><td>";
    const double one = 50, span = bar_w - one - 4;
    double w = std::abs(sp - 1) / gain * span, x = one;
    if (sp < 1) {
      w = std::min(w, one - 2);
      x = one - w;
    }
    o +=
        fmt("<svg viewBox=\"0 0 %.0f 14\" width=\"%.0f\" height=\"14\"><rect x=\"%.1f\" y=\"2\" width=\"%.1f\" "
            "height=\"10\" fill=\"%s\"/><line x1=\"%.0f\" y1=\"0\" x2=\"%.0f\" y2=\"14\" stroke=\"#222\"/></svg>",
            bar_w, bar_w, x, w, sp >= 1 ? "#59a14f" : "#e15759", one, one);
    o += "</td><td class=\"n\">" + esc(fmt_energy(e)) + "</td></tr>\n";
  }
  o += "</table>\n<p class=\"note\">Bars: the gain (right) or loss (left) against the baseline, from the line at "
       "1x.</p>\n</section>\n";
}

void section_compare(std::string& o, const json& compare) {
  if (!compare.is_object() || compare.empty()) return;
  o += "<section id=\"compare\"><h2>Measured (trace) vs simulated, per kernel class</h2>\n";
  o += "<table><tr><th>class</th><th class=\"n\">kernels</th><th class=\"n\">measured</th><th class=\"n\">simulated"
       "</th><th class=\"n\">sim/meas</th><th style=\"width:260px\"></th></tr>\n";
  double tm = 0, ts = 0, tk = 0, mx = 0;
  for (auto it = compare.begin(); it != compare.end(); ++it)
    mx = std::max({mx, num(it.value(), "measured_us"), num(it.value(), "sim_us")});
  auto row = [&](const std::string& name, double k, double m, double s, bool bold) {
    o += std::string(bold ? "<tr class=\"base\">" : "<tr>") + "<td>" + esc(name) + "</td>" +
         fmt("<td class=\"n\">%.0f</td>", k) + "<td class=\"n\">" + esc(fmt_time(m * 1e-6)) + "</td><td class=\"n\">" +
         esc(fmt_time(s * 1e-6)) + "</td><td class=\"n\">" + (m > 0 ? fmt("%.3f", s / m) : std::string("-")) +
         "</td><td>";
    if (!bold && mx > 0)
      o +=
          fmt("<svg viewBox=\"0 0 252 16\" width=\"252\" height=\"16\"><rect x=\"0\" y=\"1\" width=\"%.1f\" "
              "height=\"6\" fill=\"#9aa5b1\"/><rect x=\"0\" y=\"8\" width=\"%.1f\" height=\"6\" fill=\"#4e79a7\"/>"
              "</svg>",
              m / mx * 250, s / mx * 250);
    o += "</td></tr>\n";
  };
  for (auto it = compare.begin(); it != compare.end(); ++it) {
    double k = num(it.value(), "kernels"), m = num(it.value(), "measured_us"), s = num(it.value(), "sim_us");
    if (k <= 0) continue;
    row(it.key(), k, m, s, false);
    tm += m;
    ts += s;
    tk += k;
  }
  row("total", tk, tm, ts, true);
  o += "</table>\n<div class=\"legend\">" + legend_item("#9aa5b1", "measured") + legend_item("#4e79a7", "simulated") +
       "</div><p class=\"note\">Unmodelled kernels run for their measured time.</p>\n</section>\n";
}

// Each unit's busy share over the run (analysis.busy_over_time): one strip per unit, darker when busier.
void section_busy(std::string& o, const RunResult& r) {
  const json& b = field(field(r.analysis, "busy_over_time"), "units");
  if (!b.is_object() || b.empty()) return;
  const double W = 1100, label_w = 120, row_h = 18, gap = 6;
  const double H = double(b.size()) * (row_h + gap) + 24;
  o += "<h3>Busy share of each unit over the run</h3>\n";
  o += fmt("<svg id=\"busy-chart\" class=\"busy\" viewBox=\"0 0 %.0f %.0f\" width=\"100%%\" role=\"img\">\n", W, H);
  double y = 4;
  for (const auto& [unit, v] : b.items()) {
    if (!v.is_array() || v.empty()) continue;
    o += fmt("<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" class=\"axis\">%s</text>\n", label_w - 8,
             y + row_h * 0.7, esc(unit).c_str());
    const double cw = (W - label_w - 60) / double(v.size());
    double mean = 0;
    for (size_t k = 0; k < v.size(); ++k) {
      const double share = v[k].is_number() ? v[k].get<double>() : 0;
      mean += share;
      o += fmt("<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.0f\" fill=\"#4e79a7\" "
               "fill-opacity=\"%.3f\"><title>%s: %.0f%% busy in slice %zu</title></rect>\n",
               label_w + double(k) * cw, y, cw + 0.05, row_h, std::max(0.04, share), esc(unit).c_str(), 100 * share,
               k + 1);
    }
    o += fmt("<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" class=\"axis\">%.0f%%</text>\n", W - 6, y + row_h * 0.7,
             100 * mean / double(v.size()));
    y += row_h + gap;
  }
  o += fmt("<text x=\"%.0f\" y=\"%.0f\" class=\"axis\">0</text><text x=\"%.0f\" y=\"%.0f\" "
           "text-anchor=\"end\" class=\"axis\">%s</text>\n",
           label_w, H - 4, W - 60, H - 4, esc(fmt_time(r.total_time_s)).c_str());
  o += "</svg>\n";
}

void section_timeline(std::string& o, const RunResult& r, const Kinds& kinds) {
  double T = r.total_time_s;
  for (const auto& op : r.ops) T = std::max(T, op.end_s);
  if (r.ops.empty() || T <= 0) return;
  // Lanes: units in order of first appearance; ops that overlap on a unit take sub-rows (at most 8).
  std::vector<std::string> units;
  std::map<std::string, std::vector<size_t>> by_unit;
  for (size_t i = 0; i < r.ops.size(); ++i) {
    auto& v = by_unit[r.ops[i].unit];
    if (v.empty()) units.push_back(r.ops[i].unit);
    v.push_back(i);
  }
  const double W = 1100, ml = 120, mr = 10, pw = W - ml - mr, row_h = 18, gap = 8, mt = 6;
  auto X = [&](double t) { return ml + t / T * pw; };
  struct Rect {
    double x0 = 0, x1 = 0;
    size_t row = 0, count = 1;
    std::map<size_t, double> kind_time;  // kind -> busy time
    double busy = 0;
    size_t first = 0, last = 0;
  };
  const bool merge = r.ops.size() > 3000;
  std::vector<std::vector<Rect>> lanes;  // per unit
  std::vector<size_t> rows_of;
  for (const auto& u : units) {
    std::vector<size_t> v = by_unit[u];
    std::stable_sort(v.begin(), v.end(), [&](size_t a, size_t b) { return r.ops[a].start_s < r.ops[b].start_s; });
    std::vector<double> row_end;
    std::vector<std::vector<size_t>> rows;
    for (size_t i : v) {
      const OpRecord& op = r.ops[i];
      size_t pick = row_end.size();
      for (size_t k = 0; k < row_end.size(); ++k)
        if (row_end[k] <= op.start_s + 1e-15) {
          pick = k;
          break;
        }
      if (pick == row_end.size()) {
        if (row_end.size() < 8) {
          row_end.push_back(0);
          rows.emplace_back();
        } else {
          pick = size_t(std::min_element(row_end.begin(), row_end.end()) - row_end.begin());
        }
      }
      row_end[pick] = std::max(row_end[pick], op.end_s);
      rows[pick].push_back(i);
    }
    std::vector<Rect> rects;
    for (size_t k = 0; k < rows.size(); ++k) {
      bool open = false;
      for (size_t i : rows[k]) {
        const OpRecord& op = r.ops[i];
        double a = X(op.start_s), b = X(op.end_s);
        size_t kind = kinds.of(op.kind);
        if (merge && open) {
          Rect& c = rects.back();
          // A run of one kind grows freely; a mixed run (coloured by its dominant kind) at most 3 px wide.
          bool same = c.kind_time.size() == 1 && c.kind_time.begin()->first == kind;
          if (a - c.x1 <= 1.0 && (same || std::max(c.x1, b) - c.x0 <= 3.0)) {
            c.x1 = std::max(c.x1, b);
            c.count++;
            c.kind_time[kind] += op.duration_s();
            c.busy += op.duration_s();
            c.last = i;
            continue;
          }
        }
        Rect n;
        n.x0 = a;
        n.x1 = b;
        n.row = k;
        n.kind_time[kind] = op.duration_s();
        n.busy = op.duration_s();
        n.first = n.last = i;
        rects.push_back(std::move(n));
        open = true;
      }
    }
    rows_of.push_back(std::max<size_t>(1, rows.size()));
    lanes.push_back(std::move(rects));
  }
  double H = mt;
  for (size_t n : rows_of) H += n * row_h + gap;
  const double axis_y = H;
  H += 34;

  o += "<section id=\"timeline\"><h2>Timeline</h2>\n";
  o += fmt("<svg id=\"timeline-chart\" class=\"timeline\" viewBox=\"0 0 %.0f %.0f\" width=\"100%%\" role=\"img\">\n", W,
           H);
  // Time axis: gridlines and labels in one unit.
  double step = nice_step(T, 10);
  double scale = T < 1e-3 ? 1e6 : T < 1 ? 1e3 : 1;
  const char* unit = T < 1e-3 ? "us" : T < 1 ? "ms" : "s";
  int decimals = std::max(0, int(std::ceil(-std::log10(step * scale) + 1e-9)));
  for (int i = 0;; ++i) {
    double t = i * step;
    if (t > T * (1 + 1e-9)) break;
    double x = X(t);
    o += fmt("<line class=\"grid\" x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\"/>", x, mt - 2, x, axis_y + 4);
    o += fmt("<text class=\"ax\" x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%.*f</text>\n", x, axis_y + 16, decimals,
             t * scale);
  }
  o += fmt("<text class=\"at\" x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">time (%s)</text>\n", ml + pw / 2, H - 3,
           unit);
  std::set<size_t> used;
  double y = mt;
  size_t rect_count = 0;
  for (size_t u = 0; u < units.size(); ++u) {
    double lane_h = rows_of[u] * row_h;
    o += fmt("<rect class=\"lane\" x=\"%.0f\" y=\"%.1f\" width=\"%.0f\" height=\"%.0f\"/>", ml, y, pw, lane_h);
    o += fmt("<text class=\"lbl\" x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">", ml - 8, y + lane_h / 2 + 4) +
         esc(clip(units[u].empty() ? "(no unit)" : units[u], 16)) + "</text>\n";
    for (const Rect& c : lanes[u]) {
      size_t dom = c.kind_time.begin()->first;
      for (const auto& kt : c.kind_time)
        if (kt.second > c.kind_time.at(dom)) dom = kt.first;
      used.insert(dom);
      ++rect_count;
      std::string tip;
      if (c.count == 1) {
        const OpRecord& op = r.ops[c.first];
        tip = op.name + " (" + op.kind + ") " + fmt_time(op.duration_s()) + " at " + fmt_time(op.start_s) + ", " +
              bound_name(op.bound) + "-bound";
      } else {
        tip = fmt("%zu ops, ", c.count) + fmt_time(c.busy) + " busy";
        for (const auto& kt : c.kind_time) tip += ", " + kinds.names[kt.first] + " " + pct(kt.second, c.busy);
        tip += " (" + r.ops[c.first].name + " \xE2\x80\xA6 " + r.ops[c.last].name + ")";
      }
      o += fmt("<rect class=\"k%zu\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\"><title>", dom, c.x0,
               y + c.row * row_h + 1, std::max(c.x1 - c.x0, 0.4), row_h - 2) +
           esc(tip) + "</title></rect>\n";
    }
    y += lane_h + gap;
  }
  o += "</svg>\n" + kind_legend(kinds, used);
  if (merge)
    o +=
        fmt("<p class=\"note\">%zu ops drawn as %zu bars: neighbours on a lane less than a pixel apart are merged "
            "(hover for counts).</p>\n",
            r.ops.size(), rect_count);
  section_busy(o, r);
  o += "</section>\n";
}

void section_top_ops(std::string& o, const RunResult& r) {
  if (r.ops.empty()) return;
  struct G {
    std::string op, kind;
    size_t count = 0;
    double time = 0, flops = 0, bytes = 0, energy = 0;
    std::array<double, kBoundCount> by{};
  };
  std::map<std::pair<std::string, std::string>, G> m;
  for (const auto& op : r.ops) {
    std::string base = strip_layer_prefix(op.name, op.layer);
    G& g = m[{base, op.kind}];
    g.op = base;
    g.kind = op.kind;
    g.count++;
    g.time += op.duration_s();
    g.flops += op.flops;
    g.bytes += op.bytes;
    g.energy += op.energy_j;
    size_t b = size_t(op.bound);
    if (b < kBoundCount) g.by[b] += op.duration_s();
  }
  std::vector<G> v;
  for (auto& kv : m) v.push_back(kv.second);
  std::stable_sort(v.begin(), v.end(), [](const G& a, const G& b) { return a.time > b.time; });
  const double denom = time_denominator(r);
  const size_t show = 15;
  o += fmt("<section id=\"top\"><h2>Top ops by time (%zu of %zu)</h2>\n", std::min(show, v.size()), v.size());
  o += "<table><tr><th>op</th><th>kind</th><th class=\"n\">count</th><th class=\"n\">time</th><th class=\"n\">%</th>"
       "<th class=\"n\">TFLOP/s</th><th class=\"n\">GB/s</th><th class=\"n\">energy</th><th>bound</th></tr>\n";
  for (size_t i = 0; i < v.size() && i < show; ++i) {
    const G& g = v[i];
    size_t best = 0;
    for (size_t b = 1; b < kBoundCount; ++b)
      if (g.by[b] > g.by[best]) best = b;
    o += "<tr><td class=\"name\">" + esc(g.op) + "</td><td>" + esc(g.kind) +
         fmt("</td><td class=\"n\">%zu</td>", g.count) + "<td class=\"n\">" + esc(fmt_time(g.time)) +
         "</td><td class=\"n\">" + pct(g.time, denom) + "</td>" +
         fmt("<td class=\"n\">%.2f</td><td class=\"n\">%.1f</td>", ratio(g.flops, g.time) / 1e12,
             ratio(g.bytes, g.time) / 1e9) +
         "<td class=\"n\">" + esc(fmt_energy(g.energy)) + "</td><td>" + bound_name(static_cast<Bound>(best)) +
         "</td></tr>\n";
  }
  o += "</table>\n<p class=\"note\">The same op of every layer (and micro-batch) adds up; energy is the dynamic "
       "energy attributed to the ops.</p>\n</section>\n";
}

}  // namespace

std::string html_report(const RunResult& r, const json& whatif, const json& compare) {
  const Kinds kinds(r);
  std::string o;
  o.reserve(64 * 1024 + r.ops.size() * 300);
  std::string title = "xpusim: " + (r.workload_name.empty() ? std::string("run") : r.workload_name) + " on " +
                      (r.hw_name.empty() ? std::string("?") : r.hw_name);
  o += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
       esc(title) + "</title>\n";
  o += kStyle;
  for (size_t i = 0; i < kinds.names.size(); ++i) o += fmt(".k%zu{fill:%s}", i, kinds.color(i));
  o += "\n</style>\n</head>\n<body>\n<main>\n<h1>" + esc(title) + "</h1>\n";
  o += "<p class=\"sub\">" + esc(fmt_time(r.total_time_s)) + ", " + esc(fmt_energy(r.energy_j)) +
       fmt(", %zu ops", r.ops.size()) +
       "</p>\n<nav><a href=\"#summary\">summary</a><a href=\"#time\">time</a>"
       "<a href=\"#energy\">energy</a>" + std::string(r.cost.present ? "<a href=\"#cost\">area and cost</a>" : "") +
       "<a href=\"#roofline\">roofline</a>";
  if (r.analysis.is_object()) o += "<a href=\"#critical\">critical path</a>";
  if (whatif_rows(whatif).is_array() && !whatif_rows(whatif).empty()) o += "<a href=\"#whatif\">what if</a>";
  if (compare.is_object() && !compare.empty()) o += "<a href=\"#compare\">measured vs simulated</a>";
  o += "<a href=\"#timeline\">timeline</a><a href=\"#top\">top ops</a></nav>\n";
  section_summary(o, r);
  section_time(o, r, kinds);
  section_energy(o, r);
  section_cost(o, r);
  section_roofline(o, r, kinds);
  section_critical(o, r);
  section_whatif(o, whatif);
  section_compare(o, compare);
  section_timeline(o, r, kinds);
  section_top_ops(o, r);
  o += "<p class=\"note\">Written by xpusim. Self-contained: inline CSS and SVG, no script; hover a bar or a dot for "
       "details.</p>\n</main>\n</body>\n</html>\n";
  return o;
}

void write_html_file(const std::string& path, const std::string& html) {
  make_parent_dirs(path);
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw InputError(SourceMark{path}, std::string("cannot open for writing: ") + std::strerror(errno));
  f.write(html.data(), static_cast<std::streamsize>(html.size()));
  f.close();
  if (f.fail()) throw InputError(SourceMark{path}, "cannot write file (disk full?)");
}

}  // namespace xpu
