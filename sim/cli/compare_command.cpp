#include "sim/cli/compare_command.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "sim/config/errors.h"
#include "sim/config/hardware.h"
#include "sim/engine/isolated_run.h"
#include "sim/report/json.h"
#include "sim/workload/loader.h"

namespace xpu {
namespace {

std::string si(double v, const char* unit) {
  const char* prefix[] = {"p", "n", "u", "m", "", "k", "M"};
  int i = 4;
  while (i > 0 && std::abs(v) < 1 && v != 0) { v *= 1000; --i; }
  while (i < 6 && std::abs(v) >= 1000) { v /= 1000; ++i; }
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.3g %s%s", v, prefix[i], unit);
  return buf;
}

// The op kind that took the most time, with its share.
std::string main_kind(const nlohmann::json& r) {
  std::map<std::string, double> t;
  for (const auto& op : r["ops"]) t[op["kind"].get<std::string>() + " on " + op["unit"].get<std::string>()] +=
      op["duration_s"].get<double>();
  std::string best;
  double bt = 0, all = 0;
  for (const auto& [k, v] : t) {
    all += v;
    if (v > bt) { bt = v; best = k; }
  }
  char buf[96];
  std::snprintf(buf, sizeof buf, "%s %.0f%%", best.c_str(), all > 0 ? 100 * bt / all : 0.0);
  return buf;
}

}  // namespace

CLI::App* add_compare_command(CLI::App& app, CompareArgs& a) {
  auto* c = app.add_subcommand("compare", "run one workload on several hardware configs and print them side by side");
  c->add_option("--hw", a.hw, "hardware config YAML (repeat, or list several)")->required()->check(CLI::ExistingFile);
  c->add_option("--workload,-w", a.workload, "workload YAML")->required()->check(CLI::ExistingFile);
  c->add_option("--set", a.sets, "override workload parameters: key=value[,key=value...] (repeatable)");
  c->add_option("--json", a.json, "write every config's full result here (a JSON array)");
  c->add_flag("--warm", a.warm, "start every run with the workload's weights and inputs in the cache (as run --warm)");
  c->add_flag("-q,--quiet", a.quiet, "no progress on stderr");
  return c;
}

int cmd_compare(const CompareArgs& a) {
  Workload wl = load_workload(a.workload, split_set_lists(a.sets));
  std::vector<HardwareConfig> configs;
  for (const auto& h : a.hw) configs.push_back(load_hardware(h));  // every file checked before any simulation
  nlohmann::json all = nlohmann::json::array();
  const std::string item = wl.item.empty() ? "run" : wl.item;
  std::printf("Workload: %s\n\n", wl.description.c_str());
  std::printf("%-26s %10s %10s %12s %12s %9s %8s %9s %11s  %s\n", "config", "time", "energy",
              ("energy/" + item).c_str(), (item + "s/s").c_str(), "data mov.", "static", "price", ("$/M " + item + "s").c_str(),
              "most time");
  for (size_t i = 0; i < configs.size(); ++i) {
    const std::string label = std::filesystem::path(a.hw[i]).stem().string();
    std::fflush(stdout);
    if (!a.quiet) std::fprintf(stderr, "[%zu/%zu] %s\n", i + 1, configs.size(), a.hw[i].c_str());
    nlohmann::json r;
    try {
      RunOptions opt;
      opt.warm_inputs = a.warm;
      r = simulate_in_child(configs[i], wl, opt);
    } catch (const InputError& e) {
      // One design point that cannot run (the model does not fit) is a finding, not a failure of the comparison.
      std::printf("%-26s %s\n", label.c_str(), e.what());
      all.push_back({{"hardware", a.hw[i]}, {"error", e.what()}});
      continue;
    }
    const double t = r["total_time_s"], e = r["energy_j"];
    // Whole job: every data-parallel replica's items, and its throughput (not a per-item latency).
    const double items = r["workload"].value("items", 0.0), n = items > 0 ? items : 1;
    // Price per device and TCO per million items where the config names a technology (`xpusim cost`), else "-".
    char price[32] = "-", tco[32] = "-";
    if (r.contains("cost_usd")) std::snprintf(price, sizeof price, "$%.0f", r["cost_usd"].get<double>());
    if (r.contains("tco_usd_per_mitem")) std::snprintf(tco, sizeof tco, "$%.4g", r["tco_usd_per_mitem"].get<double>());
    std::printf("%-26s %10s %10s %12s %12s %8.1f%% %7.1f%% %9s %11s  %s\n", label.c_str(), si(t, "s").c_str(),
                si(e, "J").c_str(), si(e / n, "J").c_str(), si(n / t, "").c_str(),
                e > 0 ? 100 * r["energy"]["data_movement_j"].get<double>() / e : 0.0,
                e > 0 ? 100 * r["energy"]["static_j"].get<double>() / e : 0.0, price, tco, main_kind(r).c_str());
    all.push_back(std::move(r));
  }
  if (!a.json.empty()) {
    make_parent_dirs(a.json);
    std::ofstream f(a.json);
    if (!f || !(f << all.dump(1) << "\n")) throw InputError(SourceMark{a.json, 0, 0}, "cannot write file");
  }
  return 0;
}

}  // namespace xpu
