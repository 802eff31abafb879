#pragma once
// One simulation: elaborates the hardware config into SystemC modules, runs the workload on them and collects the
// result. SystemC allows one elaboration per process, so a process runs one Simulation.
#include <functional>
#include <memory>

#include "sim/config/hardware.h"
#include "sim/engine/result.h"
#include "sim/workload/op.h"

namespace xpu {

struct RunOptions {
  bool cold = false;           // flush the cache before every kernel
  bool cold_start = false;     // flush it once, before the first kernel (a benchmark that flushes per call)
  bool warm_inputs = false;    // start with the workload's inputs in the cache (a benchmark replayed back to back)
  bool record_tiles = false;   // keep per-tile records for the timeline
  size_t tile_limit = 200000;
  bool check_memory = true;
  bool memo_kernels = true;    // identical kernels on an idle device reuse a recorded one (sim/engine/kernel_memo.h)    // refuse a workload whose footprint exceeds the device memory
  std::function<void(size_t done, size_t total)> progress;  // called as ops complete
  TcoOptions tco;              // lifetime, PUE, electricity price, utilization of the TCO figures
};

RunResult simulate(const HardwareConfig& hw, const Workload& wl, const RunOptions& opt = {});

}  // namespace xpu
