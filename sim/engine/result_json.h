#pragma once
// A RunResult as JSON: one definition for the reports (sim/report/json.h streams it to a file) and for the channel
// a forked simulation sends its result back on (sim/engine/isolated_run.h).
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "sim/engine/result.h"

namespace xpu {

// Deterministic: the same result gives a byte-identical dump (objects are key-ordered, nothing time-dependent).
nlohmann::json result_to_json(const RunResult& r);
// Everything but the ops.
nlohmann::json result_head_json(const RunResult& r);
// One op as a JSON "ops" entry; op_field_names() lists the same keys in the CSV column order.
nlohmann::json op_to_json(const OpRecord& op);
const std::vector<std::string>& op_field_names();

}  // namespace xpu
