#include "sim/cli/collective_command.h"

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "sim/config/hardware.h"
#include "sim/report/json.h"
#include "sim/engine/simulation.h"

namespace xpu {

double bus_factor(const std::string& op, double p) {
  if (op == "all_reduce") return 2 * (p - 1) / p;
  if (op == "all_gather" || op == "reduce_scatter" || op == "all_to_all") return (p - 1) / p;
  return 1;  // broadcast, send_recv
}

CLI::App* add_collective_command(CLI::App& app, CollectiveArgs& a) {
  auto* c = app.add_subcommand("collective", "time one collective over a range of sizes, like nccl-tests");
  c->add_option("--hw", a.hw, "hardware config YAML with a `network:` of several devices")->required()->check(CLI::ExistingFile);
  c->add_option("--op", a.op, "all_reduce, all_gather, reduce_scatter, all_to_all, broadcast, send_recv")
      ->check(CLI::IsMember({"all_reduce", "all_gather", "reduce_scatter", "all_to_all", "broadcast", "send_recv"}));
  c->add_option("--sizes", a.sizes, "MIN:MAX message size per rank, e.g. 8B:8GiB (doubling, see -f)");
  c->add_option("-f,--factor", a.factor, "size multiplier between rows")->check(CLI::Range(2, 1024));
  c->add_option("-g,--group", a.group, "ranks per group (default: every device); groups of -g consecutive devices "
                                       "tile the system and run at once")->check(CLI::Range(1, 10000000));
  c->add_option("--stride", a.stride, "device distance between consecutive ranks of a group (default 1)")
      ->check(CLI::Range(1, 10000000));
  c->add_option("--algorithm", a.algorithm, "force an algorithm (sets network.collectives.algorithm)")
      ->check(CLI::IsMember({"auto", "ring", "tree", "halving_doubling", "hierarchical", "in_switch", "direct"}));
  c->add_option("-p,--param", a.overrides, "override a hardware field: path.to.key=value (repeatable)");
  c->add_option("--json", a.json, "write {\"rows\": [{op, bytes, time_s, algbw_GBps, busbw_GBps, algorithm}]} here");
  return c;
}

int cmd_collective(const CollectiveArgs& a) {
  std::vector<std::string> overrides = a.overrides;
  if (!a.algorithm.empty()) overrides.push_back("network.collectives.algorithm=" + a.algorithm);
  HardwareConfig hw = load_hardware(a.hw, overrides);
  if (!hw.network.present || hw.network.devices < 2)
    throw InputError(SourceMark{hw.file, 0, 0}, "the config has no `network:` of several devices to run collectives "
                                                "on (see configs/dgx-h100.yaml)");
  int64_t group = a.group ? a.group : hw.network.devices / a.stride;
  if (group * a.stride > hw.network.devices || hw.network.devices % (group * a.stride))
    throw InputError(SourceMark{"-g/--stride", 0, 0}, "groups of " + std::to_string(group) + " ranks " +
                                                          std::to_string(a.stride) + " apart do not tile the " +
                                                          std::to_string(hw.network.devices) + " devices");
  auto colon = a.sizes.find(':');
  if (colon == std::string::npos) throw InputError(SourceMark{"--sizes", 0, 0}, "expected MIN:MAX, e.g. 8B:8GiB");
  double lo, hi;
  try {
    lo = parse_quantity(a.sizes.substr(0, colon), Dim::Bytes);
    hi = parse_quantity(a.sizes.substr(colon + 1), Dim::Bytes);
  } catch (const std::invalid_argument& e) {
    throw InputError(SourceMark{"--sizes", 0, 0}, std::string(e.what()) + "; expected MIN:MAX, e.g. 8B:8GiB");
  }
  if (lo < 1 || hi < lo) throw InputError(SourceMark{"--sizes", 0, 0}, "expected 1 B <= MIN <= MAX");

  // One workload, one collective per size in sequence: a single simulation times them all.
  Workload w;
  w.name = a.op + " sweep";
  // Rank layout: groups of `group` ranks `stride` devices apart (the tensor-parallel axis when stride is 1).
  w.parallel = {{"tp", a.stride > 1 ? a.stride : group}, {"dp", a.stride > 1 ? group : hw.network.devices / group},
                {"pp", 1}, {"ep", 1}};
  w.source = a.hw;
  // A warm-up call first, as nccl-tests does (-w), where it leaves state behind: it sets up optical circuits and is
  // not reported. Elsewhere the network is idle between calls, so it would change nothing but the wall time (a
  // 64 KiB tree on 16,384 devices routes 65,000 pairs).
  const bool warm_up = std::any_of(hw.network.tiers.begin(), hw.network.tiers.end(),
                                   [](const TierSpec& t) { return t.topology == "ocs"; });
  std::vector<double> sizes;
  if (warm_up) sizes.push_back(std::min(lo, 65536.0));
  for (double b = lo; b <= hi * 1.0000001; b *= double(a.factor)) sizes.push_back(b);
  for (double b : sizes) {
    Op op;
    op.name = (warm_up && w.ops.empty() ? "warmup." : a.op + ".") + std::to_string(int64_t(b));
    op.kind = OpKind::collective;
    op.shape = CollectiveShape{a.op, int64_t(b), group};
    op.variant = a.stride > 1 ? "data_parallel" : "tensor_parallel";
    if (!w.ops.empty()) op.deps = {w.ops.size() - 1};
    w.ops.push_back(op);
  }
  RunOptions opt;
  opt.check_memory = false;
  RunResult r = simulate(hw, w, opt);

  std::printf("# %s among %lld ranks (stride %lld) of %lld devices on %s (%s)\n", a.op.c_str(), (long long)group,
              (long long)a.stride, (long long)hw.network.devices, hw.name.c_str(), hw.file.c_str());
  if (!r.ops.empty()) std::printf("# %s\n", r.ops.back().mapping.c_str());
  std::printf("%14s %14s %14s %14s  %s\n", "size (B)", "time (us)", "algbw (GB/s)", "busbw (GB/s)", "algorithm");
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& op : r.ops) {
    if (warm_up && op.index == 0) continue;
    const auto& s = std::get<CollectiveShape>(w.ops[op.index].shape);
    double t = op.duration_s(), algbw = t > 0 ? double(s.bytes) / t / 1e9 : 0;
    double busbw = algbw * bus_factor(a.op, double(group));
    std::string algo = op.mapping.substr(0, op.mapping.find(':'));
    std::printf("%14lld %14.2f %14.2f %14.2f  %s\n", (long long)s.bytes, t * 1e6, algbw, busbw, algo.c_str());
    rows.push_back({{"op", a.op}, {"bytes", s.bytes}, {"time_s", t}, {"algbw_GBps", algbw}, {"busbw_GBps", busbw},
                    {"algorithm", algo}});
  }
  if (!a.json.empty()) write_json_file(a.json, {{"rows", rows}});
  return 0;
}

}  // namespace xpu
