#pragma once
// The human-readable end-of-run summary: headline numbers, utilization, energy and the ops that took the time.
#include "sim/engine/result.h"

#include <cstddef>
#include <ostream>
#include <string>

namespace xpu {

void print_summary(std::ostream& out, const RunResult& r, size_t top_n = 10);

// The op's name without its layer prefix ("L3.q_proj" -> "q_proj"), so the same op of every layer aggregates.
std::string strip_layer_prefix(const std::string& name, const std::string& layer);

}  // namespace xpu
