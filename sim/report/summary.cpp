#include "sim/report/summary.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <map>
#include <vector>

#include "sim/engine/communication.h"
#include "sim/report/format.h"

namespace xpu {

namespace {

// A pipeline bubble is a stage waiting for the others: idle time, not a collective.
bool is_bubble(const OpRecord& op) { return op.variant == "pipeline_bubble"; }

// Long names would break the table; the tail is kept because it is the part that differs ("...attn.q_proj").
std::string clip(const std::string& s, size_t width) {
  if (s.size() <= width) return s;
  return "~" + s.substr(s.size() - (width - 1));
}

bool is_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

struct Group {
  std::string op, kind;
  size_t count = 0;
  double time = 0, flops = 0, bytes = 0;
  std::array<double, kBoundCount> by_bound{};  // time per Bound, to pick the dominant one
};

const char* dominant_bound(const Group& g) {
  size_t best = 0;
  for (size_t i = 1; i < g.by_bound.size(); ++i)
    if (g.by_bound[i] > g.by_bound[best]) best = i;
  return bound_name(static_cast<Bound>(best));
}

// Groups sorted by time, longest first; ties by name so the order never depends on input order.
std::vector<Group> sorted(std::map<std::pair<std::string, std::string>, Group>&& m) {
  std::vector<Group> v;
  v.reserve(m.size());
  for (auto& kv : m) v.push_back(std::move(kv.second));
  std::stable_sort(v.begin(), v.end(), [](const Group& a, const Group& b) { return a.time > b.time; });
  return v;
}

void add(Group& g, const OpRecord& op) {
  double d = op.duration_s();
  g.count++;
  g.time += d;
  g.flops += op.flops;
  g.bytes += op.bytes;
  size_t b = static_cast<size_t>(op.bound);
  if (b < g.by_bound.size()) g.by_bound[b] += d;
}

// Descriptions can be paragraphs; wrapping at word boundaries keeps the summary within 100 columns.
void print_wrapped(std::ostream& out, const std::string& text, size_t indent, size_t width) {
  std::string line;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find_first_of(" \n", i);
    if (j == std::string::npos) j = text.size();
    std::string word = text.substr(i, j - i);
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      out << std::string(indent, ' ') << line << "\n";
      line.clear();
    }
    if (!word.empty()) line += (line.empty() ? "" : " ") + word;
    i = j + 1;
  }
  if (!line.empty()) out << std::string(indent, ' ') << line << "\n";
}

void print_header(std::ostream& out, const RunResult& r) {
  out << "Hardware:  " << (r.hw_name.empty() ? "?" : r.hw_name);
  if (!r.hw_file.empty()) out << " (" << r.hw_file << ")";
  out << "\nWorkload:  " << (r.workload_name.empty() ? "?" : r.workload_name);
  if (!r.workload_file.empty()) out << " (" << r.workload_file << ")";
  out << "\n";
  print_wrapped(out, r.workload_description, 11, 88);
  out << "\n";
}

void print_headline(std::ostream& out, const RunResult& r) {
  double t = r.total_time_s;
  out << fmt("%-18s%s\n", "Total time", fmt_time(t).c_str());
  out << fmt("%-18s%s (%.1f%% of total, per device: time with a kernel or collective running)", "GPU busy",
             fmt_time(r.gpu_active_s).c_str(), 100 * ratio(r.gpu_active_s, t));
  // Overlapping streams: the kernels' own durations add up to more than the time they cover.
  if (r.gpu_busy_s > r.gpu_active_s * 1.001)
    out << fmt("\n%-18sop durations sum to %s over overlapping streams", "", fmt_time(r.gpu_busy_s).c_str());
  out << "\n";
  if (r.items > 0 && t > 0) {
    out << fmt("%-18s%s %ss/s, whole job", "Throughput", fmt_count(r.items / t).c_str(), r.item.c_str());
    if (r.replicas > 1)
      out << fmt(" (%lld data-parallel replicas x %.0f %ss per step)", (long long)r.replicas, r.items_per_replica,
                 r.item.c_str());
    else
      out << fmt(" (%.0f %ss per step)", r.items, r.item.c_str());
    out << "\n";
  }
  out << fmt("%-18s%s per device", "Compute", fmt_si(ratio(r.flops, t), "FLOP/s").c_str());
  if (r.peak_flops > 0)
    out << fmt(" (%.1f%% of %s peak)", 100 * ratio(r.flops, t) / r.peak_flops, fmt_si(r.peak_flops, "FLOP/s").c_str());
  out << "\n";
  if (r.tdp_w > 0 && r.max_clock_hz > 0)
    out << fmt("%-18s%.2f GHz per device, busy-time average (max %.2f GHz; %s the %.0f W cap)\n", "Clock",
               r.sustained_clock_hz / 1e9, r.max_clock_hz / 1e9,
               r.sustained_clock_hz < 0.999 * r.max_clock_hz ? "held down by" : "within", r.tdp_w);
  out << fmt("%-18s%s per device", "HBM bandwidth", fmt_si(ratio(r.hbm_bytes, t), "B/s").c_str());
  if (r.peak_hbm_bw > 0)
    out << fmt(" (%.1f%% of %s peak)", 100 * ratio(r.hbm_bytes, t) / r.peak_hbm_bw,
               fmt_si(r.peak_hbm_bw, "B/s").c_str());
  out << "\n";
}

