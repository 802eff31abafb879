#include "sim/engine/communication.h"

#include <algorithm>
#include <utility>

namespace xpu {
namespace {

// Sorted, merged intervals of the picked records.
std::vector<std::pair<double, double>> merged(const std::vector<OpRecord>& ops, bool (*pick)(const OpRecord&)) {
  std::vector<std::pair<double, double>> iv;
  for (const auto& r : ops)
    if (pick(r) && r.end_s > r.start_s) iv.push_back({r.start_s, r.end_s});
  std::sort(iv.begin(), iv.end());
  std::vector<std::pair<double, double>> out;
  for (const auto& i : iv) {
    if (!out.empty() && i.first <= out.back().second) out.back().second = std::max(out.back().second, i.second);
    else out.push_back(i);
  }
  return out;
}

}  // namespace

bool is_comm(const OpRecord& r) { return r.kind == "collective" && r.variant != "pipeline_bubble"; }
bool is_compute(const OpRecord& r) { return r.kind != "collective"; }

double covered_s(const std::vector<OpRecord>& ops, bool (*pick)(const OpRecord&)) {
  double t = 0;
  for (const auto& [a, b] : merged(ops, pick)) t += b - a;
  return t;
}

double exposed_s(const std::vector<OpRecord>& ops, bool (*a)(const OpRecord&), bool (*b)(const OpRecord&)) {
  const auto A = merged(ops, a), B = merged(ops, b);
  double t = 0;
  size_t j = 0;
  for (const auto& [s, e] : A) {
    double covered = 0;
    while (j < B.size() && B[j].second <= s) ++j;
    for (size_t k = j; k < B.size() && B[k].first < e; ++k)
      covered += std::min(e, B[k].second) - std::max(s, B[k].first);
    t += (e - s) - covered;
  }
  return t;
}

CommunicationSummary summarize_communication(const std::vector<OpRecord>& ops) {
  CommunicationSummary c;
  c.in_flight_s = covered_s(ops, is_comm);
  c.exposed_s = exposed_s(ops, is_comm, is_compute);
  for (const auto& r : ops)
    if (is_comm(r)) {
      auto& k = c.by_class[r.variant.empty() ? std::string("collective") : r.variant];
      ++k.count;
      k.time_s += r.duration_s();
    }
  return c;
}

}  // namespace xpu
