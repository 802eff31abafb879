#pragma once
// A serving run as a self-contained HTML page: the headline figures, latency CDFs (TTFT, TBT, end-to-end, queueing)
// and the KV-cache occupancy and batch size of every replica over time, as inline SVG.
#include <string>

#include "sim/serve/serve_engine.h"
#include "sim/serve/serve_report.h"

namespace xpu {

std::string serve_html(const ServeResult& r, const ServeMetrics& m, const Slo& slo);

}  // namespace xpu
