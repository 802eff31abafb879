#pragma once
// `xpusim serve` as a function: the options (as the command line or a sweep spec gives them), the run on a loaded
// config, the rate search. sim/cli/serve_command.cpp is the command; sim/sweep runs points with it.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/config/errors.h"
#include "sim/config/hardware.h"

namespace xpu {

struct ServeArgs {
  std::string hw, workload, requests, arrivals, prompt_tokens, output_tokens, router = "round_robin";
  std::string scheduler = "chunked", stack = "graphs", slo, json, trace, html, preemption = "recompute";
  std::string swap_space = "4 GiB";
  std::vector<std::string> overrides, sets, decode_sets;
  int64_t count = 0, limit = 0, max_tokens = 2048, max_seqs = 256, block_tokens = 16, kv_blocks = 0;
  int replicas = 1, prefill_replicas = 0, decode_replicas = 0;
  std::string decode_hw;
  uint64_t seed = 1;
  double memory_fraction = 0.9;
  bool quiet = false, no_memory_check = false, no_reuse = false, find_max_rate = false;
  double rate_tolerance = 0.02;
};

// The options of `serve` on `sub` (the command's, or a parser of a sweep's `serve:` string).
void add_serve_options(CLI::App& sub, ServeArgs& a);
// Everything `serve` does on an already loaded config: the run (or the rate search and the run at its answer), its
// JSON returned (and written to --json, --trace); the summary on stdout when `print`.
nlohmann::json serve_run(const HardwareConfig& hw, const ServeArgs& a, bool print);
// `serve` options as a sweep spec writes them ("--arrivals poisson:5 --count 400 ... --find-max-rate"), checked; the
// config, model, sets and outputs are the sweep's. InputError at `at`.
ServeArgs parse_serve_options(const std::string& options, const SourceMark& at);
// The checks `serve` makes on its options before reading any file.
void check_serve_args(const ServeArgs& a, const SourceMark& cli);

}  // namespace xpu
