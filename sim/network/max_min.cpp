#include "sim/network/max_min.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace xpu {

void MaxMinFlows::set_capacity(uint32_t r, double bps) {
  if (r >= cap_.size()) {
    cap_.resize(size_t(r) + 1, 0);
    on_.resize(cap_.size());
  }
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
  f.use.clear();
  for (auto [r, w] : use)
    if (w > 0 && r < cap_.size() && cap_[r] > 0) f.use.push_back({r, w});
  f.rate = 0;
  f.cap = pipe.cap();
  f.pipe = pipe;
  f.live = true;
  // What the rate depends on: the resources and weights, the flow's own limit and its chunk (the lock-step wait).
  uint64_t sig = mix64(uint64_t(f.use.size()));
  auto bits = [](double d) {
    uint64_t b;
    std::memcpy(&b, &d, sizeof b);
    return b;
  };
  for (auto [r, w] : f.use) sig = mix64(sig ^ mix64(uint64_t(r) * 0x9e3779b97f4a7c15ULL ^ bits(w)));
  f.sig = mix64(sig ^ bits(f.cap) ^ mix64(bits(pipe.chunk)));
  f.pos.resize(f.use.size());
  for (uint32_t k = 0; k < f.use.size(); ++k) {
    const uint32_t r = f.use[k].first;
    f.pos[k] = uint32_t(on_[r].size());
    on_[r].push_back({id, k});
    dirty_.push_back(r);
  }
  if (f.use.empty()) f.rate = f.cap;
  ++active_;
  return id;
}

void MaxMinFlows::remove(uint32_t id) {
  Flow& f = flows_[id];
  if (!f.live) return;
  f.live = false;
  for (uint32_t k = 0; k < f.use.size(); ++k) {
    const uint32_t r = f.use[k].first;
    auto& v = on_[r];
    const uint32_t at = f.pos[k];
    v[at] = v.back();
    flows_[v[at].first].pos[v[at].second] = at;
    v.pop_back();
    dirty_.push_back(r);
  }
  Use().swap(f.use);
  std::vector<uint32_t>().swap(f.pos);
  free_.push_back(id);
  --active_;
}

const std::vector<uint32_t>& MaxMinFlows::solve() {
  ++solves_;
  // The connected component of the changed resources: flows on them, the resources of those flows, and so on.
  if (res_seen_.size() < cap_.size()) res_seen_.resize(cap_.size(), 0);
  if (flow_seen_.size() < flows_.size()) flow_seen_.resize(flows_.size(), 0);
  component_.clear();
  res_list_.clear();
  for (uint32_t r : dirty_)
    if (!res_seen_[r]) { res_seen_[r] = 1; res_list_.push_back(r); }
  dirty_.clear();
  for (size_t i = 0; i < res_list_.size(); ++i)
    for (auto [id, entry] : on_[res_list_[i]]) {
      if (flow_seen_[id]) continue;
      flow_seen_[id] = 1;
      component_.push_back(id);
      for (auto [r, w] : flows_[id].use)
        if (!res_seen_[r]) { res_seen_[r] = 1; res_list_.push_back(r); }
    }
  for (uint32_t r : res_list_) res_seen_[r] = 0;
  for (uint32_t id : component_) flow_seen_[id] = 0;
  // The same flows on the same links as a component solved before (every layer's identical collective) get the
  // same rates: the key sums a mix of every flow's signature, so the order does not matter.
  if (component_.size() < kReuseFrom) {
    fill();
    return component_;
  }
  uint64_t key = component_.size();
  for (uint32_t id : component_) key += mix64(flows_[id].sig);
  auto it = reuse_.find(key);
  if (it != reuse_.end() && it->second.size() <= component_.size()) {
    bool all = true;
    for (uint32_t id : component_) {
      auto r = it->second.find(flows_[id].sig);
      if (r == it->second.end()) { all = false; break; }
      flows_[id].rate = r->second;
    }
    if (all) return component_;
  }
  fill();
  if (reuse_.size() >= kReuseEntries) reuse_.clear();
  auto& rates = reuse_[key];
  rates.clear();
  for (uint32_t id : component_) rates.emplace(flows_[id].sig, flows_[id].rate);
  return component_;
}

