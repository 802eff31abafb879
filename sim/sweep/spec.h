#pragma once
// A sweep spec: a base hardware config, workloads, parameters to vary (by dotted path into the hardware config,
// `hw.…`, or the workload's parameters, `wl.…`), a plan that picks points (full grid, random, Latin hypercube, with
// a seed), constraints on the results and the metrics to keep.
#include <cstdint>
#include <string>
#include <vector>

#include "sim/config/errors.h"

namespace xpu {

struct SweepParam {
  std::string path;                 // as written: hw.hbm.bandwidth, wl.batch
  bool hardware = true;             // hw.… or wl.…
  std::string key;                  // the path without its hw./wl. prefix
  std::vector<std::string> values;  // the values a point may take, as YAML scalars
  SourceMark mark;
};

struct SweepWorkload {
  std::string name, file;           // file resolved against the spec's folder
  std::vector<std::string> sets;    // key=value workload overrides
  std::string serve;                // `xpusim serve` options: the point is a serving run of this model ("": a step)
  SourceMark serve_mark;
};

struct SweepConstraint {
  std::string metric, op;           // op: <=, <, >=, >
  double value = 0;
  SourceMark mark;
  bool holds(double v) const;
};

// A family of points on one base config with its own parameters (an NVLink cluster and a photonic rack, each
// varying its own link). Specs without `variants:` have one, unnamed.
struct SweepVariant {
  std::string name, hardware;
  std::vector<SweepParam> params;
};

struct SweepSpec {
  std::string file, name, hardware;  // hardware resolved against the spec's folder
  std::vector<SweepWorkload> workloads;
  std::vector<SweepParam> params;
  std::string plan = "grid";         // grid, random, lhs
  int64_t points = 0;                // random/lhs: how many
  uint64_t seed = 1;
  std::vector<SweepConstraint> constraints;
  std::vector<std::string> metrics;  // result fields (dotted paths into the run's JSON) kept as columns
  std::vector<std::pair<std::string, SourceMark>> metric_marks;  // where the spec names each metric it adds
  std::vector<SweepVariant> variants;
  std::string tco;                   // TCO assumptions as `run --tco` takes them ("years=5,pue=1.2"); "": defaults
  // Every parameter column of the results table (all variants'), and `variant` when variants are named.
  std::vector<std::string> columns() const;
};

SweepSpec load_sweep_spec(const std::string& path);

// Index of each parameter's value for every point of the plan, in plan order (random/LHS: `points` per variant).
std::vector<std::vector<size_t>> plan_points(const SweepSpec& s, const std::vector<SweepParam>& params);
inline std::vector<std::vector<size_t>> plan_points(const SweepSpec& s) { return plan_points(s, s.params); }

// The built-in metrics every sweep keeps.
const std::vector<std::string>& default_sweep_metrics();

}  // namespace xpu
