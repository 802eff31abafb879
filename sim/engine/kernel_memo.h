#pragma once
// Kernel memo: a kernel's time and everything it changed on its device depend only on the op (kind, shape, dtypes,
// tensor sizes), on how much of its inputs the cache holds, and on the device being idle when it starts. So when a
// kernel runs alone on its device, what it did is recorded under that key; an identical kernel launched later on an
// idle device (another layer, another rank of an SPMD job) takes the recorded time and adds the recorded counters
// (statistics, energy, busy times) to the device's blocks instead of simulating its tiles again: the 80 identical
// layers of a 70B model, or the ranks of an SPMD job in a multi-rank replay (one memo for all ranks of a config).
// Off when tile records are kept (--trace needs every kernel's tiles) and for cold-cache runs.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "models/compute_core.h"
#include "models/interfaces.h"
#include "sim/engine/edge_port.h"
#include "sim/workload/op.h"

namespace xpu {

// The blocks of one device whose counters a kernel changes (not the network's links and switches).
struct DeviceCounters {
  std::vector<Component*> blocks;
  std::vector<EdgePort*> edges;
  void read(std::vector<double>& out) const;
  void add(const std::vector<double>& delta) const;
};

struct KernelMemo {
  struct Entry {
    uint64_t duration_ps = 0;
    KernelReport report;        // times relative to the launch
    std::string mapping;
    std::vector<double> delta;  // DeviceCounters::read after minus before
  };
  std::unordered_map<std::string, Entry> entries;
  uint64_t hits = 0, misses = 0;

  // The op and the cache's share of each input, which is all a mapper reads of the device's state.
  static std::string key(const Op& op, const CacheLevel* cache);
};

}  // namespace xpu
