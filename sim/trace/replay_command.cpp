#include "sim/trace/replay_command.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>

#include "sim/config/hardware.h"
#include "sim/report/progress.h"
#include "sim/report/html.h"
#include "sim/report/json.h"
#include "sim/report/summary.h"
#include "sim/engine/multi_rank.h"
#include "sim/engine/simulation.h"
#include "sim/trace/trace_names.h"
#include "sim/trace/replay_compare.h"
#include "sim/trace/trace_reader.h"
#include "sim/trace/trace_set.h"
#include "sim/engine/whatif.h"

namespace xpu {

// Configs describe one device, so a collective among several cannot be simulated: one the trace timed keeps its
// measured duration instead of failing the whole replay; an untimed one is an error here, before simulating
// (the mapper would raise it inside a SystemC process, where it no longer reads as a user error).
// A trace's collectives run on the config's network when it has devices enough for their group; on a single
// device they keep their measured duration, if the trace has one.
void prepare_collectives(Workload& w, TraceStats& s, const HardwareConfig& hw) {
  const int64_t devices = hw.network.present ? hw.network.devices : 1;
  for (Op& op : w.ops) {
    if (op.kind != OpKind::collective || is_unmodelled(op)) continue;
    const auto& c = std::get<CollectiveShape>(op.shape);
    if (c.group <= 1) continue;
    std::string what = c.op + " among " + std::to_string(c.group) + " devices";
    if (devices > 1 && c.group > devices)
      throw InputError(op.mark, "op '" + op.name + "' (" + what + ") needs " + std::to_string(c.group) +
                                    " devices, but " + hw.file + " has " + std::to_string(devices) +
                                    " (network.devices)");
    if (devices > 1) continue;  // the dispatcher runs it on the network
    if (op.measured_us < 0)
      throw InputError(op.mark, "op '" + op.name + "' (" + what + ") needs a config with a network of at least " +
                                    std::to_string(c.group) + " devices (" + hw.file +
                                    " has one), and the trace records no duration to use instead");
    op.variant = "unmodelled:" + what + " (single-device config)";
    --s.mapped;
    s.unmodelled_one(op.variant.substr(11));
  }
}

namespace {

// Counts of every rank's trace, once; the notes and warnings of rank 0 (the ranks' files come from one tool).
TraceStats merged_stats(const std::vector<TraceWorkload>& traces) {
  TraceStats s = traces[0].stats;
  for (size_t r = 1; r < traces.size(); ++r) {
    const TraceStats& o = traces[r].stats;
    s.mapped += o.mapped, s.unmodelled += o.unmodelled, s.skipped += o.skipped;
    for (const auto& [k, n] : o.unmodelled_by) s.unmodelled_by[k] += n;
    for (const auto& [k, n] : o.skipped_by) s.skipped_by[k] += n;
  }
  if (traces.size() > 1) s.notes.push_back("counts over " + std::to_string(traces.size()) + " ranks");
  return s;
}

// Which producer's convention the collective sizes were read in, where it matters.
void print_size_convention(std::ostream& out, const TraceStats& s) {
  if (!s.size_convention.empty()) out << "  collective sizes: " << s.size_convention << "\n";
}

void print_ranks(std::ostream& out, const MultiRankResult& m) {
  char line[200];
  out << "\nRanks (each on its own device; times in us)\n";
  std::snprintf(line, sizeof line, "  %5s %8s %12s %12s %12s %12s %12s %12s\n", "rank", "ops", "end", "busy", "compute",
                "comm", "exposed comm", "waiting");
  out << line;
  const size_t shown = m.ranks.size() <= 16 ? m.ranks.size() : 8;
  auto row = [&](const RankReport& r) {
    std::snprintf(line, sizeof line, "  %5zu %8zu %12.2f %12.2f %12.2f %12.2f %12.2f %12.2f\n", r.rank, r.ops,
                  r.end_s * 1e6, r.busy_s * 1e6, r.compute_s * 1e6, r.comm_s * 1e6, r.exposed_comm_s * 1e6,
                  r.wait_s * 1e6);
    out << line;
  };
  for (size_t i = 0; i < shown; ++i) row(m.ranks[i]);
  if (shown < m.ranks.size()) {
    // The rest in brief: the spread, and the slowest rank in full.
    auto slowest = std::max_element(m.ranks.begin(), m.ranks.end(),
                                    [](const RankReport& x, const RankReport& y) { return x.end_s < y.end_s; });
    out << "  ... " << m.ranks.size() - shown << " more ranks (all in --json); the last to finish:\n";
    row(*slowest);
  }
  if (!m.worst_wait.empty()) out << "  longest wait: " << m.worst_wait << "\n";
  if (m.kernels_reused)
    out << "  kernels: " << m.kernels_simulated << " simulated tile by tile, " << m.kernels_reused
        << " took the record of an identical kernel on an idle device (--no-memo simulates every one)\n";
}

nlohmann::json ranks_to_json(const MultiRankResult& m) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& r : m.ranks)
    a.push_back({{"rank", r.rank}, {"trace", r.source}, {"ops", r.ops}, {"end_s", r.end_s}, {"busy_s", r.busy_s},
                 {"compute_s", r.compute_s}, {"comm_s", r.comm_s}, {"exposed_comm_s", r.exposed_comm_s},
                 {"wait_s", r.wait_s}});
  return a;
}

