#include "sim/trace/replay_command.h"

#include <iostream>
#include <memory>

#include "sim/config/hardware.h"
#include "sim/report/progress.h"
#include "sim/report/html.h"
#include "sim/report/json.h"
#include "sim/report/summary.h"
#include "sim/engine/simulation.h"
#include "sim/trace/trace_names.h"
#include "sim/trace/replay_compare.h"
#include "sim/trace/trace_reader.h"
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

CLI::App* add_replay_command(CLI::App& app, ReplayArgs& a) {
  auto* c = app.add_subcommand("replay", "simulate a profiled run (Kineto, PyTorch ET or Chakra trace) on a config");
  c->add_option("--hw", a.hw, "hardware config YAML")->required()->check(CLI::ExistingFile);
  c->add_option("--trace", a.trace, "trace file: Kineto/Chrome .json[.gz], PyTorch ET .json[.gz], Chakra .et[.gz]")
      ->required()
      ->check(CLI::ExistingFile);
  c->add_option("-p,--param", a.overrides, "override a hardware field: path.to.key=value (repeatable)");
  c->add_option("--json", a.json, "write machine-readable results here (with measured_gpu_busy_us, sim_gpu_busy_us)");
  c->add_option("--html", a.html, "write a self-contained HTML report here (with measured vs simulated per class)");
  c->add_flag("--no-whatif", a.no_whatif,
              "leave the what-if ranking (reruns with one resource doubled) out of --html");
  c->add_flag("--compare", a.compare, "print measured vs simulated time per kernel class (trace from this hardware)");
  c->add_option("--top", a.top, "ops to list in the summary")->check(CLI::Range(0, 1000));
  c->add_flag("-q,--quiet", a.quiet, "no progress on stderr");
  return c;
}

int cmd_replay(const ReplayArgs& a) {
  HardwareConfig hw = load_hardware(a.hw, a.overrides);
  TraceWorkload t = read_trace(a.trace);
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
  RunResult r = simulate(hw, t.workload, opt);
  if (progress) progress->finish();

  print_summary(std::cout, r, a.top);
  Comparison c = compare_with_trace(t.workload, r);
  if (a.compare) print_comparison(std::cout, c);
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
