#pragma once
// `xpusim validate`: simulate every row of a calibration file and compare with the measured times, next to a plain
// roofline on the file's measured ceilings, so users see what the simulator adds.
#include <nlohmann/json.hpp>

#include <functional>
#include <ostream>

#include "sim/config/hardware.h"

namespace xpu {

struct ValidateOptions {
  bool warm = false;
  bool rows = false;  // also print every row: its shape, measured, simulated, error  // compare micro rows with ms_warm (operands left in L2) instead of ms_cold (L2 flushed)
  std::function<void(size_t done, size_t total)> progress;
};

// Returns `cases` with `sim_ms` (micro rows) or `sim_gpu_busy_us` / `sim_ms_per_iter` (model rows) added to each row,
// `sim_error` where a row cannot be simulated, and a top-level `validation` summary; prints a table to `out`.
nlohmann::json run_validation(const HardwareConfig& hw, const nlohmann::json& cases, const ValidateOptions& opt,
                              std::ostream& out);

}  // namespace xpu
