#pragma once
// `xpusim requests`: writes a synthetic request stream (Poisson or gamma arrivals, length distributions, a seed) as
// a trace CSV that `xpusim serve --requests` and other serving simulators (Vidur) read.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

namespace xpu {

struct RequestsArgs {
  std::string arrivals, prompt_tokens, output_tokens, out;
  int64_t count = 0;
  uint64_t seed = 1;
};

CLI::App* add_requests_command(CLI::App& app, RequestsArgs& a);
int cmd_requests(const RequestsArgs& a);

}  // namespace xpu
