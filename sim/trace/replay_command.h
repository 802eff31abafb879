#pragma once
// `xpusim replay`: simulate the work of a profiled run (a trace) on a hardware config, and with --compare set the
// simulated kernel times beside the measured ones.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace xpu {

struct ReplayArgs {
  std::string hw, trace, json, html;
  std::vector<std::string> overrides;
  bool compare = false, quiet = false, no_whatif = false, no_memo = false, no_memory_check = false;
  size_t top = 10;
  int64_t ranks = 0;  // > 1: replay one trace on this many ranks (SPMD)
};

// Declares the subcommand and its options on `app`, filling `a` when parsed.
CLI::App* add_replay_command(CLI::App& app, ReplayArgs& a);
// Returns the exit code; user errors are thrown as InputError (main exits 2).
int cmd_replay(const ReplayArgs& a);

struct TraceStats;
struct Workload;
struct HardwareConfig;
// A trace's collectives among several devices run on the config's network (refused when their group is larger than
// the system); on a single-device config they keep their measured time (or are refused when untimed).
void prepare_collectives(Workload& w, TraceStats& s, const HardwareConfig& hw);

}  // namespace xpu
