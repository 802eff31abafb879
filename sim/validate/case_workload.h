#pragma once
// Turns one row of a calibration file (the schema of ../shared/calibration/h100/h100_calibration.json) into the
// workload that reproduces the measured run: one kernel for most micro rows, the eager kernel sequence for others,
// the whole model for `models` rows.
#include <nlohmann/json.hpp>

#include <string>

#include "sim/workload/op.h"

namespace xpu {

// Throws InputError with the reason when the row cannot be simulated (unknown op, missing field, ...).
Workload case_workload(const std::string& section, const nlohmann::json& row);
// The backward pass added to an attention row (for `ms_fwd_bwd_cold`).
Workload attention_fwd_bwd_workload(const nlohmann::json& row);

}  // namespace xpu