void print_energy(std::ostream& out, const RunResult& r) {
  double e = r.energy_j;
  out << fmt("%-18s%s, average power %.1f W", "Energy", fmt_energy(e).c_str(), ratio(e, r.total_time_s));
  if (r.devices > 1 && r.job_devices < r.devices)
    out << fmt(" (whole job)\n%-18sthe job's %lld of the system's %lld devices and the network; %lld idle, not counted\n",
               "", (long long)r.job_devices, (long long)r.devices, (long long)(r.devices - r.job_devices));
  else if (r.devices > 1)
    out << fmt(" (whole job: %lld devices and their network)\n", (long long)r.devices);
  else
    out << " (one device)\n";
  auto part = [&](const char* name, double j) {
    out << fmt("  %-16s%-14s%5.1f%%\n", name, fmt_energy(j).c_str(), 100 * ratio(j, e));
  };
  part("compute", r.energy_compute_j);
  part("data movement", r.energy_data_j);
  part("static", r.energy_static_j);
  // Dynamic energy that is neither arithmetic nor data movement (control, clocking) would otherwise vanish.
  double other = e - r.energy_compute_j - r.energy_data_j - r.energy_static_j;
  if (std::abs(other) > 1e-9 * std::max(1.0, e)) part("other", other);
  double net = 0, comm = 0;
  for (const auto& c : r.components)
    if (c.scope == "system") net += c.energy_dynamic_j + c.energy_static_j;
  for (const auto& op : r.ops)
    if (op.unit == "network" && !is_bubble(op)) comm += op.duration_s();
  if (net > 0)
    out << fmt("  %-16s%-14s%5.1f%% (links and switches; inside the shares above)\n", "network",
               fmt_energy(net).c_str(), 100 * ratio(net, e));
  if (r.items > 0)
    out << fmt("  per %-12s%-14s(whole job / %.0f %ss per step)\n", r.item.c_str(), fmt_energy(e / r.items).c_str(),
               r.items, r.item.c_str());
  if (comm > 0) {
    out << fmt("%-18s%s in collectives (%.1f%% of the run, overlapped or not)\n", "Communication",
               fmt_time(comm).c_str(), 100 * ratio(comm, r.total_time_s));
    const CommunicationSummary c = summarize_communication(r.ops);
    out << fmt("  %-16s%s with no kernel running (%.1f%% of the run), per device\n", "exposed",
               fmt_time(c.exposed_s).c_str(), 100 * ratio(c.exposed_s, r.total_time_s));
    std::string classes;
    for (const auto& [name, k] : c.by_class)
      classes += (classes.empty() ? "" : ", ") + name + " " + fmt_time(k.time_s) + " (" + std::to_string(k.count) + ")";
    out << fmt("  %-16s%s\n", "by class", classes.c_str());
  }
}

void print_components(std::ostream& out, const RunResult& r) {
  if (r.components.empty()) return;
  out << "\nComponents\n";
  out << "  (busy: share of the run a block was busy; the HBM headline is bytes moved against peak)\n";
  if (r.devices > 1)
    out << fmt("  (device blocks: energy of the job's %lld devices; network blocks: all instances)\n",
               (long long)r.job_devices);
  out << fmt("  %-32s %-16s %7s %14s %12s\n", "name", "type", "busy", "energy", "area mm2");
  for (const auto& c : r.components)
    out << fmt("  %-32s %-16s %6.1f%% %14s %12.1f\n", clip(c.name, 32).c_str(), clip(c.type, 16).c_str(),
               100 * c.utilization, fmt_energy(c.copies * (c.energy_dynamic_j + c.energy_static_j)).c_str(), c.area_mm2);
}

