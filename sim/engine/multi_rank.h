#pragma once
// Multi-rank replay: every rank of a job on its own copy of the device, all in one SystemC elaboration, joined by the
// config's network. Collectives are matched across ranks (sim/engine/rank_rendezvous.h), so a rank that is late at a
// collective delays the others, and each rank's busy time, exposed communication and waits are reported.
#include <string>
#include <vector>

#include "sim/config/hardware.h"
#include "sim/engine/communication.h"
#include "sim/engine/result.h"
#include "sim/engine/simulation.h"
#include "sim/workload/op.h"

namespace xpu {

struct RankReport {
  size_t rank = 0;
  std::string source;           // the trace file (or workload) of this rank
  size_t ops = 0;
  double end_s = 0;             // when its last op ended
  double busy_s = 0;            // sum of its op durations (collectives included, with their waits)
  double compute_s = 0;         // time with a kernel running
  double comm_s = 0;            // time with a collective or transfer in flight
  double exposed_comm_s = 0;    // communication not hidden behind its own kernels
  double wait_s = 0;            // time at collectives and receives waiting for other ranks
};

struct MultiRankResult {
  RunResult job;                // the whole job: ops of every rank (OpRecord::rank), per-device figures as means
  std::vector<RankReport> ranks;
  std::string worst_wait;       // the longest wait at one collective, in words ("" when no rank waited)
  uint64_t kernels_simulated = 0, kernels_reused = 0;  // the kernel memo: tile by tile, or an identical kernel's record
};

// Rank r runs ranks[r] on device r. Throws InputError when the config has no network or fewer devices than ranks,
// when the ranks' collectives do not match, or when the replay ends with a rank still waiting for another.
MultiRankResult simulate_ranks(const HardwareConfig& hw, const std::vector<Workload>& ranks, const RunOptions& opt = {});

}  // namespace xpu
