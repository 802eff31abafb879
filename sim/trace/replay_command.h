#pragma once
// `xpusim replay`: simulate the work of a profiled run (a trace) on a hardware config, and with --compare set the
// simulated kernel times beside the measured ones.
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace xpu {

struct ReplayArgs {
  std::string hw, trace, json;
  std::vector<std::string> overrides;
  bool compare = false, quiet = false;
  size_t top = 10;
};

// Declares the subcommand and its options on `app`, filling `a` when parsed.
CLI::App* add_replay_command(CLI::App& app, ReplayArgs& a);
// Returns the exit code; user errors are thrown as InputError (main exits 2).
int cmd_replay(const ReplayArgs& a);

}  // namespace xpu
