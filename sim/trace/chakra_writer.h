#pragma once
// `xpusim run --chakra DIR`: the simulated workload as the Chakra execution traces of every rank of its job, one file
// per rank (<name>.<rank>.et), readable by ASTRA-sim's feeder and by `xpusim replay`.
//  - Compute nodes carry what ASTRA-sim uses (duration_micros: the simulated time; num_ops, tensor_size) and, as
//    xpu_* attributes, the op itself (kind, shape, dtypes, tensors), so xpusim re-times them exactly on another config.
//  - Collectives carry comm_type and comm_size in ASTRA-sim's convention (an all-gather's size is each rank's input)
//    and pg_name, the group of ranks they run among (tp.*, dp.*, ...), so replay matches them across ranks.
//  - Pipeline transfers become COMM_SEND_NODE / COMM_RECV_NODE pairs between adjacent stages (the first stage receives
//    nothing and the last sends nothing: those nodes are empty compute nodes that keep the dependencies).
#include <string>
#include <vector>

#include "sim/engine/result.h"
#include "sim/workload/op.h"

namespace xpu {

// Writes the job's ranks to `dir` (created if missing); returns the files written. `r` is the simulation of `wl`.
std::vector<std::string> write_chakra(const std::string& dir, const Workload& wl, const RunResult& r);

}  // namespace xpu