void print_kinds(std::ostream& out, const RunResult& r, double denom) {
  std::map<std::pair<std::string, std::string>, Group> m;
  for (const auto& op : r.ops) {
    // A pipeline bubble is idle time waiting for other stages, not a collective: it gets its own line.
    const std::string kind = is_bubble(op) ? std::string("pipeline bubble") : op.kind;
    Group& g = m[{kind, ""}];
    g.op = kind;
    add(g, op);
  }
  out << "\nTime by kind\n";
  out << fmt("  %-20s %8s %12s %7s %9s %9s\n", "kind", "count", "time", "%", "TFLOP/s", "GB/s");
  for (const auto& g : sorted(std::move(m)))
    out << fmt("  %-20s %8zu %12s %6.1f%% %9.2f %9.1f\n", clip(g.op, 20).c_str(), g.count,
               fmt_time(g.time).c_str(), 100 * ratio(g.time, denom), ratio(g.flops, g.time) / 1e12,
               ratio(g.bytes, g.time) / 1e9);
}

void print_top_ops(std::ostream& out, const RunResult& r, double denom, size_t top_n) {
  std::map<std::pair<std::string, std::string>, Group> m;
  for (const auto& op : r.ops) {
    std::string base = strip_layer_prefix(op.name, op.layer);
    Group& g = m[{base, op.kind}];
    g.op = base;
    g.kind = op.kind;
    add(g, op);
  }
  std::vector<Group> v = sorted(std::move(m));
  out << fmt("\nTop ops by time (%zu of %zu)\n", std::min(top_n, v.size()), v.size());
  out << fmt("  %-26s %-13s %6s %11s %6s %8s %8s %s\n", "op", "kind", "count", "time", "%", "TFLOP/s", "GB/s",
             "bound");
  for (size_t i = 0; i < v.size() && i < top_n; ++i) {
    const Group& g = v[i];
    out << fmt("  %-26s %-13s %6zu %11s %5.1f%% %8.2f %8.1f %s\n", clip(g.op, 26).c_str(),
               clip(g.kind, 13).c_str(), g.count, fmt_time(g.time).c_str(), 100 * ratio(g.time, denom),
               ratio(g.flops, g.time) / 1e12, ratio(g.bytes, g.time) / 1e9, dominant_bound(g));
  }
}

}  // namespace

// Copies of one op for successive micro-batches ("L3.q_proj.mb5") add up in the summary.
static std::string strip_microbatch(const std::string& name) {
  size_t at = name.rfind(".mb");
  if (at == std::string::npos || at + 3 >= name.size()) return name;
  for (size_t i = at + 3; i < name.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(name[i]))) return name;
  return name.substr(0, at);
}

std::string strip_layer_prefix(const std::string& raw, const std::string& layer) {
  const std::string name = strip_microbatch(raw);
  if (!layer.empty() && name.size() > layer.size() + 1 && name.compare(0, layer.size(), layer) == 0) {
    char sep = name[layer.size()];
    if (sep == '.' || sep == '/' || sep == ':') return name.substr(layer.size() + 1);
  }
  // Without a usable layer field, recognise the common spellings: "L3.x", "layer12/x", "layers.3.x".
  size_t dot = name.find_first_of("./");
  if (dot == std::string::npos || dot + 1 >= name.size()) return name;
  std::string first = name.substr(0, dot);
  auto is_letter = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; };
  size_t letters = 0;
  while (letters < first.size() && is_letter(first[letters])) ++letters;
  if (letters < first.size() && is_digits(first.substr(letters))) return name.substr(dot + 1);
  if (letters == first.size()) {
    size_t dot2 = name.find_first_of("./", dot + 1);
    if (dot2 != std::string::npos && dot2 + 1 < name.size() && is_digits(name.substr(dot + 1, dot2 - dot - 1)))
      return name.substr(dot2 + 1);
  }
  return name;
}

