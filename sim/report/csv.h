#pragma once
// One row per op, for spreadsheets and pandas; the columns are the JSON "ops" fields.
#include "sim/engine/result.h"

#include <ostream>

namespace xpu {

void write_ops_csv(std::ostream& out, const RunResult& r);

}  // namespace xpu
