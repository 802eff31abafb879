#pragma once
// A Chrome/Perfetto timeline (ui.perfetto.dev, chrome://tracing) of a run: ops per unit, tiles per lane, rates.
#include "sim/engine/result.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>

namespace xpu {

// Beyond this many tiles the trace grows past what the viewers load comfortably; the rest are dropped.
constexpr size_t kMaxTraceTiles = 200000;

nlohmann::json result_to_chrome_trace(const RunResult& r, size_t max_tiles = kMaxTraceTiles);
// The same document as write_json_file(path, result_to_chrome_trace(r), -1), written event by event.
void write_chrome_trace(const std::string& path, const RunResult& r, size_t max_tiles = kMaxTraceTiles);

}  // namespace xpu