// Where the wall time went (by the bound of what was running) and the chain of ops that set the end time.
void print_why(std::ostream& out, const RunResult& r) {
  const auto& a = r.analysis;
  if (!a.is_object() || !a.contains("time_by_bound_s") || r.total_time_s <= 0) return;
  std::vector<std::pair<double, std::string>> parts;
  for (const auto& [k, v] : a["time_by_bound_s"].items())
    if (v.get<double>() > 0) parts.push_back({v.get<double>(), k});
  std::sort(parts.rbegin(), parts.rend());
  std::string line;
  for (const auto& [t, k] : parts) line += (line.empty() ? "" : ", ") + k + fmt(" %.1f%%", 100 * t / r.total_time_s);
  out << fmt("%-18s%s\n", "Time by bound", line.c_str());
  const auto& path = a["critical_path"];
  if (path.empty()) return;
  const double work = a.value("critical_path_busy_s", 0.0);
  const size_t on_path = a.value("critical_path_ops", size_t(path.size()));
  std::string slack;
  const auto& s = a["slack_s"];
  size_t best = 0;
  for (size_t i = 1; i < s.size(); ++i)
    if (s[i].get<double>() > s[best].get<double>()) best = i;
  if (!s.empty() && s[best].get<double>() > 1e-9 && best < r.ops.size())
    slack = "; most slack: " + r.ops[best].name + " (" + fmt_time(s[best].get<double>()) + ")";
  out << fmt("%-18s%zu of %zu ops, %s busy (%.1f%% of the run)%s\n", "Critical path", on_path, r.ops.size(),
             fmt_time(work).c_str(), 100 * work / r.total_time_s, slack.c_str());
}

void print_summary(std::ostream& out, const RunResult& r, size_t top_n) {
  print_header(out, r);
  print_headline(out, r);
  print_why(out, r);
  print_energy(out, r);
  double area = 0;
  for (const auto& c : r.components) area += c.scope == "device" ? c.area_mm2 : 0;
  if (r.components.empty()) area = r.area_mm2;
  if (r.cost.present) {
    out << fmt("%-18s%.1f mm2 per device (%s: derived from each block's structure; `xpusim cost` breaks it down)\n",
               "Die area", area, r.cost.node.c_str());
    if (!r.cost.priced)
      out << fmt("%-18s%s\n", "Price", r.cost.notes.empty() ? "none" : r.cost.notes.back().c_str());
    else out << fmt("%-18s$%.0f per device (die $%.0f at %.1f %% yield, HBM $%.0f, interposer and package $%.0f); "
               "$%.0f for the job's %lld device(s)\n",
               "Price", r.cost.device_usd, r.cost.die_usd, 100 * r.cost.yield, r.cost.hbm_usd,
               r.cost.interposer_usd + r.cost.package_usd, r.cost.device_usd * double(r.job_devices),
               static_cast<long long>(r.job_devices));
    // What the cost model assumed (stacks the bandwidth needs, values it could not scale), unless the Price line said it.
    if (r.cost.priced)
      for (const auto& n : r.cost.notes) out << fmt("%-18snote: %s\n", "", n.c_str());
  } else {
    out << fmt("%-18s%.1f mm2 per device\n", "Die area", area);
  }
  if (r.tco.present) {
    const auto& o = r.tco.options;
    std::string per = r.tco.usd_per_mitem > 0 ? fmt(", $%.4g per million %ss", r.tco.usd_per_mitem, r.item.c_str())
                                              : std::string();
    std::string net = r.tco.network_usd > 0 ? fmt(" and $%.0f of network", r.tco.network_usd) : std::string();
    out << fmt("%-18s$%.4g per step, whole job%s (devices at %.3gx their cost%s over %.3g years at %.0f %% use, "
               "energy at PUE %.2g and $%.3g/kWh; servers and facility not included)\n",
               "TCO", r.tco.usd_per_step, per.c_str(), o.markup, net.c_str(), o.years, 100 * o.utilization, o.pue,
               o.usd_per_kwh);
  }
  if (r.stack != "eager")
    out << fmt("%-18s%s: %zu kernels per device (eager: %zu); fusion keeps %s of intermediate tensors on chip "
               "(eager writes and reads them back)\n",
               "Software stack", r.stack.c_str(), r.kernels, r.eager_kernels, fmt_si(r.fused_bytes, "B").c_str());
  std::string rate = fmt_count(ratio(double(r.events), r.wall_s));
  out << fmt("%-18s%llu events in %.3f s wall (%s events/s)\n", "Simulation",
             static_cast<unsigned long long>(r.events), r.wall_s, rate.c_str());
  print_components(out, r);
  if (r.ops.empty()) return;
  // Shares are of the run's time; a result without a total (hand-built, or trace-only) falls back to kernel time.
  double denom = r.total_time_s;
  if (denom <= 0)
    for (const auto& op : r.ops) denom += op.duration_s();
  print_kinds(out, r, denom);
  print_top_ops(out, r, denom, top_n);
}

}  // namespace xpu
