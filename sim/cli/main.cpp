// xpusim command line: run, describe, version. User errors print one message and exit 2.
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>

#include "sim/cli/collective_command.h"
#include "sim/cli/compare_command.h"
#include "sim/cli/sweep_command.h"
#include "sim/cli/whatif_command.h"
#include "sim/cli/cost_command.h"
#include "sim/cli/requests_command.h"
#include "sim/cli/serve_command.h"
#include "sim/cli/describe_command.h"
#include "sim/config/hardware.h"
#include "sim/report/progress.h"
#include "sim/report/csv.h"
#include "sim/report/format.h"
#include "sim/report/html.h"
#include "sim/report/json.h"
#include "sim/report/summary.h"
#include "sim/report/chrome_trace.h"
#include "sim/engine/simulation.h"
#include "sim/trace/chakra_writer.h"
#include "sim/trace/replay_command.h"
#include "sim/cli/calibrate_command.h"
#include "sim/engine/whatif.h"
#include "sim/workload/loader.h"

namespace fs = std::filesystem;

namespace {

struct RunArgs {
  std::string hw, workload, json, trace, csv, html, chakra, stack, tco;
  std::vector<std::string> overrides, sets;
  bool cold = false, warm = false, quiet = false, no_memory_check = false, no_whatif = false, no_memo = false;
  size_t top = 10;
  size_t trace_tiles = 200000;
};

void write_text(const std::string& path, const std::string& text) {
  xpu::make_parent_dirs(path);
  std::ofstream f(path, std::ios::binary);
  if (!f || !(f << text)) throw xpu::InputError(xpu::SourceMark{path, 0, 0}, "cannot write file");
}

// The effective config goes next to the first result file asked for: result.json -> result.config.yaml.
void write_effective_config(const RunArgs& a, const xpu::HardwareConfig& hw) {
  for (const std::string* p : {&a.json, &a.csv, &a.trace, &a.html}) {
    if (p->empty()) continue;
    fs::path out = fs::path(*p).replace_extension(".config.yaml");
    write_text(out.string(), "# Effective hardware config of " + hw.file + " after extends: and -p overrides\n" +
                                 xpu::to_yaml(hw.tree));
    return;
  }
}

// Two outputs on one path would overwrite each other (and the effective config beside them).
void check_distinct_outputs(const std::vector<std::pair<const char*, std::string>>& outs) {
  std::map<std::string, const char*> seen;
  for (const auto& [flag, path] : outs) {
    if (path.empty()) continue;
    const std::string key = fs::weakly_canonical(fs::path(path)).string();
    auto [it, fresh] = seen.emplace(key, flag);
    if (!fresh)
      throw xpu::InputError(xpu::SourceMark{path, 0, 0}, std::string(it->second) + " and " + flag +
                                                           " name the same file: give each output its own path");
  }
}

// A value pasted whole into a message (a 2,000,000-digit number) would bury it: long runs of non-blank characters are
// cut to their start and their length.
std::string clip_long_words(const std::string& msg) {
  std::string out;
  size_t i = 0;
  while (i < msg.size()) {
    size_t j = msg.find_first_of(" \n", i);
    if (j == std::string::npos) j = msg.size();
    if (j - i > 160) out += msg.substr(i, 60) + "... (" + std::to_string(j - i) + " characters)";
    else out += msg.substr(i, j - i);
    if (j < msg.size()) out += msg[j];
    i = j + 1;
  }
  return out;
}

int cmd_run(const RunArgs& a) {
  check_distinct_outputs({{"--json", a.json}, {"--trace", a.trace}, {"--csv", a.csv}, {"--html", a.html}});
  xpu::HardwareConfig hw = xpu::load_hardware(a.hw, a.overrides);
  std::vector<std::string> sets = xpu::split_set_lists(a.sets);
  if (!a.stack.empty()) sets.push_back("stack=" + a.stack);
  xpu::Workload wl = xpu::load_workload(a.workload, sets);

  std::unique_ptr<xpu::Progress> progress;
  xpu::RunOptions opt;
  opt.cold = a.cold;
  opt.warm_inputs = a.warm;
  opt.check_memory = !a.no_memory_check;
  opt.memo_kernels = !a.no_memo;
  try {
    opt.tco = xpu::parse_tco_options(a.tco);
  } catch (const std::invalid_argument& e) {
    throw xpu::InputError(xpu::SourceMark{"--tco", 0, 0}, e.what());
  }
  // The report's what-if ranking reruns the workload in child processes, which must fork before this one elaborates.
  nlohmann::json whatif;
  if (!a.html.empty() && !a.no_whatif)
    whatif = xpu::whatif_to_json(xpu::run_whatif(a.hw, a.overrides, wl, opt, {}, a.quiet));
  opt.record_tiles = !a.trace.empty();
  opt.tile_limit = a.trace_tiles;
  if (!a.quiet) {
    progress = std::make_unique<xpu::Progress>("simulating " + wl.name, wl.ops.size());
    opt.progress = [&](size_t done, size_t) { progress->update(done); };
  }
  xpu::RunResult r = xpu::simulate(hw, wl, opt);
  if (progress) progress->finish();

  xpu::print_summary(std::cout, r, a.top);
  // Both stream their per-op arrays: a million-op run never holds them as JSON. The trace is compact (one line):
  // traces are large.
  if (!a.json.empty()) xpu::write_result_json(a.json, r);
  if (!a.trace.empty()) {
    xpu::write_chrome_trace(a.trace, r);
    double tiles = 0;
    for (const auto& c : r.components)
      if (c.type == "compute_core") tiles = c.stats.value("tiles", 0.0);
    if (!r.tiles.empty() && double(r.tiles.size()) < tiles)
      std::fprintf(stderr,
                   "xpusim: note: %s holds the first %zu of %.0f tile slices (up to %s of the %s run); "
                   "--trace-tiles N raises the cap (every op is in it regardless)\n",
                   a.trace.c_str(), r.tiles.size(), tiles, xpu::fmt_time(r.tiles.back().end_s).c_str(),
                   xpu::fmt_time(r.total_time_s).c_str());
  }
  if (!a.csv.empty()) {
    xpu::make_parent_dirs(a.csv);
    std::ofstream f(a.csv, std::ios::binary);
    if (!f) throw xpu::InputError(xpu::SourceMark{a.csv, 0, 0}, "cannot write file");
    xpu::write_ops_csv(f, r);
  }
  if (!a.html.empty()) xpu::write_html_file(a.html, xpu::html_report(r, whatif));
  if (!a.chakra.empty()) {
    auto files = xpu::write_chakra(a.chakra, wl, r);
    if (!a.quiet)
      std::fprintf(stderr, "xpusim: wrote %zu Chakra trace(s), one per rank of the job, to %s (xpusim replay --trace %s)\n",
                   files.size(), a.chakra.c_str(), a.chakra.c_str());
  }
  write_effective_config(a, hw);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  CLI::App app{"xpusim: a cycle-approximate, discrete-event simulator of deep-learning accelerators"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("xpusim 0.1.0"));

  RunArgs run;
  auto* r = app.add_subcommand("run", "simulate a workload on a hardware config and print a summary");
  r->add_option("--hw", run.hw, "hardware config YAML")->required()->check(CLI::ExistingFile);
  r->add_option("--workload,-w", run.workload, "workload YAML")->required()->check(CLI::ExistingFile);
  r->add_option("-p,--param", run.overrides, "override a hardware field: path.to.key=value (repeatable)");
  r->add_option("--set", run.sets, "override workload parameters: key=value[,key=value...] (repeatable)");
  r->add_option("--stack", run.stack,
                "software stack: eager (PyTorch eager, the default), compiled (torch.compile's fusions), graphs "
                "(compiled, replayed as one CUDA graph); the same as --set stack=...")
      ->check(CLI::IsMember({"eager", "compiled", "graphs"}));
  r->add_option("--json", run.json, "write machine-readable results here");
  r->add_option("--trace", run.trace, "write a Chrome/Perfetto trace here");
  r->add_option("--trace-tiles", run.trace_tiles,
                "tile slices kept in --trace (the first N tiles executed; each is an event): default 200000")
      ->check(CLI::Range(size_t(0), size_t(100000000)));
  r->add_option("--csv", run.csv, "write one row per op here");
  r->add_option("--chakra", run.chakra,
                "write the job as Chakra execution traces here, one per rank (<workload>.<rank>.et), for ASTRA-sim or "
                "`xpusim replay`");
  r->add_option("--html", run.html, "write a self-contained HTML report here (charts, what-if ranking)");
  r->add_flag("--no-whatif", run.no_whatif,
              "leave the what-if ranking (reruns with one resource doubled) out of --html");
  auto* cold = r->add_flag("--cold", run.cold, "flush the cache before every kernel (default: keep what earlier kernels left)");
  r->add_flag("--warm", run.warm,
              "start with what the workload reads but never writes (weights, inputs) in the cache, as in a steady "
              "state where the previous step left it there; only when the run's whole footprint fits the cache (a replay "
              "loop is a cyclic stream over it: under LRU one larger than the cache finds nothing)")->excludes(cold);
  r->add_flag("--no-memory-check", run.no_memory_check,
              "simulate even when the workload's footprint exceeds the device memory (timing studies)");
  r->add_flag("--no-memo", run.no_memo,
              "simulate every kernel tile by tile, even one identical to a kernel already simulated on an idle device "
              "(slower; the same answer)");
  r->add_option("--tco", run.tco,
                "TCO assumptions (configs with `technology:`): years=4,pue=1.3,usd_per_kwh=0.08,utilization=1,markup=1 "
                "(price over manufacturing cost), any subset; the summary and JSON give $ per step and per million tokens or samples");
  r->add_option("--top", run.top, "ops to list in the summary")->check(CLI::Range(0, 1000));
  r->add_flag("-q,--quiet", run.quiet, "no progress on stderr");

  xpu::ValidateArgs val;
  auto* v = xpu::add_validate_command(app, val);
  xpu::CalibrateArgs cal;
  auto* ca = xpu::add_calibrate_command(app, cal);

  xpu::ReplayArgs rep;
  auto* rp = xpu::add_replay_command(app, rep);
  xpu::CollectiveArgs coll;
  auto* cl = xpu::add_collective_command(app, coll);
  xpu::SweepArgs swp;
  auto sw = xpu::add_sweep_command(app, swp);
  xpu::WhatIfArgs wia;
  auto* wi = xpu::add_whatif_command(app, wia);
  xpu::CompareArgs cmp;
  auto* cm = xpu::add_compare_command(app, cmp);
  xpu::CostArgs cst;
  auto* co = xpu::add_cost_command(app, cst);
  xpu::ServeArgs srv;
  auto* se = xpu::add_serve_command(app, srv);
  xpu::RequestsArgs rqa;
  auto* rq = xpu::add_requests_command(app, rqa);

  std::string what;
  auto* d = app.add_subcommand("describe", "list component types and generators, or print one's parameters");
  d->add_option("type", what, "component type or generator name");

  if (argc > 1 && argv[1][0] != '-') {
    std::vector<std::string> names;
    for (const auto* s : app.get_subcommands({})) names.push_back(s->get_name());
    if (std::find(names.begin(), names.end(), argv[1]) == names.end()) {
      std::string all, hint = xpu::closest_match(argv[1], names);
      for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
      std::cerr << "xpusim: " << clip_long_words(std::string("unknown command '") + argv[1] + "'") +
                       (hint.empty() ? "" : " (did you mean '" + hint + "'?)")
                << "; commands: " << all << "\nRun with --help for usage.\n";
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "xpusim: " << clip_long_words(e.what()) << "\n" << "Run with --help for usage.\n";
    return 2;
  }

  try {
    if (r->parsed()) return cmd_run(run);
    if (v->parsed()) return xpu::cmd_validate(val);
    if (ca->parsed()) return xpu::cmd_calibrate(cal);
    if (rp->parsed()) return xpu::cmd_replay(rep);
    if (cl->parsed()) return xpu::cmd_collective(coll);
    if (cm->parsed()) return xpu::cmd_compare(cmp);
    if (co->parsed()) return xpu::cmd_cost(cst);
    if (se->parsed()) return xpu::cmd_serve(srv);
    if (rq->parsed()) return xpu::cmd_requests(rqa);
    if (wi->parsed()) return xpu::cmd_whatif(wia);
    if (sw.sweep->parsed()) return xpu::cmd_sweep(sw, swp);
    if (d->parsed()) {
      if (!xpu::describe(std::cout, what)) {
        std::cerr << "xpusim: error: no component type or generator named '" << what
                  << "'; `xpusim describe` lists them\n";
        return 2;
      }
      return 0;
    }
  } catch (const xpu::InputError& e) {
    std::cerr << "xpusim: " << clip_long_words(e.what()) << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "xpusim: internal error: " << clip_long_words(e.what()) << "\n";
    return 3;
  }
  return 0;
}

// libsystemc.so defines main() calling sc_main; ours takes precedence but the symbol must exist.
extern "C" int sc_main(int, char*[]) { return 0; }
