#include "sim/serve/serve_run.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>

#include "sim/config/errors.h"
#include "sim/config/hardware.h"
#include "sim/config/units.h"
#include "sim/report/format.h"
#include "sim/report/html.h"
#include "sim/report/json_stream.h"
#include "sim/report/progress.h"
#include "sim/serve/max_rate.h"
#include "sim/serve/request_stream.h"
#include "sim/serve/serve_engine.h"
#include "sim/serve/serve_html.h"
#include "sim/serve/serve_report.h"
#include "sim/serve/serve_trace.h"
#include "sim/workload/loader.h"
#include "sim/workload/stack.h"

namespace xpu {

namespace {

// An option given with an empty value is an error, not a silent default.
const CLI::Validator kNonEmpty(
    [](std::string& v) { return v.empty() ? std::string("expected a value, got an empty one") : std::string(); },
    "NONEMPTY");

}  // namespace

// A distribution's p99 from a run's JSON; null when no request completed.
static std::string p99(const nlohmann::json& d) {
  return d["p99"].is_number() ? fmt_time(d["p99"].get<double>()) : std::string("n/a");
}

void add_serve_options(CLI::App& sub, ServeArgs& a) {
  sub.add_option("--hw", a.hw, "hardware config YAML")->required()->check(CLI::ExistingFile);
  sub.add_option("-w,--workload", a.workload, "model: a transformer workload YAML (its tp sets a replica's devices)")
      ->required()
      ->check(CLI::ExistingFile);
  sub.add_option("--set", a.sets, "override model parameters, e.g. tp=2 (as for run)");
  sub.add_option("-p,--param", a.overrides, "override a hardware field: path.to.key=value (repeatable)");
  sub.add_option("--requests", a.requests,
                 "request trace CSV: Azure (TIMESTAMP,ContextTokens,GeneratedTokens) or Vidur/Splitwise "
                 "(arrived_at,num_prefill_tokens,num_decode_tokens)")
      ->check(kNonEmpty);
  sub.add_option("--limit", a.limit, "with --requests: only the first N requests")
      ->check(CLI::Range(int64_t(1), int64_t(1e9)));
  sub.add_option("--arrivals", a.arrivals, "synthetic arrivals: poisson:RATE or gamma:RATE:CV (requests/s)")
      ->check(kNonEmpty);
  sub.add_option("--count", a.count, "synthetic: number of requests")->check(CLI::Range(int64_t(1), int64_t(1e8)));
  sub.add_option("--prompt-tokens", a.prompt_tokens,
                 "synthetic prompt lengths: N, uniform:A:B, lognormal:MEDIAN:SIGMA, trace:FILE")
      ->check(kNonEmpty);
  sub.add_option("--output-tokens", a.output_tokens, "synthetic output lengths (same forms)")->check(kNonEmpty);
  sub.add_option("--seed", a.seed, "synthetic: random seed (default 1)");
  sub.add_option("--replicas", a.replicas, "replicas behind the router (default 1)")->check(CLI::Range(1, 4096));
  sub.add_option("--prefill-replicas", a.prefill_replicas,
                 "disaggregated serving: replicas of --hw that only prefill (with --decode-replicas)")
      ->check(CLI::Range(1, 4096));
  sub.add_option("--decode-replicas", a.decode_replicas,
                 "disaggregated serving: replicas that only decode, their KV caches sent over --hw's network")
      ->check(CLI::Range(1, 4096));
  sub.add_option("--decode-set", a.decode_sets,
                 "disaggregated serving: model parameters of the decode replicas beside --set's (their tp, pp)");
  sub.add_option("--decode-hw", a.decode_hw,
                 "disaggregated serving: the decode replicas' config as written (default: --hw; -p applies to --hw)")
      ->check(CLI::ExistingFile);
  sub.add_option("--router", a.router, "round_robin (default) or least_outstanding")
      ->check(CLI::IsMember({"round_robin", "least_outstanding"}));
  sub.add_option("--scheduler", a.scheduler,
                 "chunked (default: Sarathi-Serve, prompt chunks mixed with decodes under the token budget) or "
                 "prefill_first (whole prompts, vLLM without chunking)")
      ->check(CLI::IsMember({"chunked", "prefill_first"}));
  sub.add_option("--preemption", a.preemption,
                 "when the KV cache is full: recompute (default: drop the cache, prefill again) or swap (copy it to "
                 "host memory over the host connection and back, in --swap-space)")
      ->check(CLI::IsMember({"recompute", "swap"}));
  sub.add_option("--swap-space", a.swap_space, "host memory per device for swapped caches (default 4 GiB, as vLLM)")
      ->check(kNonEmpty);
  sub.add_option("--max-tokens", a.max_tokens, "new tokens per iteration (default 2048)")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 24));
  sub.add_option("--max-seqs", a.max_seqs, "requests per iteration (default 256)")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  sub.add_option("--block-tokens", a.block_tokens, "tokens per KV-cache block (default 16)")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  sub.add_option("--kv-blocks", a.kv_blocks, "KV-cache blocks per replica (default: what the memory holds)")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 40));
  sub.add_option("--memory-fraction", a.memory_fraction, "share of device memory the engine uses (default 0.9)")
      ->check(CLI::Range(0.01, 1.0));
  sub.add_option("--stack", a.stack,
                 "software stack of each iteration: eager, compiled, graphs (default: graphs, as "
                 "vLLM replays decode steps)")
      ->check(CLI::IsMember({"eager", "compiled", "graphs"}));
  sub.add_option("--slo", a.slo, "latency targets for goodput: ttft=TIME,tbt=TIME (e.g. ttft=2s,tbt=100ms)")
      ->check(kNonEmpty);
  sub.add_option("--json", a.json, "write the results here as JSON (summary, per request, per iteration)")
      ->check(kNonEmpty);
  sub.add_option("--html", a.html, "a self-contained HTML report: latency CDFs, KV occupancy and batch sizes over time")
      ->check(kNonEmpty);
  sub.add_option("--trace", a.trace, "Chrome/Perfetto trace: a track per replica with its iterations, one per request")
      ->check(kNonEmpty);
  sub.add_flag("--no-memory-check", a.no_memory_check, "simulate even when the weights leave no room for a KV cache");
  sub.add_flag("--find-max-rate", a.find_max_rate,
               "find the highest arrival rate at which the --slo's attainment share of requests (0.9 unless "
               "attainment= says) meets its bounds: the stream's times scaled, each rate a run in its own process");
  sub.add_option("--rate-tolerance", a.rate_tolerance,
                 "--find-max-rate: relative precision of the answer (default 0.02)")
      ->check(CLI::Range(0.001, 1.0));
  sub.add_flag(
      "--no-reuse", a.no_reuse,
      "simulate every iteration, even one whose requests, new tokens and cached lengths equal an earlier one's");
  sub.add_flag("-q,--quiet", a.quiet, "no progress on stderr");
}

