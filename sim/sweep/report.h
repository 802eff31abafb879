#pragma once
// `xpusim sweep report DIR`: per workload, the Pareto front over chosen metrics (all minimized unless written
// max:NAME), the parameters ranked by their main effect on each metric (share of the metric's variance explained by
// the parameter's value alone), and SVG plots drawn by gnuplot.
#include <string>
#include <vector>

namespace xpu {

struct SweepReportOptions {
  std::string dir;
  std::vector<std::string> objectives = {"total_time_s", "energy_j", "area_mm2"};
  bool plots = true;
  bool include_infeasible = false;
};

// Writes DIR/report/report.md (and plots) and returns the same text.
std::string sweep_report(const SweepReportOptions& opt);

// Indices of the rows not dominated by any other (minimizing every column of `values`).
std::vector<size_t> pareto_front(const std::vector<std::vector<double>>& values);

}  // namespace xpu
