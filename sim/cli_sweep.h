#pragma once
// `xpusim sweep SPEC.yaml`: run a design-space sweep; `sweep export DIR --csv F`, `sweep status DIR`.
#include <CLI/CLI.hpp>

#include <string>

namespace xpu {

struct SweepArgs {
  std::string spec, out, dir, csv;
  int jobs = 0;  // 0: one per core
  bool quiet = false;
};

struct SweepCommands {
  CLI::App* sweep = nullptr;
  CLI::App* exp = nullptr;
  CLI::App* status = nullptr;
};

SweepCommands add_sweep_command(CLI::App& app, SweepArgs& a);
int cmd_sweep(const SweepCommands& c, const SweepArgs& a);

}  // namespace xpu