int replay_ranks(const ReplayArgs& a, const HardwareConfig& hw, const std::vector<std::string>& files) {
  if (a.ranks > 0 && files.size() > 1 && size_t(a.ranks) != files.size())
    throw InputError(SourceMark{a.trace, 0, 0}, "--ranks " + std::to_string(a.ranks) + " but the trace set has " +
                                                    std::to_string(files.size()) + " ranks' files");
  const size_t R = files.size() > 1 ? files.size() : size_t(a.ranks);
  std::vector<TraceWorkload> traces;
  {
    std::unique_ptr<Progress> reading;
    if (!a.quiet && files.size() > 1) reading = std::make_unique<Progress>("reading traces", files.size());
    for (size_t r = 0; r < files.size(); ++r) {
      traces.push_back(read_trace(files[r], int64_t(R)));
      if (reading) reading->update(r + 1);
    }
    if (reading) reading->finish();
  }
  // SPMD: the one trace is every rank's.
  if (traces.size() < R) {
    const TraceWorkload one = traces[0];
    traces.resize(R, one);
  }
  print_trace_report(std::cerr, merged_stats(traces));
  std::vector<Workload> ranks;
  for (auto& t : traces) ranks.push_back(std::move(t.workload));

  std::unique_ptr<Progress> progress;
  RunOptions opt;
  opt.memo_kernels = !a.no_memo;
  opt.check_memory = !a.no_memory_check;
  size_t total = 0;
  for (const auto& w : ranks) total += w.ops.size();
  if (!a.quiet) {
    progress = std::make_unique<Progress>("replaying " + std::to_string(R) + " ranks", total);
    opt.progress = [&](size_t done, size_t) { progress->update(done); };
  }
  MultiRankResult m = simulate_ranks(hw, ranks, opt);
  if (progress) progress->finish();
  print_summary(std::cout, m.job, a.top);
  print_ranks(std::cout, m);
  std::vector<const Workload*> ptrs;
  for (const auto& w : ranks) ptrs.push_back(&w);
  Comparison c = compare_with_traces(ptrs, m.job);
  if (a.compare) {
    print_comparison(std::cout, c);
    print_size_convention(std::cout, traces[0].stats);
  }
  if (!a.html.empty()) {
    if (!a.no_whatif && !a.quiet)
      std::fprintf(stderr, "xpusim: note: %s has no what-if ranking: it reruns one device, not a multi-rank job\n",
                   a.html.c_str());
    write_html_file(a.html, html_report(m.job, nullptr, c.measured_ops ? comparison_to_json(c) : nlohmann::json(nullptr)));
  }
  if (!a.json.empty()) {
    nlohmann::json j;
    j["measured_gpu_busy_us"] = c.measured_ops ? nlohmann::json(c.measured_us) : nlohmann::json(nullptr);
    j["sim_gpu_busy_us"] = m.job.gpu_busy_s * 1e6 * double(R);
    j["busy_scope"] = "whole job: summed over the ranks";
    j["ranks"] = ranks_to_json(m);
    j["longest_wait"] = m.worst_wait;
    j["trace"] = {{"files", files}, {"format", traces[0].stats.format}, {"ranks", R}};
    j["compare"] = comparison_to_json(c);
    write_result_json(a.json, m.job, j, [&](const OpRecord& op, nlohmann::json& o) {
      const auto& w = ranks[size_t(std::max<int64_t>(op.rank, 0))];
      if (op.index < w.ops.size())
        if (double v = w.ops[op.index].measured_us; v >= 0) o["measured_us"] = v;
    });
  }
  return 0;
}

}  // namespace

