#pragma once
// `xpusim serve`: LLM inference at the request level on a hardware config (sim/serve/).
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace xpu {

struct ServeArgs {
  std::string hw, workload, requests, arrivals, prompt_tokens, output_tokens, router = "round_robin";
  std::string scheduler = "chunked", stack = "graphs", slo, json, trace;
  std::vector<std::string> overrides, sets;
  int64_t count = 0, limit = 0, max_tokens = 2048, max_seqs = 256, block_tokens = 16, kv_blocks = 0;
  int replicas = 1;
  uint64_t seed = 1;
  double memory_fraction = 0.9;
  bool quiet = false, no_memory_check = false, no_reuse = false, find_max_rate = false;
  double rate_tolerance = 0.02;
};

CLI::App* add_serve_command(CLI::App& app, ServeArgs& a);
int cmd_serve(const ServeArgs& a);

}  // namespace xpu
