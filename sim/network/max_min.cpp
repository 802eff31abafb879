#include "sim/network/max_min.h"

#include <algorithm>
#include <limits>

namespace xpu {

void MaxMinFlows::set_capacity(uint32_t r, double bps) {
  if (r >= cap_.size()) cap_.resize(size_t(r) + 1, 0);
  cap_[r] = bps;
}

double MaxMinFlows::Pipeline::cap() const {
  const double hop = latency + serial;
  return window > 0 && hop > 0 ? window / hop : std::numeric_limits<double>::infinity();
}

uint32_t MaxMinFlows::add(Use use, Pipeline pipe) {
  uint32_t id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else {
    id = uint32_t(flows_.size());
    flows_.emplace_back();
  }
  Flow& f = flows_[id];
  f.use = std::move(use);
  f.rate = 0;
  f.cap = pipe.cap();
  f.live = true;
  ++active_;
  return id;
}

void MaxMinFlows::remove(uint32_t id) {
  Flow& f = flows_[id];
  if (!f.live) return;
  f.live = false;
  f.use.clear();
  f.use.shrink_to_fit();
  free_.push_back(id);
  --active_;
}

void MaxMinFlows::solve() {
  ++solves_;
  fill();
}

void MaxMinFlows::fill() {
  // Resources are numbered densely as flows touch them (`local_`), so a solve costs the flows' entries, not the
  // size of the network.
  if (local_.size() < cap_.size()) local_.resize(cap_.size(), -1);
  touched_.clear();
  demand_.clear();
  frozen_.assign(flows_.size(), 1);
  size_t unfrozen = 0;
  std::vector<uint32_t> count;
  for (uint32_t id = 0; id < flows_.size(); ++id) {
    Flow& f = flows_[id];
    if (!f.live) continue;
    f.rate = std::numeric_limits<double>::infinity();
    bool any = false;
    for (auto [r, w] : f.use)
      if (w > 0 && cap_[r] > 0) {
        if (local_[r] < 0) {
          local_[r] = int32_t(touched_.size());
          touched_.push_back(r);
          demand_.push_back(0);
          count.push_back(0);
        }
        demand_[size_t(local_[r])] += w;
        ++count[size_t(local_[r])];
        any = true;
      }
    if (any) { frozen_[id] = 0; ++unfrozen; }
    else f.rate = f.cap;
  }
  const size_t T = touched_.size();
  start_.assign(T + 1, 0);
  for (size_t k = 0; k < T; ++k) start_[k + 1] = start_[k] + count[k];
  members_.resize(start_[T]);
  for (size_t k = 0; k < T; ++k) count[k] = start_[k];
  for (uint32_t id = 0; id < flows_.size(); ++id)
    if (!frozen_[id])
      for (auto [r, w] : flows_[id].use)
        if (w > 0 && cap_[r] > 0) members_[count[size_t(local_[r])]++] = id;
  left_.resize(T);
  for (size_t k = 0; k < T; ++k) left_[k] = cap_[touched_[k]];
  double level = 0;
  std::vector<uint32_t> full;
  // Unfrozen flows with a cap, lowest cap last, so the next one to reach its cap is at the back.
  std::vector<uint32_t> capped;
  for (uint32_t id = 0; id < flows_.size(); ++id)
    if (!frozen_[id] && flows_[id].cap < std::numeric_limits<double>::infinity()) capped.push_back(id);
  std::sort(capped.begin(), capped.end(), [&](uint32_t a, uint32_t b) { return flows_[a].cap > flows_[b].cap; });
  while (unfrozen > 0) {
    while (!capped.empty() && frozen_[capped.back()]) capped.pop_back();
    double step = std::numeric_limits<double>::infinity();
    for (size_t k = 0; k < T; ++k)
      if (demand_[k] > 0) step = std::min(step, left_[k] / demand_[k]);
    const bool to_cap = !capped.empty() && flows_[capped.back()].cap - level <= step;
    if (to_cap) step = std::max(0.0, flows_[capped.back()].cap - level);
    if (!(step < std::numeric_limits<double>::infinity())) break;
    level += step;
    // Resources within a relative 1e-9 of full count as full, so flows that tie freeze together.
    full.clear();
    for (size_t k = 0; k < T; ++k) {
      if (demand_[k] <= 0) continue;
      left_[k] -= step * demand_[k];
      if (left_[k] <= 1e-9 * cap_[touched_[k]]) full.push_back(uint32_t(k));
    }
    auto freeze = [&](uint32_t id) {
      if (frozen_[id]) return;
      frozen_[id] = 1;
      --unfrozen;
      flows_[id].rate = level;
      for (auto [r2, w] : flows_[id].use)
        if (w > 0 && cap_[r2] > 0) {
          double& d = demand_[size_t(local_[r2])];
          d = std::max(0.0, d - w);
        }
    };
    while (!capped.empty() && (frozen_[capped.back()] || flows_[capped.back()].cap <= level * (1 + 1e-12))) {
      freeze(capped.back());
      capped.pop_back();
    }
    for (uint32_t k : full)
      for (uint32_t m = start_[k]; m < start_[k + 1]; ++m) freeze(members_[m]);
    for (uint32_t k : full) demand_[k] = 0;
  }
  for (uint32_t r : touched_) local_[r] = -1;
}

}  // namespace xpu
