#pragma once
// Calibration cases from files: xpusim's own JSON schema (../shared/calibration/h100/h100_calibration.json) and
// Vidur's per-op profile CSVs (../shared/calibration/vidur/), both read into the JSON schema, with each row's
// source kept in its `source` field so an error or a fit can be traced back to the line it came from.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace xpu {

// One cases file. A `.csv` whose header has Vidur's `time_stats.<op>.median` columns is converted: each row (one
// tensor-parallel slice of a layer at one token count) gives its four GEMMs (QKV, output projection, up/gate and
// down) as `gemm` rows in fp16, measured in a loop (`ms_warm`) as kernel time (`timing: kernel`), the operands
// evicted between calls by the rest of the layer (`cache: evicted`: no flush penalty, nothing resident). Bad input is an
// InputError naming the file and line.
nlohmann::json load_cases_file(const std::string& path);
// Several files merged: their sections concatenated in order; `ceilings`, `device` and `method` from the first file
// that has them.
nlohmann::json load_cases(const std::vector<std::string>& paths);

}  // namespace xpu