void check_serve_args(const ServeArgs& a, const SourceMark& cli) {
  if (a.requests.empty() == a.arrivals.empty())
    throw InputError(cli,
                     "give either --requests TRACE.csv or --arrivals poisson:RATE|gamma:RATE:CV (with --count, "
                     "--prompt-tokens and --output-tokens)");
  if (!a.requests.empty() && (a.count || !a.prompt_tokens.empty() || !a.output_tokens.empty()))
    throw InputError(cli,
                     "--count, --prompt-tokens and --output-tokens describe synthetic requests; with --requests "
                     "use --limit");
  if (!a.arrivals.empty() && (!a.count || a.prompt_tokens.empty() || a.output_tokens.empty()))
    throw InputError(cli, "--arrivals needs --count N, --prompt-tokens DIST and --output-tokens DIST");
  if (!a.arrivals.empty() && a.limit)
    throw InputError(cli, "--limit applies to --requests; synthetic streams use --count");
  for (const auto& [x, y] :
       {std::pair<const std::string*, const std::string*>{&a.json, &a.trace}, {&a.json, &a.html}, {&a.trace, &a.html}})
    if (!x->empty() && *x == *y)
      throw InputError(cli, "--json, --trace and --html must name different files ('" + *x + "' twice)");
  if (!a.slo.empty()) parse_slo(a.slo);
  if ((a.prefill_replicas > 0) != (a.decode_replicas > 0))
    throw InputError(cli, "disaggregated serving needs both --prefill-replicas and --decode-replicas");
  if (a.prefill_replicas > 0 && a.replicas != 1)
    throw InputError(cli,
                     "--replicas counts the replicas of a combined pool; with --prefill-replicas and "
                     "--decode-replicas leave it out");
  if ((!a.decode_hw.empty() || !a.decode_sets.empty()) && a.prefill_replicas == 0)
    throw InputError(cli,
                     "--decode-hw and --decode-set describe the decode pool: give --prefill-replicas and "
                     "--decode-replicas");
  if (a.find_max_rate && a.slo.empty())
    throw InputError(SourceMark{"--find-max-rate", 0, 0}, "needs --slo ttft=TIME and/or tbt=TIME");
}