CLI::App* add_replay_command(CLI::App& app, ReplayArgs& a) {
  auto* c = app.add_subcommand("replay", "simulate a profiled run (Kineto, PyTorch ET or Chakra trace) on a config");
  c->add_option("--hw", a.hw, "hardware config YAML")->required()->check(CLI::ExistingFile);
  c->add_option("--trace", a.trace,
                "trace file: Kineto/Chrome .json[.gz], PyTorch ET .json[.gz], Chakra .et[.gz]; or one file per rank of "
                "a job (<prefix>.<rank>.et) as a directory or a quoted glob, replayed together on the config's network")
      ->required();
  c->add_option("--ranks", a.ranks, "replay one trace on this many ranks at once (SPMD), each on its own device")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  c->add_option("-p,--param", a.overrides, "override a hardware field: path.to.key=value (repeatable)");
  c->add_option("--json", a.json, "write machine-readable results here (with measured_gpu_busy_us, sim_gpu_busy_us)");
  c->add_option("--html", a.html, "write a self-contained HTML report here (with measured vs simulated per class)");
  c->add_flag("--no-whatif", a.no_whatif,
              "leave the what-if ranking (reruns with one resource doubled) out of --html");
  c->add_flag("--compare", a.compare, "print measured vs simulated time per kernel class (trace from this hardware)");
  c->add_option("--top", a.top, "ops to list in the summary")->check(CLI::Range(0, 1000));
  c->add_flag("--no-memory-check", a.no_memory_check,
              "simulate even when a trace's footprint exceeds the device memory (timing studies)");
  c->add_flag("--no-memo", a.no_memo,
              "multi-rank: simulate every kernel tile by tile, even one identical to a kernel already simulated on an "
              "idle device (slower; the memo's answer is the same up to the order of cache updates)");
  c->add_flag("-q,--quiet", a.quiet, "no progress on stderr");
  return c;
}

int cmd_replay(const ReplayArgs& a) {
  HardwareConfig hw = load_hardware(a.hw, a.overrides);
  const std::vector<std::string> files = trace_set(a.trace);
  if (files.size() > 1 || a.ranks > 1) return replay_ranks(a, hw, files);
  TraceWorkload t = read_trace(files[0]);
  prepare_collectives(t.workload, t.stats, hw);
  print_trace_report(std::cerr, t.stats);

  std::unique_ptr<Progress> progress;
  RunOptions opt;
  // What-if reruns fork children, which must happen before this process elaborates.
  nlohmann::json whatif;
  if (!a.html.empty() && !a.no_whatif)
    whatif = whatif_to_json(run_whatif(a.hw, a.overrides, t.workload, opt, {}, a.quiet));
  if (!a.quiet) {
    progress = std::make_unique<Progress>("replaying " + t.workload.name, t.workload.ops.size());
    opt.progress = [&](size_t done, size_t) { progress->update(done); };
  }
  opt.check_memory = !a.no_memory_check;
  RunResult r = simulate(hw, t.workload, opt);
  if (progress) progress->finish();

  print_summary(std::cout, r, a.top);
  Comparison c = compare_with_trace(t.workload, r);
  if (a.compare) {
    print_comparison(std::cout, c);
    print_size_convention(std::cout, t.stats);
  }
  if (!a.html.empty())
    write_html_file(a.html, html_report(r, whatif, c.measured_ops ? comparison_to_json(c) : nlohmann::json(nullptr)));
  if (!a.json.empty()) {
    nlohmann::json j;
    j["measured_gpu_busy_us"] = c.measured_ops ? nlohmann::json(c.measured_us) : nlohmann::json(nullptr);
    j["sim_gpu_busy_us"] = r.gpu_busy_s * 1e6;
    j["trace"] = {{"file", a.trace},
                  {"format", t.stats.format},
                  {"modelled_ops", t.stats.mapped},
                  {"unmodelled_ops", t.stats.unmodelled},
                  {"skipped_ops", t.stats.skipped},
                  {"skipped", t.stats.skipped_by},
                  {"notes", t.stats.notes}};
    j["compare"] = comparison_to_json(c);
    // Streamed like `run --json`; each op carries the duration the trace measured for it.
    write_result_json(a.json, r, j, [&](const OpRecord& op, nlohmann::json& o) {
      if (op.index < t.workload.ops.size())
        if (double m = t.workload.ops[op.index].measured_us; m >= 0) o["measured_us"] = m;
    });
  }
  return 0;
}

}  // namespace xpu
