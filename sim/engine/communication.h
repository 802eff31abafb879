#pragma once
// Where a step's communication goes: time with a collective in flight, the part of it no compute kernel hides
// (exposed), and the time per class of collective (tensor_parallel, data_parallel, pipeline, expert_parallel, ...).
// Figures are per device: the simulated rank's ops.
#include <map>
#include <string>
#include <vector>

#include "sim/engine/result.h"

namespace xpu {

// Time covered by the union of the intervals of the records `pick` accepts.
double covered_s(const std::vector<OpRecord>& ops, bool (*pick)(const OpRecord&));
// Time the records `a` accepts run while none that `b` accepts does (communication not hidden by compute).
double exposed_s(const std::vector<OpRecord>& ops, bool (*a)(const OpRecord&), bool (*b)(const OpRecord&));

bool is_comm(const OpRecord& r);     // a collective, not the pipeline bubble
bool is_compute(const OpRecord& r);  // any kernel

struct CommunicationSummary {
  double in_flight_s = 0;  // union of the collectives' intervals
  double exposed_s = 0;    // of which no kernel runs
  struct Class {
    int count = 0;
    double time_s = 0;  // sum of durations (overlapping ones count twice)
  };
  std::map<std::string, Class> by_class;
};
CommunicationSummary summarize_communication(const std::vector<OpRecord>& ops);

}  // namespace xpu
