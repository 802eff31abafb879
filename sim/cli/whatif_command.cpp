#include "sim/cli/whatif_command.h"

#include <cstdio>
#include <fstream>

#include "sim/config/errors.h"
#include "sim/report/json.h"
#include "sim/trace/replay_command.h"
#include "sim/trace/trace_reader.h"
#include "sim/engine/whatif.h"
#include "sim/workload/loader.h"

namespace xpu {

CLI::App* add_whatif_command(CLI::App& app, WhatIfArgs& a) {
  auto* w = app.add_subcommand("whatif", "rerun with each resource scaled (matrix rate, HBM, L2, links x2, launch "
                                         "overheads x0, and each -p) and rank the bottlenecks by speedup");
  w->add_option("--hw", a.hw, "hardware config YAML")->required()->check(CLI::ExistingFile);
  auto* wl = w->add_option("--workload,-w", a.workload, "workload YAML")->check(CLI::ExistingFile);
  auto* tr = w->add_option("--trace", a.trace, "a profiled run to replay instead (Kineto, PyTorch ET, Chakra ET)")
                 ->check(CLI::ExistingFile);
  wl->excludes(tr);
  w->add_option("--set", a.sets, "override workload parameters: key=value[,key=value...] (repeatable)");
  w->add_option("-p,--param", a.vary, "one more what-if row: path.to.key=value (repeatable)");
  w->add_option("--base", a.base, "override a hardware field in every run, baseline included (repeatable)");
  w->add_option("--json", a.json, "write the ranking here");
  w->add_flag("-q,--quiet", a.quiet, "no progress on stderr");
  return w;
}

int cmd_whatif(const WhatIfArgs& a) {
  if (a.workload.empty() == a.trace.empty()) throw InputError("whatif: give one of --workload or --trace");
  Workload wl;
  if (!a.trace.empty()) {
    TraceWorkload t = read_trace(a.trace);
    prepare_collectives(t.workload, t.stats, load_hardware(a.hw, a.base));
    wl = std::move(t.workload);
  } else {
    wl = load_workload(a.workload, split_set_lists(a.sets));
  }
  RunOptions opt;
  auto rows = run_whatif(a.hw, a.base, wl, opt, a.vary, a.quiet);
  std::printf("What if, for %s on %s:\n\n%s", wl.description.empty() ? wl.name.c_str() : wl.description.c_str(),
              a.hw.c_str(), whatif_table(rows).c_str());
  if (!a.json.empty()) {
    make_parent_dirs(a.json);
    std::ofstream f(a.json);
    if (!f || !(f << whatif_to_json(rows).dump(1) << "\n")) throw InputError(SourceMark{a.json, 0, 0}, "cannot write file");
  }
  return 0;
}

}  // namespace xpu
