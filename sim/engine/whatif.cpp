#include "sim/engine/whatif.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "sim/config/config_tree.h"
#include "sim/config/errors.h"
#include "sim/config/hardware.h"
#include "sim/workload/stack.h"
#include "sim/engine/isolated_run.h"
#include "sim/config/registry.h"

namespace xpu {
namespace {

// "3.35 TB/s" x 2 -> "6.7 TB/s"; "4096" x 2 -> "8192".
std::string scale_text(const std::string& text, double factor) {
  const char* s = text.c_str();
  char* end = nullptr;
  const double v = std::strtod(s, &end);
  if (end == s) return text;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v * factor);
  return std::string(buf) + std::string(end);
}

// The value of `key` for a component: written, else its preset's, else the kind's default.
std::string current_value(const ConfigNode& comp, const ComponentKind& kind, const std::string& key,
                          bool* is_map) {
  *is_map = false;
  if (const ConfigNode* v = comp.find(key)) {
    if (v->is_map()) {
      *is_map = true;
      std::string flow = "{";
      for (const auto& [k, x] : v->map) flow += (flow.size() > 1 ? ", " : "") + k + ": " + x.scalar;
      return flow + "}";
    }
    return v->scalar;
  }
  if (const ConfigNode* p = comp.find("preset")) {
    auto it = kind.presets.find(p->scalar);
    if (it != kind.presets.end() && it->second.count(key)) return it->second.at(key);
  }
  for (const auto& s : kind.params)
    if (s.name == key) return s.default_value;
  return "";
}

// Overrides that scale `key` of every component of the given types by `factor` (maps: every entry).
std::vector<std::string> scale_overrides(const ConfigNode& tree, const std::vector<std::string>& types,
                                         const std::string& key, double factor) {
  std::vector<std::string> out;
  const ConfigNode* comps = tree.find("components");
  if (!comps) return out;
  for (const auto& [name, c] : comps->map) {
    const ConfigNode* t = c.find("type");
    if (!t || std::find(types.begin(), types.end(), t->scalar) == types.end()) continue;
    const ComponentKind* kind = Registry::instance().find(t->scalar);
    if (!kind) continue;
    bool is_map = false;
    const std::string v = current_value(c, *kind, key, &is_map);
    if (v.empty()) continue;
    std::string scaled;
    if (is_map || (!v.empty() && v.front() == '{')) {
      // A flow map "{bf16: 4096, fp8: 8192}": scale each value.
      ConfigNode m = parse_yaml(v, "what-if");
      scaled = "{";
      for (const auto& [k, x] : m.map) scaled += (scaled.size() > 1 ? ", " : "") + k + ": " + scale_text(x.scalar, factor);
      scaled += "}";
      if (factor == 0) scaled = "{}";
    } else {
      scaled = scale_text(v, factor);
    }
    out.push_back("components." + name + "." + key + "=" + scaled);
  }
  return out;
}

struct Scenario {
  std::string name;
  std::vector<std::string> overrides;
  std::string stack;  // rerun the workload on this software stack instead (sim/workload/stack.h)
};

}  // namespace

