#pragma once
// On-chip SRAM: a global cache (like a GPU's L2) or a scratchpad. As a cache it tracks which named tensors are
// resident, LRU by bytes, so a kernel that reads what the previous one wrote finds it on chip when it fits.
#include <list>
#include <string>
#include <unordered_map>

#include "models/bandwidth_server.h"
#include "models/interfaces.h"
#include "sim/component/component.h"

namespace xpu {

class SramModule : public Component, public CacheLevel {
 public:
  SramModule(sc_core::sc_module_name name, const ParamSet& p);
  static std::vector<ParamSpec> param_specs();

  uint64_t transfer(uint64_t now_ps, double bytes, Access access, bool write) override;
  uint64_t latency_ps() const override { return latency_ps_; }
  // Load-to-use latency of a lone dependent load that misses here and goes to main memory (0: not given).
  double miss_latency_s() const { return miss_latency_s_; }
  double peak_bandwidth() const override { return bw_; }
  double energy_per_byte() const override { return pj_read_ * 8; }
  double capacity_bytes() const override { return capacity_; }
  double usable_bytes() const override { return usable_; }
  double resident_fraction(const std::string& tensor, double bytes) const override;
  void touch(const std::string& tensor, double bytes) override;
  void flush() override;
  double flush_penalty_s() const override { return params().qty("flush_penalty"); }
  bool writes_back() const override { return params().flag("write_back"); }
  void count_hits(double hit_bytes, double miss_bytes) override;
  double flush_writeback(double allocated, double written) override;
  bool flush_dirty() const override { return foreign_dirty_ > 1; }
  double data_movement_energy_j() const override { return dynamic_energy_j(); }
  double utilization(double sim_seconds) const override;
  void finish(double sim_seconds) override;

 protected:
  void extra_counters(std::vector<double*>&, std::vector<uint64_t*>& u) override { u.push_back(&port_.busy_counter()); }

 private:
  struct Entry { std::string name; double bytes; };
  double capacity_ = 0, usable_ = 0, bw_ = 0, pj_read_ = 0, pj_write_ = 0;
  uint64_t latency_ps_ = 0;
  double miss_latency_s_ = 0;
  BandwidthServer port_;
  std::list<Entry> lru_;  // front = most recently used
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  double resident_ = 0;
  // After a flush: dirty lines it left (`foreign`), lines kernels wrote since (`own`), flush lines evicted so far
  // and the write-back charged for them.
  double flush_dirty_share_ = 0, foreign_dirty_ = 0, own_dirty_ = 0, foreign_evicted_ = 0, flush_charged_ = 0;

  Stat bytes_read_{&stats_, "bytes_read", "B", "bytes read by cores (hits and fills)"};
  Stat bytes_written_{&stats_, "bytes_written", "B", "bytes written by cores"};
  Stat hit_bytes_{&stats_, "hit_bytes", "B", "bytes served without going to main memory"};
  Stat miss_bytes_{&stats_, "miss_bytes", "B", "bytes that had to come from main memory"};
  Stat busy_time_{&stats_, "busy_time", "s", "time the SRAM ports were transferring"};
  Stat flush_writeback_{&stats_, "flush_writeback_bytes", "B",
                        "dirty lines a flush left that later fills evicted to main memory"};
};

}  // namespace xpu
