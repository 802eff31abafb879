#pragma once
// The Slurm backend of `xpusim sweep`: the runs still missing are cut into shards, a job array runs one shard per
// task (each writing its own database under DIR/shards/), and a collect job that depends on the array
// (--dependency=afterok) merges them into DIR/results.sqlite. Resubmitting runs only what is still missing.
#include <string>

#include "sim/sweep/runner.h"

namespace xpu {

struct SlurmOptions {
  std::string partition, time_limit = "01:00:00", account;
  size_t per_task = 50;   // runs per array task
  size_t throttle = 64;   // array tasks running at once (sbatch --array=…%N)
  bool wait = false;      // block until the collect job has finished
};

// Submits the missing runs; returns what it did in one line.
std::string submit_sweep_slurm(const SweepSpec& spec, const SweepOptions& opt, const SlurmOptions& so);

// Merges DIR/shards/*.sqlite into DIR/results.sqlite and removes what it merged; returns the rows merged.
size_t collect_sweep(const std::string& dir);

// Reads "index point_id workload" lines written at submission.
std::vector<size_t> read_shard_tasks(const std::string& path, std::vector<std::string>* expected);

}  // namespace xpu
