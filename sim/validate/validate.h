#pragma once
// `xpusim validate`: simulate every row of a calibration file and compare with the measured times, next to a plain
// roofline on the file's measured ceilings, so users see what the simulator adds.
#include <nlohmann/json.hpp>

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "sim/config/hardware.h"

namespace xpu {

struct ValidateOptions {
  bool warm = false;
  bool rows = false;  // also print every row: its shape, measured, simulated, error  // compare micro rows with ms_warm (operands left in L2) instead of ms_cold (L2 flushed)
  std::function<void(size_t done, size_t total)> progress;
};

// Every row of `cases` simulated: `cases` with `sim_ms` (micro rows), `sim_gpu_busy_us` / `sim_ms_per_iter`
// (model rows) or `sim_error` added to each row, and `compared_with` (the measured time a micro row is compared
// with: `ms_cold`, or `ms_warm` for rows measured only warm or under `warm`). No recognised section: InputError.
nlohmann::json simulate_cases(const HardwareConfig& hw, const nlohmann::json& cases, const ValidateOptions& opt);

// What one metric of a section compares: the measured field, the predicted one and the roofline's.
struct CaseMetric {
  std::string section, measured, predicted, roofline;
};
const std::vector<CaseMetric>& case_metrics();
const std::vector<std::string>& case_sections();

// One measured figure of a simulated row against its prediction (NaN when the row could not be simulated).
struct RowError {
  std::string metric;   // section.measured, e.g. gemm.ms_cold
  std::string family;   // shape family for cross-validation reports, e.g. gemm/bfloat16/stream
  std::string source;   // file and row it came from
  std::string section;  // where the row is in the simulated cases: its section and position there
  size_t index = 0;
  double measured = 0, simulated = 0;
};
std::vector<RowError> row_errors(const nlohmann::json& simulated_cases);

// Returns `cases` with `sim_ms` (micro rows) or `sim_gpu_busy_us` / `sim_ms_per_iter` (model rows) added to each row,
// `sim_error` where a row cannot be simulated, and a top-level `validation` summary; prints a table to `out`.
nlohmann::json run_validation(const HardwareConfig& hw, const nlohmann::json& cases, const ValidateOptions& opt,
                              std::ostream& out);

}  // namespace xpu
