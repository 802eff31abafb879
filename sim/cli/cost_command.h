#pragma once
// `xpusim cost`: the die area of a hardware config block by block, its yield and price per device, and its power
// at full load, from the config's `technology:` (no simulation).
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace xpu {

struct CostArgs {
  std::string hw, json;
  std::vector<std::string> overrides;
};

CLI::App* add_cost_command(CLI::App& app, CostArgs& a);
int cmd_cost(const CostArgs& a);

}  // namespace xpu
