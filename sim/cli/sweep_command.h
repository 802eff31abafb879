#pragma once
// `xpusim sweep SPEC.yaml`: run a design-space sweep; `sweep export DIR --csv F`, `sweep status DIR`.
#include <CLI/CLI.hpp>

#include <string>

namespace xpu {

struct SweepArgs {
  std::string spec, out, dir, csv;
  int jobs = 0;  // 0: one per core
  std::string pareto = "total_time_s,energy_j,area_mm2";
  bool no_plots = false, all = false, wait = false;
  std::string backend = "local", shard_db, tasks_file, partition, time_limit = "01:00:00", account;
  size_t per_task = 50, throttle = 64;
  bool quiet = false, dry_run = false;
};

struct SweepCommands {
  CLI::App* sweep = nullptr;
  CLI::App* exp = nullptr;
  CLI::App* status = nullptr;
  CLI::App* report = nullptr;
  CLI::App* collect = nullptr;
};

SweepCommands add_sweep_command(CLI::App& app, SweepArgs& a);
int cmd_sweep(const SweepCommands& c, const SweepArgs& a);

}  // namespace xpu