nlohmann::json serve_run(const HardwareConfig& hw, const ServeArgs& a, bool print) {
  check_serve_args(a, SourceMark{"serve", 0, 0});
  Slo slo;
  if (!a.slo.empty()) slo = parse_slo(a.slo);
  // Serving forms its own batches and runs inference: parameters of one fixed step would be ignored, so they are
  // refused (the workload file's own defaults for them are not used either).
  for (const auto* list : {&a.sets, &a.decode_sets})
    for (const auto& kv : split_set_lists(*list)) {
      const std::string key = kv.substr(0, kv.find('='));
      for (const char* k : {"mode", "batch", "seq", "kv", "prefix", "dp", "microbatches", "recompute", "optimizer"})
        if (key == k)
          throw InputError(SourceMark{list == &a.sets ? "--set" : "--decode-set", 0, 0},
                           "'" + key +
                               "' describes one fixed step; serve forms its batches from the requests "
                               "(parameters it takes: the model's shape, dtype, weights, tp, pp)");
    }
  ModelParams model = load_model_params(a.workload, split_set_lists(a.sets), "transformer");

  std::vector<Request> reqs;
  if (!a.requests.empty()) {
    reqs = read_request_trace(a.requests, a.limit);
  } else {
    reqs = synthetic_requests(parse_arrivals(a.arrivals, "--arrivals"),
                              parse_length_dist(a.prompt_tokens, "--prompt-tokens", true),
                              parse_length_dist(a.output_tokens, "--output-tokens", false), a.count, a.seed);
  }

  ServeOptions o;
  o.sched.max_tokens = a.max_tokens;
  o.sched.max_seqs = a.max_seqs;
  o.sched.block_tokens = a.block_tokens;
  o.sched.kv_blocks = a.kv_blocks;
  o.sched.chunked_prefill = a.scheduler == "chunked";
  o.replicas = a.replicas;
  o.prefill_replicas = a.prefill_replicas;
  o.decode_replicas = a.decode_replicas;
  std::unique_ptr<ModelParams> decode_model;
  if (!a.decode_sets.empty()) {
    std::vector<std::string> sets = split_set_lists(a.sets);
    for (auto& d : split_set_lists(a.decode_sets)) sets.push_back(d);
    decode_model = std::make_unique<ModelParams>(load_model_params(a.workload, sets, "transformer"));
    o.decode_model = &decode_model->params;
  }
  HardwareConfig decode_hw;
  if (!a.decode_hw.empty()) {
    decode_hw = load_hardware(a.decode_hw, {});
    o.decode_hw = &decode_hw;
  }
  o.router = a.router;
  o.memory_fraction = a.memory_fraction;
  if (a.preemption == "swap") {
    try {
      o.swap_space_bytes = parse_quantity(a.swap_space, Dim::Bytes);
    } catch (const std::exception&) {
      throw InputError(SourceMark{"--swap-space", 0, 0}, "expected a size such as 4 GiB, got '" + a.swap_space + "'");
    }
    if (!(o.swap_space_bytes > 0))
      throw InputError(SourceMark{"--swap-space", 0, 0}, "must be positive, got '" + a.swap_space + "'");
  }
  o.stack = a.stack;
  o.check_memory = !a.no_memory_check;
  o.reuse = !a.no_reuse;
  nlohmann::json search;
  if (a.find_max_rate) {
    double base = 0;
    if (!a.arrivals.empty())
      base = parse_arrivals(a.arrivals, "--arrivals").rate;
    else if (reqs.size() > 1 && reqs.back().arrival_s > 0)
      base = double(reqs.size() - 1) / reqs.back().arrival_s;
    if (!(base > 0))
      throw InputError(SourceMark{a.requests, 0, 0},
                       "--find-max-rate scales the trace's arrival times, but its "
                       "requests all arrive at once");
    auto on_probe = [&](const RateProbe& p) {
      if (a.quiet) return;
      std::fprintf(stderr, "xpusim: rate %9.4g requests/s: %5.1f%% meet the SLO%s (TTFT p99 %s, TBT p99 %s)\n", p.rate,
                   100 * p.attainment, p.meets ? "" : " -- too many miss", p99(p.summary["ttft_s"]).c_str(),
                   p99(p.summary["tbt_s"]).c_str());
    };
    MaxRateResult mr = find_max_rate(hw, model.params, model.name, reqs, base, o, slo, a.rate_tolerance, on_probe);
    search = {{"max_rate_requests_per_s", mr.max_rate},
              {"slo_attainment", slo.attainment},
              {"rate_tolerance", a.rate_tolerance},
              {"probes", nlohmann::json::array()}};
    for (const auto& p : mr.probes)
      search["probes"].push_back(
          {{"rate", p.rate}, {"attainment", p.attainment}, {"meets", p.meets}, {"summary", p.summary}});
    if (mr.max_rate <= 0) {
      if (print) {
        if (mr.refused_share > 1 - slo.attainment)
          std::printf("Max rate        none: %.0f%% of the requests are longer than the KV cache holds, at any rate\n",
                      100 * mr.refused_share);
        else
          std::printf(
              "Max rate        none: even %.4g requests/s leaves fewer than %.0f%% of requests within the SLO\n",
              mr.probes.back().rate, 100 * slo.attainment);
      }
      search["max_rate_per_kusd"] = 0;
      if (!a.json.empty()) write_json_file(a.json, search);
      return search;
    }
    if (print)
      std::printf(
          "Max rate        %.4g requests/s (whole system) with %.0f%% of requests within the SLO, to %.0f%%; "
          "the run at that rate:\n",
          mr.max_rate, 100 * slo.attainment, 100 * a.rate_tolerance);
    reqs = at_rate(reqs, base, mr.max_rate);
  }
  std::unique_ptr<Progress> progress;
  if (!a.quiet) {
    progress = std::make_unique<Progress>("serving " + model.name, reqs.size());
    o.progress = [&](size_t done, size_t) { progress->update(done); };
  }
  ServeResult r = serve(hw, model.params, model.name, reqs, o);
  if (progress) progress->finish();
  const ServeMetrics m = serve_metrics(r, slo);
  if (print) print_serve_summary(std::cout, r, m, slo);
  nlohmann::json j = serve_json(r, m, slo);
  if (!search.is_null()) {
    j["max_rate_requests_per_s"] = search["max_rate_requests_per_s"];
    // Requests per second at the SLO per thousand dollars of the system's devices: what a sweep ranks designs by.
    if (j["system_cost_usd"].is_number())
      j["max_rate_per_kusd"] =
          search["max_rate_requests_per_s"].get<double>() / (j["system_cost_usd"].get<double>() / 1000);
    j["rate_search"] = search;
  }
  if (!a.json.empty()) write_json_file(a.json, j);
  if (!a.trace.empty()) write_serve_trace(a.trace, r);
  if (!a.html.empty()) write_html_file(a.html, serve_html(r, m, slo));
  return j;
}

