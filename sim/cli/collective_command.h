#pragma once
// `xpusim collective`: an nccl-tests-style sweep of one collective over message sizes on a config's interconnect,
// printing time, algorithm bandwidth and bus bandwidth per size.
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace xpu {

struct CollectiveArgs {
  std::string hw, op = "all_reduce", sizes = "8B:8GiB", json;
  std::vector<std::string> overrides;
  int64_t group = 0;   // 0: every device of the system
  int64_t stride = 1;
  std::string algorithm;
  int64_t factor = 2;  // size multiplier between rows, as nccl-tests -f
};

CLI::App* add_collective_command(CLI::App& app, CollectiveArgs& a);
int cmd_collective(const CollectiveArgs& a);

// Bus bandwidth over algorithm bandwidth for `op` among `p` ranks (nccl-tests' PERFORMANCE.md conventions).
double bus_factor(const std::string& op, double p);

}  // namespace xpu