std::vector<WhatIfRow> run_whatif(const std::string& hw_path, const std::vector<std::string>& overrides,
                                  const Workload& wl, const RunOptions& opt, const std::vector<std::string>& extra,
                                  bool quiet) {
  const HardwareConfig base = load_hardware(hw_path, overrides);
  std::vector<Scenario> sc;
  sc.push_back({"baseline", {}, ""});
  auto add = [&](const std::string& name, std::vector<std::string> o) {
    if (!o.empty()) sc.push_back({name, std::move(o), ""});
  };
  {
    // A matrix unit twice as fast is fed twice as fast: scaling only its MACs would measure the operand path.
    auto o = scale_overrides(base.tree, {"compute_core"}, "matrix_flops_per_clk", 2);
    for (auto& f : scale_overrides(base.tree, {"compute_core"}, "operand_feed_bytes_per_clk", 2))
      if (f.size() < 2 || f.compare(f.size() - 2, 2, "=0") != 0) o.push_back(f);
    add("matrix rate x2", o);
  }
  add("vector rate x2", scale_overrides(base.tree, {"compute_core"}, "vector_flops_per_clk", 2));
  add("HBM bandwidth x2", scale_overrides(base.tree, {"hbm"}, "bandwidth", 2));
  add("L2/SRAM capacity x2", scale_overrides(base.tree, {"sram"}, "capacity", 2));
  add("L2/SRAM bandwidth x2", scale_overrides(base.tree, {"sram"}, "bandwidth", 2));
  {
    auto o = scale_overrides(base.tree, {"link", "d2d"}, "bandwidth", 2);
    auto p = scale_overrides(base.tree, {"photonic_link"}, "rate", 2);
    o.insert(o.end(), p.begin(), p.end());
    if (base.network.present) add("link bandwidth x2", o);
  }
  {
    std::vector<std::string> o;
    for (const char* k : {"launch_overhead", "view_overhead", "launch_latency", "kernel_gap", "graph_kernel_gap",
                          "autograd_overhead", "backward_op_overhead"}) {
      auto v = scale_overrides(base.tree, {"host"}, k, 0);
      o.insert(o.end(), v.begin(), v.end());
    }
    auto m = scale_overrides(base.tree, {"host"}, "op_overhead", 0);
    o.insert(o.end(), m.begin(), m.end());
    auto k = scale_overrides(base.tree, {"compute_core"}, "kernel_overhead", 0);
    o.insert(o.end(), k.begin(), k.end());
    add("launch overheads x0", o);
  }
  // The software beside the hardware: the same step compiled, and replayed as a CUDA graph.
  if (wl.stack == "eager") sc.push_back({"stack: compiled", {}, "compiled"});
  if (wl.stack != "graphs") sc.push_back({"stack: CUDA graphs", {}, "graphs"});
  for (const auto& e : extra) sc.push_back({"-p " + e, {e}, ""});

  std::vector<WhatIfRow> rows;
  for (size_t i = 0; i < sc.size(); ++i) {
    if (!quiet) std::fprintf(stderr, "what-if [%zu/%zu] %s\n", i + 1, sc.size(), sc[i].name.c_str());
    WhatIfRow row;
    row.name = sc[i].name;
    for (const auto& o : sc[i].overrides) {
      std::string shown = o.rfind("components.", 0) == 0 ? o.substr(11) : o;
      row.change += (row.change.empty() ? "" : "; ") + shown;
    }
    if (!sc[i].stack.empty()) row.change = "--set stack=" + sc[i].stack;
    std::vector<std::string> all = overrides;
    all.insert(all.end(), sc[i].overrides.begin(), sc[i].overrides.end());
    try {
      HardwareConfig hw = load_hardware(hw_path, all);
      Workload restacked;
      if (!sc[i].stack.empty()) {
        restacked = wl;
        apply_stack(restacked, parse_stack(sc[i].stack));
      }
      nlohmann::json r = simulate_in_child(hw, sc[i].stack.empty() ? wl : restacked, opt);
      row.time_s = r["total_time_s"];
      row.energy_j = r["energy_j"];
    } catch (const InputError& e) {
      if (i == 0) throw;  // the baseline itself must run
      row.error = e.what();
    }
    rows.push_back(row);
  }
  for (auto& r : rows)
    if (r.time_s > 0) r.speedup = rows[0].time_s / r.time_s;
  std::stable_sort(rows.begin() + 1, rows.end(), [](const WhatIfRow& a, const WhatIfRow& b) {
    return a.speedup > b.speedup;
  });
  return rows;
}

nlohmann::json whatif_to_json(const std::vector<WhatIfRow>& rows) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& r : rows) {
    nlohmann::json j = {{"name", r.name}, {"change", r.change}, {"time_s", r.time_s}, {"energy_j", r.energy_j},
                        {"speedup", r.speedup}};
    if (!r.error.empty()) j["error"] = r.error;
    a.push_back(j);
  }
  return a;
}

std::string whatif_table(const std::vector<WhatIfRow>& rows) {
  std::ostringstream o;
  char buf[512];
  std::snprintf(buf, sizeof buf, "%-24s %12s %9s %12s  %s\n", "what if", "time", "speedup", "energy", "change");
  o << buf;
  for (const auto& r : rows) {
    if (!r.error.empty()) {
      std::snprintf(buf, sizeof buf, "%-24s %s\n", r.name.c_str(), r.error.c_str());
    } else {
      std::string change = r.change.size() > 70 ? r.change.substr(0, 67) + "..." : r.change;
      std::snprintf(buf, sizeof buf, "%-24s %9.3f ms %8.2fx %10.3f J  %s\n", r.name.c_str(), r.time_s * 1e3, r.speedup,
                    r.energy_j, change.c_str());
    }
    o << buf;
  }
  return o.str();
}

}  // namespace xpu
