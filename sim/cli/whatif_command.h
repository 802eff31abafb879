#pragma once
// `xpusim whatif`: which resource would help most? Reruns a workload or a trace with each resource scaled.
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace xpu {

struct WhatIfArgs {
  std::string hw, workload, trace, json;
  std::vector<std::string> base, vary, sets;
  bool quiet = false;
};

CLI::App* add_whatif_command(CLI::App& app, WhatIfArgs& a);
int cmd_whatif(const WhatIfArgs& a);

}  // namespace xpu
