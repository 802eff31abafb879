#pragma once
// The requests a serving run receives: read from a trace (Azure LLM inference `TIMESTAMP,ContextTokens,
// GeneratedTokens`, or the `arrived_at,num_prefill_tokens,num_decode_tokens` CSV of Vidur and Splitwise's processed
// traces) or drawn from a synthetic process (Poisson or gamma-burst arrivals, lengths from a distribution, a seed).
#include <cstdint>
#include <string>
#include <vector>

namespace xpu {

struct Request {
  int64_t id = 0;
  double arrival_s = 0;       // seconds: a trace's first request arrives at 0, a synthetic one after its first gap
  int64_t prompt_tokens = 0;  // >= 1
  int64_t output_tokens = 0;  // >= 1 (the first comes out of the prefill)
  std::string source;         // file:line of a trace row, or "synthetic"
};

// A length distribution: `N`, `uniform:A:B` (integers, inclusive), `lognormal:MEDIAN:SIGMA` (rounded, at least 1),
// `trace:FILE` (resampled with replacement from the prompt or output column of a trace file).
struct LengthDist {
  std::string kind;  // fixed, uniform, lognormal, trace
  double a = 0, b = 0;
  std::vector<int64_t> samples;  // trace: the column's values
  std::string text;              // as written, for messages and reports
};

// `what` names the flag for messages (e.g. "--prompt-tokens"); `prompt` picks the trace column.
LengthDist parse_length_dist(const std::string& text, const std::string& what, bool prompt);

struct ArrivalProcess {
  std::string kind;  // poisson, gamma
  double rate = 0;   // requests per second
  double cv = 1;     // gamma: coefficient of variation of the inter-arrival times (1 = Poisson, > 1 bursty)
  std::string text;
};
// `poisson:RATE` or `gamma:RATE:CV`.
ArrivalProcess parse_arrivals(const std::string& text, const std::string& what);

// Reads a trace file, detecting the schema from its header. Rows are sorted by arrival (a stable sort), times are
// shifted so the first request arrives at 0. `limit` > 0 keeps the first `limit` requests. Bad input throws
// InputError naming file:line and what was expected.
std::vector<Request> read_request_trace(const std::string& path, int64_t limit = 0);

// `count` requests from the arrival process and the two length distributions, deterministic for a seed.
std::vector<Request> synthetic_requests(const ArrivalProcess& arrivals, const LengthDist& prompt,
                                        const LengthDist& output, int64_t count, uint64_t seed);

// Writes `requests` in the Vidur/Splitwise schema (arrived_at,num_prefill_tokens,num_decode_tokens), which
// read_request_trace reads back exactly (arrival times with 9 decimals: nanoseconds). InputError when it cannot.
void write_request_trace(const std::string& path, const std::vector<Request>& requests);

}  // namespace xpu
