#pragma once
// A cluster of identical compute units (a GPU's SMs, an NPU's cores): matrix units with a rate per dtype, vector
// units, a clock, tiles in flight per unit. Kernels run as tiles spread over the units in waves; each tile reserves
// its unit's pipes and the bandwidth of every block on its data path, and one SystemC event fires per tile
// completion. Contention and overlap come out of those reservations, not out of per-op formulas.
#include <functional>
#include <queue>
#include <vector>

#include "models/bandwidth_server.h"
#include "models/kernel.h"
#include "sim/component/component.h"
#include "models/tile_record.h"

namespace xpu {

// What one kernel did, reported when it completes.
struct KernelReport {
  double start_s = 0, end_s = 0;
  uint64_t tiles = 0, waves = 0;
  double matrix_flops = 0, vector_flops = 0;
  double cache_read_bytes = 0, miss_bytes = 0, write_bytes = 0;
  double energy_j = 0;
  double compute_s = -1;  // an engine's own arithmetic time (array cycles); -1: derive from the unit's rates
  double program_s = 0;   // time spent writing weights into an engine's arrays
  double clock_hz = 0;    // the clock the kernel ran at (below the maximum when the power cap held it down)
};

class ComputeCore : public Component {
 public:
  SC_HAS_PROCESS(ComputeCore);
  ComputeCore(sc_core::sc_module_name name, const ParamSet& p);
  static std::vector<ParamSpec> param_specs();

  // Data path: blocks between a unit and the cache level (cache included), and from the cache to main memory.
  // Path to an offload tier (a memory pool) for the reads a kernel's offload_fraction sends there.
  void bind_offload(std::vector<DataPort*> to_pool, uint64_t latency_ps) { to_pool_ = std::move(to_pool); pool_latency_ps_ = latency_ps; }
  void bind_memory(std::vector<DataPort*> to_cache, CacheLevel* cache, std::vector<DataPort*> to_memory,
                   uint64_t cache_latency_ps, uint64_t memory_latency_ps);
  const UnitInfo& info() const { return info_; }
  // Static power of every block on the device (the core's included): what the governor's cap has to leave room for.
  void bind_power(double board_static_w);
  double tdp_w() const { return tdp_w_; }
  // The clock averaged over arithmetic busy time so far (the configured clock if nothing ran).
  double sustained_clock_hz() const { return busy_ps_ > 0 ? info_.clock_hz * clock_busy_ / double(busy_ps_) : info_.clock_hz; }
  // Starts the kernel now (or as soon as units free up if others are running); `done` fires at its completion.
  void launch(std::unique_ptr<Kernel> k, uint32_t op_index, std::function<void(const KernelReport&)> done);
  void record_tiles(std::vector<TileRecord>* sink, size_t limit) { tile_sink_ = sink; tile_limit_ = limit; }
  uint64_t events() const { return events_; }
  double utilization(double sim_seconds) const override;
  void finish(double sim_seconds) override;

 protected:
  void extra_counters(std::vector<double*>& d, std::vector<uint64_t*>& u) override {
    d.push_back(&clock_busy_);
    u.push_back(&busy_ps_);
  }

 private:
  struct Running {
    std::unique_ptr<Kernel> kernel;
    uint32_t op = 0;
    uint64_t issued = 0, completed = 0;
    uint64_t start_ps = 0;  // tiles start no earlier (launch overhead)
    // Per-kernel constants resolved at launch, so the per-tile path does no lookups.
    double s_per_matrix_flop = 0, s_per_vector_flop = 0, s_per_special_op = 0, j_per_mac = 0, j_per_vector_op = 0;
    double clock_ratio = 1;  // the governor's clock for this kernel, as a share of the maximum
    KernelReport report;
    std::function<void(const KernelReport&)> done;
  };
  struct Pending {
    uint64_t finish_ps;
    uint32_t unit;  // UINT32_MAX: the kernel's fixed part, not a tile
    uint32_t slot;  // index into running_
    uint64_t start_ps;
    bool operator>(const Pending& o) const { return finish_ps > o.finish_ps; }
  };

  void on_event();
  void fill_units();
  bool issue_one(uint32_t unit, uint64_t now_ps);
  void complete(uint32_t slot, uint64_t now_ps);
  void schedule_wake(uint64_t now_ps);
  uint64_t side_pass(uint64_t at_ps, const SidePass& pass, KernelReport& rep);

  UnitInfo info_;
  std::vector<DataPort*> to_cache_, to_memory_, to_pool_;
  uint64_t pool_latency_ps_ = 0;
  CacheLevel* cache_ = nullptr;
  bool keep_writes_ = false;  // the cache level holds written bytes: they never go to main memory
  uint64_t cache_latency_ps_ = 0, memory_latency_ps_ = 0, tile_overhead_ps_ = 0;
  std::vector<uint16_t> active_;         // tiles resident per unit
  std::vector<uint64_t> pipe_free_ps_;   // when each unit's arithmetic pipes are free
  std::vector<BandwidthServer> unit_port_;
  double matrix_eff_ = 1;
  std::map<DType, double> eff_by_dtype_;
  uint64_t kernel_overhead_ps_ = 0;
  double efficiency(DType d) const;
  double clock_ratio(const Running& r) const;
  double tdp_w_ = 0, dvfs_n_ = 3, min_clock_ratio_ = 0.5, board_static_w_ = 0, mem_j_per_byte_ = 0,
         cache_j_per_byte_ = 0;
  double clock_busy_ = 0;  // arithmetic busy time weighted by the clock ratio it ran at
  std::map<DType, double> mac_pj_, matrix_rate_, vector_rate_;
  double vector_pj_ = 0;

  std::vector<Running> running_;         // launched kernels; slots reused once a kernel completes
  std::vector<uint32_t> issue_queue_;    // slots with tiles left to issue, in launch order
  std::priority_queue<Pending, std::vector<Pending>, std::greater<Pending>> pending_;
  sc_core::sc_event wake_;
  uint64_t events_ = 0;
  uint64_t busy_ps_ = 0;
  std::vector<TileRecord>* tile_sink_ = nullptr;
  size_t tile_limit_ = 0;

  Stat tiles_{&stats_, "tiles", "", "tiles executed"};
  Stat kernels_{&stats_, "kernels", "", "kernels executed"};
  Stat matrix_flops_{&stats_, "matrix_flops", "FLOP", "floating-point operations on the matrix units (padded)"};
  Stat vector_flops_{&stats_, "vector_flops", "FLOP", "floating-point operations on the vector units"};
  Stat busy_time_{&stats_, "busy_time", "s", "arithmetic busy time averaged over units"};
  Stat sustained_clock_{&stats_, "sustained_clock", "Hz",
                        "clock the units ran at, averaged over their arithmetic busy time (tdp caps it)"};
};

}  // namespace xpu
