#include "sim/cli/requests_command.h"

#include <cstdio>

#include "sim/serve/request_stream.h"

namespace xpu {

CLI::App* add_requests_command(CLI::App& app, RequestsArgs& a) {
  auto* c = app.add_subcommand("requests",
                               "write a synthetic request stream as a trace CSV "
                               "(arrived_at,num_prefill_tokens,num_decode_tokens) for serve --requests");
  c->add_option("--arrivals", a.arrivals, "poisson:RATE or gamma:RATE:CV (requests/s)")->required();
  c->add_option("--count", a.count, "number of requests")->required()->check(CLI::Range(int64_t(1), int64_t(1e9)));
  c->add_option("--prompt-tokens", a.prompt_tokens, "N, uniform:A:B, lognormal:MEDIAN:SIGMA or trace:FILE")->required();
  c->add_option("--output-tokens", a.output_tokens, "the same forms")->required();
  c->add_option("--seed", a.seed, "random seed (default 1)");
  c->add_option("-o,--out", a.out, "the CSV to write")->required();
  return c;
}

int cmd_requests(const RequestsArgs& a) {
  const auto reqs = synthetic_requests(parse_arrivals(a.arrivals, "--arrivals"),
                                       parse_length_dist(a.prompt_tokens, "--prompt-tokens", true),
                                       parse_length_dist(a.output_tokens, "--output-tokens", false), a.count, a.seed);
  write_request_trace(a.out, reqs);
  std::fprintf(stderr, "xpusim: wrote %zu requests over %.3f s to %s\n", reqs.size(),
               reqs.empty() ? 0.0 : reqs.back().arrival_s, a.out.c_str());
  return 0;
}

}  // namespace xpu