ServeArgs parse_serve_options(const std::string& options, const SourceMark& at) {
  ServeArgs a;
  CLI::App app{"serve options"};
  app.allow_extras(false);
  auto* s = app.add_subcommand("serve", "");
  add_serve_options(*s, a);
  // The sweep supplies the config and the model; the check of --hw and -w is theirs, not the options'.
  for (const char* o : {"--hw", "--workload"}) s->get_option(o)->required(false);
  std::vector<std::string> args = CLI::detail::split_up(options);
  args.insert(args.begin(), "serve");
  std::reverse(args.begin(), args.end());
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    throw InputError(at, std::string("serve options: ") + e.what());
  }
  for (const auto& [given, name] : {std::pair<bool, const char*>{!a.hw.empty(), "--hw"},
                                    {!a.html.empty(), "--html"},
                                    {!a.workload.empty(), "--workload"},
                                    {!a.json.empty(), "--json"},
                                    {!a.trace.empty(), "--trace"},
                                    {!a.overrides.empty(), "-p"},
                                    {!a.sets.empty(), "--set"}})
    if (given)
      throw InputError(at, std::string("serve options: ") + name +
                               " belongs to the sweep (its hardware, workloads, "
                               "parameters and results), not to serve:");
  try {
    check_serve_args(a, at);
    if (!a.arrivals.empty()) parse_arrivals(a.arrivals, "--arrivals");
  } catch (const InputError& e) {
    throw InputError(at, std::string("serve options: ") + std::string(e.what()));
  }
  a.quiet = true;
  return a;
}

}  // namespace xpu
