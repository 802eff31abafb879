#pragma once
// Which devices take part in each copy of a workload's collective: the generated workloads are one rank of a job laid
// out in Megatron's order (tensor-parallel ranks adjacent, then data-parallel with expert groups inside, then pipeline
// stages), and each collective's variant says along which axis it runs. The dispatcher runs every group at once on
// the network; the Chakra export writes each rank's share.
#include <cstdint>

#include "sim/workload/op.h"

namespace xpu {

struct CollectiveLayout {
  int64_t group = 1;   // ranks per group
  int64_t stride = 1;  // device distance between consecutive ranks of a group
  int64_t world = 0;   // devices the job uses (0: the whole system)
  bool chain = false;  // a pipeline transfer: rank i of the group sends to rank i + 1
};

// `op` must be a collective of `wl`.
CollectiveLayout collective_layout(const Op& op, const Workload& wl);
// Devices of the job `wl` is one rank of: its parallel layout, or its widest collective group when it declares none.
int64_t job_ranks(const Workload& wl);

}  // namespace xpu
