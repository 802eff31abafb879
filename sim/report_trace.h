#pragma once
// A Chrome/Perfetto timeline (ui.perfetto.dev, chrome://tracing) of a run: ops per unit, tiles per lane, rates.
#include "sim/result.h"

#include <nlohmann/json.hpp>

#include <cstddef>

namespace xpu {

// Beyond this many tiles the trace grows past what the viewers load comfortably; the rest are dropped.
constexpr size_t kMaxTraceTiles = 200000;

nlohmann::json result_to_chrome_trace(const RunResult& r, size_t max_tiles = kMaxTraceTiles);

}  // namespace xpu
