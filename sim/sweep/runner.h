#pragma once
// Runs a sweep's points on this machine, each (point, workload) in its own forked process (SystemC elaborates once
// per process), `jobs` at once, recording every result (or error) in DIR/results.sqlite as it finishes. Points
// already finished in that database are skipped, so a rerun after a crash or kill does only what is missing.
#include <string>
#include <vector>

#include "sim/sweep/spec.h"

namespace xpu {

struct SweepOptions {
  std::string out;     // output folder
  int jobs = 1;
  bool quiet = false;  // no progress line
  // Run only these task indices (a Slurm array task's shard); empty: all.
  std::vector<size_t> only;
  // Write rows here instead of OUT/results.sqlite (a Slurm array task's own file, merged by `sweep collect`).
  std::string db;
  // With `only`: the point id and workload each index had at submission ("id workload"), checked before running.
  std::vector<std::string> expected;
};

struct SweepSummary {
  size_t tasks = 0, skipped = 0, ok = 0, failed = 0;
  std::vector<std::string> first_errors;  // the errors of the first failed runs (a few), for stderr
};

// Checks a spec before any run: a parameter none of whose values the config or workload accepts (an unknown path,
// a value of the wrong unit), and a metric or constraint naming no field of a run's result (found by simulating the
// first point that runs (of the first three), in a child process, when the spec names metrics or constraints; a
// warning when none runs). Throws InputError at the spec's line.
// Returns the id of the point the metrics were checked on (empty: none was run).
std::string check_sweep_spec(const SweepSpec& spec, bool quiet);

// A point's identity: a hash of its effective hardware config and its workload parameters.
std::string sweep_point_id(const std::string& effective_config_yaml, const std::vector<std::string>& workload_sets);

SweepSummary run_sweep(const SweepSpec& spec, const SweepOptions& opt);

// Runs not yet finished in DIR/results.sqlite, as (task index, "point_id workload"); prepares that database.
std::vector<std::pair<size_t, std::string>> missing_sweep_tasks(const SweepSpec& spec, const std::string& dir);

// `xpusim sweep export`: the results table as CSV.
void export_sweep_csv(const std::string& dir, const std::string& csv_path);

}  // namespace xpu
