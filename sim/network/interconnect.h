#pragma once
// What the dispatcher asks of the system's network: run one collective of the workload, for every group of devices
// that takes part (all data-parallel groups run their all-reduce at once), and say when it is over.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace xpu {

struct CollectiveCall {
  std::string op;        // all_reduce, all_gather, reduce_scatter, all_to_all, broadcast, send_recv
  double bytes = 0;      // per-rank buffer, as nccl-tests counts it
  int64_t group = 1;     // ranks per group
  int64_t stride = 1;    // device distance between consecutive ranks of a group
  int64_t world = 0;     // devices the job uses (0: all); groups tile [0, world)
  bool chain = false;    // send_recv along a pipeline: rank i sends to rank i + 1 of its group
  std::string name;      // op name, for messages
  std::vector<int64_t> members;  // the one group's devices, in rank order (a matched multi-rank collective); empty:
                                 // groups from group, stride and world
  // Of a replayed rank's op (see CollectiveShape): its process group, and for a point-to-point op its peer and tag.
  std::string pg;
  int64_t peer = -1, tag = 0;
  bool recv = false;
};

struct CollectiveOutcome {
  uint64_t end_ps = 0;
  std::string algorithm;  // ring, hierarchical, tree, halving_doubling, in_switch, direct
  std::string detail;     // e.g. "bidirectional ring of 8, 1 group, chunks of 2 MiB"
};

class Interconnect {
 public:
  virtual ~Interconnect() = default;
  virtual int64_t devices() const = 0;
  // Starts at the current simulated time; `done` runs inside the simulation when the last group finishes. Throws
  // InputError when the call cannot run on this system (a group larger than the system, say).
  virtual void start(const CollectiveCall& call, std::function<void(const CollectiveOutcome&)> done) = 0;
};

}  // namespace xpu
