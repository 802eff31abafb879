#pragma once
// Issues ready ops in dependency order: the host submits launches back to back (running ahead of the device), a
// kernel starts when its launch has arrived, its inputs are done and a stream is free; a mapper lowers it into tiles
// on the compute unit. One SC_METHOD woken by launch times and by kernel completions.
#include <exception>
#include <functional>
#include <queue>
#include <set>
#include <string>
#include <unordered_map>
#include <systemc>
#include <vector>

#include "models/compute_core.h"
#include "models/host.h"
#include "models/op_engine.h"
#include "sim/engine/kernel_memo.h"
#include "sim/network/interconnect.h"
#include "sim/engine/result.h"
#include "sim/engine/simulation.h"

namespace xpu {

class Dispatcher : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Dispatcher);
  Dispatcher(sc_core::sc_module_name name, const Workload& wl, HostModule& host, ComputeCore& core,
             CacheLevel* cache, Interconnect* network, const RunOptions& opt,
             const std::set<std::string>& offloaded = {}, std::vector<OpEngine*> engines = {});
  const std::vector<OpRecord>& records() const { return records_; }
  std::vector<OpRecord> take_records() { return std::move(records_); }
  uint64_t events() const { return events_; }
  size_t completed() const { return done_count_; }
  double busy_s() const { return busy_s_; }
  double active_s() const { return active_ps_ * 1e-12; }
  // A user error raised while issuing ops (a mapper rejecting an op) stops the simulation and is kept here, so the
  // caller can rethrow it as it was instead of SystemC's wrapped report.
  std::exception_ptr error() const { return error_; }
  // Runs another workload on the same device once the current one has finished (serving iterations, all in one
  // elaboration): its host launches start at `at_ps`, records start afresh; the kernel memo and the cache carry over.
  void load(const Workload& wl, uint64_t at_ps);
  // Called (inside the simulation, at the time of the last op's end) each time the loaded workload completes.
  void on_complete(std::function<void(uint64_t now_ps)> f) { on_complete_ = std::move(f); }
  // Identical kernels on an idle device reuse a recorded one (sim/engine/kernel_memo.h); `counters` are this device's.
  void use_memo(KernelMemo* memo, DeviceCounters counters) {
    memo_ = memo;
    counters_ = std::move(counters);
  }

 private:
  void init(const Workload& wl, uint64_t at_ps);
  void step();
  void issue_ready(uint64_t now);
  bool on_comm_stream(size_t op) const;
  bool posted_receive(size_t op) const;
  void launch(size_t op, uint64_t now);
  bool start_collective(size_t op);
  bool start_on_engine(size_t op);
  void on_done(size_t op, const KernelReport& r);
  bool launch_from_memo(size_t op, const std::string& key, uint64_t now);
  void record_memo(size_t op, const KernelReport& r, uint64_t now);

  const Workload* wl_;
  HostModule& host_;
  ComputeCore& core_;
  CacheLevel* cache_;
  Interconnect* network_;
  std::set<std::string> offloaded_;          // resident tensors kept in an offload tier
  std::vector<OpEngine*> engines_;           // offered each op before the compute core (CIM tiles)
  std::vector<bool> on_engine_;
  RunOptions opt_;
  std::vector<size_t> rank_;                 // position in issue order
  std::vector<uint64_t> submit_ps_;          // when the host's launch of each op reaches the device
  std::vector<std::vector<size_t>> users_;
  std::vector<size_t> waiting_;              // unfinished deps per op
  // (rank, op) of the ops whose inputs are done, lowest rank first: [0] compute kernels, [1] collectives.
  std::priority_queue<std::pair<size_t, size_t>, std::vector<std::pair<size_t, size_t>>,
                      std::greater<std::pair<size_t, size_t>>> ready_[2];
  std::vector<std::pair<size_t, KernelReport>> finished_;
  std::vector<OpRecord> records_;
  uint64_t stream_free_ps_ = 0;
  uint64_t kernel_gap_ps_ = 0;  // idle time after a compute kernel on its stream (a graph's own gap in a graph)
  unsigned inflight_ = 0, inflight_comm_ = 0;
  bool launched_any_ = false;
  size_t done_count_ = 0;
  uint64_t events_ = 0;
  double busy_s_ = 0;
  sc_core::sc_event wake_;
  std::exception_ptr error_;
  size_t last_launched_ = 0;
  // Time with at least one op (kernel or collective) running: overlapping streams count once.
  size_t running_work_ = 0;
  uint64_t active_since_ps_ = 0, active_ps_ = 0;
  std::function<void(uint64_t)> on_complete_;
  bool complete_fired_ = false;
  KernelMemo* memo_ = nullptr;
  DeviceCounters counters_;
  struct Recording {
    size_t op = 0;
    std::string key;
    std::vector<double> before;
    uint64_t start_ps = 0;
    bool valid = false;
  };
  bool recording_ = false;
  Recording rec_;
  // Kernels replayed from the memo: when each ends, and its report.
  std::priority_queue<std::pair<uint64_t, size_t>, std::vector<std::pair<uint64_t, size_t>>,
                      std::greater<std::pair<uint64_t, size_t>>> memo_due_;
  std::unordered_map<size_t, KernelReport> memo_reports_;  // names the op when a simulated time overflows
};

}  // namespace xpu
