#pragma once
// Measured (from the trace) against simulated time, per kernel class: where the model of a machine the trace was
// taken on runs fast or slow. Only ops whose trace recorded a duration take part.
#include <nlohmann/json.hpp>

#include <ostream>
#include <string>
#include <vector>

#include "sim/engine/result.h"
#include "sim/workload/op.h"

namespace xpu {

struct ClassTimes {
  std::string name;  // GEMM, attention, elementwise, norm, collective, other, unmodelled
  size_t count = 0;
  double measured_us = 0, sim_us = 0;
};

struct Comparison {
  std::vector<ClassTimes> classes;  // fixed order, empty classes included
  double measured_us = 0;           // sum of the measured kernel durations (GPU busy time of the trace)
  double sim_us = 0;                // the same ops' simulated durations
  size_t measured_ops = 0;          // ops with a measured duration
};

// The class a kernel is reported under.
const char* kernel_class(const Op& op);
// `r` must be the result of simulating `w`.
Comparison compare_with_trace(const Workload& w, const RunResult& r);
// A multi-rank replay: each record's rank picks its workload.
Comparison compare_with_traces(const std::vector<const Workload*>& ranks, const RunResult& r);
void print_comparison(std::ostream& out, const Comparison& c);
nlohmann::json comparison_to_json(const Comparison& c);

}  // namespace xpu
