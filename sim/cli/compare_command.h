#pragma once
// `xpusim compare`: one workload on several hardware configs side by side (time, energy, energy and time per token or
// sample, where the energy goes), each simulated in its own process.
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace xpu {

struct CompareArgs {
  std::vector<std::string> hw, sets;
  std::string workload, json;
  bool quiet = false, warm = false;
};

CLI::App* add_compare_command(CLI::App& app, CompareArgs& a);
int cmd_compare(const CompareArgs& a);

}  // namespace xpu