void MaxMinFlows::fill() {
  // Resources are numbered densely as the component's flows touch them (`local_`), so a solve costs the
  // component's entries, not the size of the network.
  if (local_.size() < cap_.size()) local_.resize(cap_.size(), -1);
  touched_.clear();
  demand_.clear();
  if (frozen_.size() < flows_.size()) frozen_.resize(flows_.size(), 1);
  size_t unfrozen = 0;
  std::vector<uint32_t> count;
  for (uint32_t id : component_) {
    Flow& f = flows_[id];
    f.rate = f.cap;
    for (auto [r, w] : f.use) {
      if (local_[r] < 0) {
        local_[r] = int32_t(touched_.size());
        touched_.push_back(r);
        demand_.push_back(0);
        count.push_back(0);
      }
      demand_[size_t(local_[r])] += w;
      ++count[size_t(local_[r])];
    }
    frozen_[id] = f.use.empty();
    if (!f.use.empty()) ++unfrozen;
  }
  const size_t T = touched_.size();
  // Lock-step queueing: the chunks that flows send over a shared link in the same step wait for each other there,
  // on average for half the others' serialisation. A pipeline-limited flow's hop takes that much longer at its
  // most contended link (the waits of one chunk along a path overlap: once delayed, it meets the others later).
  // Two flows alone on a link fall out of step after their first meeting (the later one's chunks come one
  // serialisation behind from then on) and interleave; three or more, arriving in an order that changes from hop
  // to hop, keep meeting. The chunk engine shows both.
  {
    std::vector<double> busy(T, 0);  // one chunk of every flow on the link, in seconds
    std::vector<uint32_t> senders(T, 0);
    for (uint32_t id : component_) {
      const Flow& f = flows_[id];
      if (f.pipe.window > 0 && f.pipe.chunk > 0)
        for (auto [r, w] : f.use) {
          busy[size_t(local_[r])] += f.pipe.chunk * w / cap_[r];
          ++senders[size_t(local_[r])];
        }
    }
    for (uint32_t id : component_) {
      Flow& f = flows_[id];
      if (f.pipe.window <= 0 || f.pipe.chunk <= 0) continue;
      double wait = 0;
      for (auto [r, w] : f.use)
        if (senders[size_t(local_[r])] >= 3)
          wait = std::max(wait, 0.5 * (busy[size_t(local_[r])] - f.pipe.chunk * w / cap_[r]));
      Pipeline p = f.pipe;
      p.latency += wait;
      f.cap = p.cap();
    }
  }
  start_.assign(T + 1, 0);
  for (size_t k = 0; k < T; ++k) start_[k + 1] = start_[k] + count[k];
  members_.resize(start_[T]);
  for (size_t k = 0; k < T; ++k) count[k] = start_[k];
  for (uint32_t id : component_)
    for (auto [r, w] : flows_[id].use) members_[count[size_t(local_[r])]++] = id;
  left_.resize(T);
  for (size_t k = 0; k < T; ++k) left_[k] = cap_[touched_[k]];
  // Flows with their own limit, lowest last, so the next one to reach its limit is at the back.
  std::vector<uint32_t> capped;
  for (uint32_t id : component_)
    if (!frozen_[id] && flows_[id].cap < std::numeric_limits<double>::infinity()) capped.push_back(id);
  std::sort(capped.begin(), capped.end(), [&](uint32_t a, uint32_t b) { return flows_[a].cap > flows_[b].cap; });
  double level = 0;
  std::vector<uint32_t> full;
  auto freeze = [&](uint32_t id) {
    if (frozen_[id]) return;
    frozen_[id] = 1;
    --unfrozen;
    flows_[id].rate = level;
    for (auto [r, w] : flows_[id].use) {
      double& d = demand_[size_t(local_[r])];
      d = std::max(0.0, d - w);
    }
  };
  while (unfrozen > 0) {
    while (!capped.empty() && frozen_[capped.back()]) capped.pop_back();
    double step = std::numeric_limits<double>::infinity();
    for (size_t k = 0; k < T; ++k)
      if (demand_[k] > 0) step = std::min(step, left_[k] / demand_[k]);
    if (!capped.empty()) step = std::min(step, std::max(0.0, flows_[capped.back()].cap - level));
    if (!(step < std::numeric_limits<double>::infinity())) break;
    level += step;
    // Resources within a relative 1e-9 of full count as full, so flows that tie freeze together.
    full.clear();
    for (size_t k = 0; k < T; ++k) {
      if (demand_[k] <= 0) continue;
      left_[k] -= step * demand_[k];
      if (left_[k] <= 1e-9 * cap_[touched_[k]]) full.push_back(uint32_t(k));
    }
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
