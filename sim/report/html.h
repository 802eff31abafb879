#pragma once
// A report to look at: one self-contained HTML file (inline CSS and SVG, no script, nothing fetched) with the
// headline numbers, where the time and the energy went, a roofline, the critical path, the what-if ranking, a
// timeline of the ops per unit and the top ops.
#include <nlohmann/json.hpp>

#include <string>

#include "sim/engine/result.h"

namespace xpu {

// `whatif`: whatif_to_json() of run_whatif()'s rows (row 0 the baseline), or null for no what-if section.
// `compare`: comparison_to_json() of a replay ({class: {kernels, measured_us, sim_us}}), or null.
// Deterministic: the same inputs give a byte-identical file.
std::string html_report(const RunResult& r, const nlohmann::json& whatif, const nlohmann::json& compare = nullptr);

// Writes `html` to `path`, creating missing folders; throws InputError naming the path when it cannot.
void write_html_file(const std::string& path, const std::string& html);

}  // namespace xpu
