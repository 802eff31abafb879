#include "models/compute_core.h"

#include <cmath>
#include <cstdio>

#include "sim/config/registry.h"

namespace xpu {

std::vector<ParamSpec> ComputeCore::param_specs() {
  return {
      p_count("units", "", "compute units (SMs, cores) that run tiles independently", 1, 1e7),
      p_qty("clock", Dim::Frequency, "", "clock frequency under load"),
      p_dtype_map("matrix_flops_per_clk", "{}",
                  "dense matrix-unit FLOP per clock per unit, by dtype (a dtype absent here runs on vector units)"),
      p_dtype_map("vector_flops_per_clk", "{fp32: 256}", "vector-unit FLOP per clock per unit, by dtype"),
      p_real("special_ops_per_clk", "0",
             "transcendental operations (exp, rsqrt) per clock per unit on special-function units; 0: vector units",
             0),
      p_real("matrix_efficiency", "0.85",
             "sustained fraction of the matrix peak inside a tile's K loop (issue slots, power-capped clock)", 0.01, 1),
      [] {
        // A share of the peak: (0, 1], checked below with the entry's line; the bound also limits `calibrate`.
        auto s = p_dtype_map("matrix_efficiency_by_dtype", "{}",
                             "per-dtype override of matrix_efficiency (the vendor library's kernels differ per dtype); "
                             "a dtype that runs a matmul on the vector units (fp32 without tf32) takes its entry here "
                             "too");
        s.max = 1;
        return s;
      }(),
      p_real("unaligned_efficiency", "1.0",
             "share of the matrix rate kept when operand rows are not 16-byte aligned: the library falls back to "
             "kernels without bulk (TMA) copies that load elements one by one", 0.001, 1),
      p_qty("unaligned_overhead", Dim::Time, "0 s",
            "extra fixed time of those fallback kernels (set-up without tensor-memory descriptors, no prefetch)"),
      p_choice("gemm_schedule", "auto", {"auto", "data_parallel", "stream_k"},
               "how GEMM libraries spread work: whole output tiles in waves (data_parallel; on warpgroup-MMA units "
               "cooperative kernels, tiles of at least 128 rows), K iterations evenly "
               "over all units with partial-tile fix-ups (stream_k), or whichever is estimated faster (auto)"),
      p_qty("kernel_overhead", Dim::Time, "0 s",
            "fixed device time per kernel: grid launch, block scheduler ramp-up and the drain at its end"),
      p_count_list("systolic_array", "[]",
                   "[rows, cols] of a weight-stationary systolic matrix unit (TPU MXU: [128, 128]): matmuls pad K to "
                   "rows and N to cols, a stationary block takes at least `rows` cycles, tiles are multiples; []: none",
                   2, 1, 65536),
      p_count("max_tiles_per_unit", "2", "tiles (thread blocks) resident on one unit at once", 1, 64),
      p_qty("local_memory", Dim::Bytes, "228 KiB", "scratchpad/shared memory per unit that tiles are sized to fit"),
      p_real("load_bytes_per_clk", "64", "bytes per clock one unit can move to or from the cache level", 0.001),
      p_real("operand_feed_bytes_per_clk", "0",
             "shared-memory bytes per clock that feed one unit's matrix pipes: a GEMM tile whose operand reads (each "
             "64-row warpgroup reads the whole B slice) and bulk-copy writes need more runs below the matrix rate; 0: "
             "no limit", 0),
      p_count("cluster_units", "1",
              "units of a thread-block cluster: tiles in neighbouring rows of a GEMM share one cache read of their "
              "common B panel (Hopper's TMA multicast); 1: every tile reads its own", 1, 16),
      p_qty("tile_overhead", Dim::Time, "300 ns", "fixed cost per tile: block launch, prologue set-up, epilogue"),
      p_dtype_qty_map("mac_energy", Dim::EnergyPerOp, "{bf16: 0.3 pJ/MAC}",
                      "energy per multiply-accumulate on the matrix units, by dtype"),
      p_qty("vector_energy", Dim::EnergyPerOp, "1 pJ/op", "energy per vector-unit operation"),
      p_qty("tdp", Dim::Power, "0 W",
            "board power the clock governor holds (DVFS): a kernel whose draw at `clock` would exceed it runs at the "
            "highest clock that fits, with energy per operation falling as the voltage does; 0 W: no cap, `clock` always"),
      p_real("dvfs_exponent", "3",
             "dynamic power scales as clock^n along the voltage-frequency curve (n = 3 with voltage proportional to "
             "clock; 1 at a voltage floor): energy per operation scales as clock^(n-1)", 1, 4),
      p_real("min_clock_ratio", "0.5", "lowest clock the governor goes to, as a share of `clock`", 0.05, 1),
      // Structure that only the area, yield and cost model reads (models/area/compute_core_area.cpp).
      p_count("spare_units", "0",
              "units on the die beyond `units`, fused off when defective (H100: 144 SMs on the die, 132 enabled): "
              "they add area and raise yield", 0, 1e7),
      p_qty("rated_clock", Dim::Frequency, "0 Hz",
            "clock the datasheet's peak throughput is quoted at (H100 SXM5: 1.83 GHz for 989 TFLOP/s; A100: its 1.41 "
            "GHz boost): the full-load power estimate of `xpusim cost` runs there; 0 Hz: `clock`"),
      p_qty("register_file", Dim::Bytes, "0 B", "register file per unit (area only; multi-ported, twice an SRAM's area)"),
      p_qty("unit_control_area", Dim::Area, "1.26 mm2",
            "per-unit control at N7 (warp schedulers, dispatch, load/store, address units), scaled by the node"),
      p_qty("front_end_area", Dim::Area, "40 mm2",
            "fixed logic at N7 (command processor, work distributors, copy engines, media), scaled by the node"),
      [] {
        auto s = p_dtype_map("io", "{}",
                             "off-chip interface PHYs on this die, lanes by kind (an HBM interface belongs to the hbm "
                             "block): pcie4, pcie5, nvlink3, nvlink4, serdes112, ucie; area and cost only, whether or "
                             "not this config wires them");
        s.choices.clear();
        for (const auto& [k, v] : phy_kinds())
          if (v.unit == "lane") s.choices.push_back(k);
        s.key_kind = "PHY kind";
        return s;
      }(),
  };
}

ComputeCore::ComputeCore(sc_core::sc_module_name name, const ParamSet& p) : Component(name, "compute_core", p) {
  info_.name = this->name();
  info_.units = static_cast<unsigned>(p.count("units"));
  info_.clock_hz = p.qty("clock");
  if (info_.clock_hz <= 0) throw InputError(p.at("clock").mark, info_.name + ".clock must be > 0");
  info_.max_tiles_per_unit = static_cast<unsigned>(p.count("max_tiles_per_unit"));
  info_.local_memory = p.qty("local_memory");
  info_.load_bw_per_unit = p.real("load_bytes_per_clk") * info_.clock_hz;
  info_.operand_feed_bw = p.real("operand_feed_bytes_per_clk") * info_.clock_hz;
  info_.cluster_units = static_cast<unsigned>(p.count("cluster_units"));
  matrix_eff_ = p.real("matrix_efficiency");
  for (const auto& [k, v] : p.dmap("matrix_efficiency_by_dtype")) {
    if (v <= 0 || v > 1)
      throw InputError(p.at("matrix_efficiency_by_dtype").mark,
                       info_.name + ".matrix_efficiency_by_dtype." + k + " must be in (0, 1]");
    eff_by_dtype_[parse_dtype(k)] = v;
  }
  info_.unaligned_efficiency = p.real("unaligned_efficiency");
  if (const auto& sa = p.list("systolic_array"); sa.size() == 2) {
    info_.systolic_rows = static_cast<int64_t>(sa[0]);
    info_.systolic_cols = static_cast<int64_t>(sa[1]);
  }
  info_.gemm_schedule = p.str("gemm_schedule");
  info_.special_rate = p.real("special_ops_per_clk") * info_.clock_hz;
  info_.unaligned_overhead_s = p.qty("unaligned_overhead");
  kernel_overhead_ps_ = static_cast<uint64_t>(std::llround(p.qty("kernel_overhead") * 1e12));
  info_.kernel_overhead_s = p.qty("kernel_overhead");
  for (const auto& [k, v] : p.dmap("matrix_flops_per_clk")) matrix_rate_[parse_dtype(k)] = v * info_.clock_hz;
  for (const auto& [k, v] : p.dmap("vector_flops_per_clk")) vector_rate_[parse_dtype(k)] = v * info_.clock_hz;
  for (const auto& [k, v] : p.dmap("mac_energy")) mac_pj_[parse_dtype(k)] = v;
  vector_pj_ = p.qty("vector_energy");
  tdp_w_ = p.qty("tdp");
  dvfs_n_ = p.real("dvfs_exponent");
  min_clock_ratio_ = p.real("min_clock_ratio");
  board_static_w_ = static_power_w();  // until bind_power() adds the other blocks (and checks `tdp` against them)
  info_.matrix_rate = [this](DType d) {
    auto it = matrix_rate_.find(d);
    return it == matrix_rate_.end() ? 0.0 : it->second * efficiency(d);
  };
  info_.matmul_vector_efficiency = [this](DType d) { return efficiency(d); };
  info_.matrix_peak = [this](DType d) {
    auto it = matrix_rate_.find(d);
    return it == matrix_rate_.end() ? info_.vector_rate(d) : it->second;
  };
  info_.vector_rate = [this](DType d) {
    auto it = vector_rate_.find(d);
    if (it != vector_rate_.end()) return it->second;
    // Narrow dtypes without their own vector rate compute in fp32.
    auto f = vector_rate_.find(DType::fp32);
    return f == vector_rate_.end() ? 0.0 : f->second;
  };
  tile_overhead_ps_ = static_cast<uint64_t>(std::llround(p.qty("tile_overhead") * 1e12));
  active_.assign(info_.units, 0);
  pipe_free_ps_.assign(info_.units, 0);
  unit_port_.resize(info_.units);
  for (auto& u : unit_port_) u.configure(info_.load_bw_per_unit);
  SC_METHOD(on_event);
  sensitive << wake_;
  dont_initialize();
}

void ComputeCore::bind_memory(std::vector<DataPort*> to_cache, CacheLevel* cache, std::vector<DataPort*> to_memory,
                              uint64_t cache_latency_ps, uint64_t memory_latency_ps) {
  to_cache_ = std::move(to_cache);
  to_memory_ = std::move(to_memory);
  cache_ = cache;
  keep_writes_ = cache && !cache->writes_back();
  cache_latency_ps_ = cache_latency_ps;
  memory_latency_ps_ = memory_latency_ps;
  info_.cache_capacity = cache ? cache->capacity_bytes() : 0;
  info_.cache_bw = cache ? cache->peak_bandwidth() : 0;
  info_.mem_bw = 0;
  for (DataPort* d : to_memory_)
    if (d->peak_bandwidth() > 0 && (info_.mem_bw == 0 || d->peak_bandwidth() < info_.mem_bw))
      info_.mem_bw = d->peak_bandwidth();
  mem_j_per_byte_ = cache_j_per_byte_ = 0;
  for (DataPort* d : to_memory_) mem_j_per_byte_ += d->energy_per_byte();
  for (DataPort* d : to_cache_) cache_j_per_byte_ += d->energy_per_byte();
  info_.cache_latency_s = cache_latency_ps * 1e-12;
  info_.mem_latency_s = memory_latency_ps * 1e-12;
}

void ComputeCore::launch(std::unique_ptr<Kernel> k, uint32_t op_index,
                         std::function<void(const KernelReport&)> done) {
  uint64_t now = sc_core::sc_time_stamp().value();
  uint32_t slot = 0;
  while (slot < running_.size() && running_[slot].kernel) ++slot;
  if (slot == running_.size()) running_.emplace_back();
  Running& r = running_[slot];
  r.kernel = std::move(k);
  r.op = op_index;
  r.issued = r.completed = 0;
  r.report = KernelReport{};
  r.report.start_s = now * 1e-12;
  r.start_ps = now + (r.kernel->overhead_included ? 0 : kernel_overhead_ps_) +
               ps_from_seconds(r.kernel->start_delay_s, "kernel start-ups");
  r.report.tiles = r.kernel->num_tiles;
  {
    const DType dt = r.kernel->dtype;
    const double mrate = info_.matrix_rate(dt), vrate = info_.vector_rate(dt);
    r.s_per_matrix_flop = 1 / ((mrate > 0 ? mrate : vrate * efficiency(dt)) * r.kernel->rate_scale);
    r.s_per_vector_flop = 1 / vrate;
    r.s_per_special_op = 1 / (info_.special_rate > 0 ? info_.special_rate : info_.vector_rate(DType::fp32));
    auto it = mac_pj_.find(dt);
    r.j_per_mac = it != mac_pj_.end() ? it->second : (mac_pj_.empty() ? 0 : mac_pj_.begin()->second);
    r.j_per_vector_op = vector_pj_;
    r.clock_ratio = clock_ratio(r);
    // At a lower clock every pipe is slower and, the voltage being lower too, every operation cheaper.
    const double energy_scale = std::pow(r.clock_ratio, dvfs_n_ - 1);
    r.s_per_matrix_flop /= r.clock_ratio;
    r.s_per_vector_flop /= r.clock_ratio;
    r.s_per_special_op /= r.clock_ratio;
    r.j_per_mac *= energy_scale;
    r.j_per_vector_op *= energy_scale;
    r.report.clock_hz = info_.clock_hz * r.clock_ratio;
  }
  if (r.kernel->before.any()) r.start_ps = side_pass(r.start_ps, r.kernel->before, r.report);
  unsigned tpu = std::max(1u, std::min(r.kernel->tiles_per_unit, info_.max_tiles_per_unit));
  r.kernel->tiles_per_unit = tpu;
  r.report.waves = (r.kernel->num_tiles + uint64_t(info_.units) * tpu - 1) / (uint64_t(info_.units) * tpu);
  r.done = std::move(done);
  kernels_ += 1;
  if (r.kernel->num_tiles == 0) {
    pending_.push({r.start_ps + ps_from_seconds(r.kernel->fixed_s, "kernel fixed times"), UINT32_MAX, slot, now});
  } else {
    issue_queue_.push_back(slot);
    fill_units();
  }
  schedule_wake(now);
}

void ComputeCore::fill_units() {
  uint64_t now = sc_core::sc_time_stamp().value();
  // Breadth-first over units, as a block scheduler spreads a grid: every unit gets one tile before any gets two.
  for (unsigned level = 1; level <= info_.max_tiles_per_unit && !issue_queue_.empty(); ++level)
    for (uint32_t u = 0; u < info_.units && !issue_queue_.empty(); ++u)
      while (active_[u] < level && issue_one(u, now)) {}
}

bool ComputeCore::issue_one(uint32_t unit, uint64_t now) {
  while (!issue_queue_.empty()) {
    uint32_t slot = issue_queue_.front();
    Running& r = running_[slot];
    if (r.issued >= r.kernel->num_tiles) { issue_queue_.erase(issue_queue_.begin()); continue; }
    if (active_[unit] >= r.kernel->tiles_per_unit) return false;
    TileWork w;
    r.kernel->tile(r.issued++, w);
    if (r.issued == r.kernel->num_tiles) issue_queue_.erase(issue_queue_.begin());
    ++active_[unit];

    // Guarded products: a unit without vector pipes has an infinite time per vector FLOP, and 0 x inf is NaN.
    double compute_s = (w.matrix_flops > 0 ? w.matrix_flops * r.s_per_matrix_flop * w.matrix_stall : 0) +
                       (w.vector_flops > 0 ? w.vector_flops * r.s_per_vector_flop : 0) +
                       (w.special_ops > 0 ? w.special_ops * r.s_per_special_op : 0);
    const uint64_t compute_ps = ps_from_seconds(compute_s, "the compute units");

    uint64_t latency = w.miss_bytes > 0 ? memory_latency_ps_ : (w.read_bytes > 0 ? cache_latency_ps_ : 0);
    uint64_t start = std::max(now, r.start_ps) + tile_overhead_ps_;
    // The first and last waves of a pipelined kernel: their fill and drain move at each unit's share of the memory
    // and cache bandwidth while every unit of the wave does the same.
    const uint64_t index = r.issued - 1, slots = uint64_t(info_.units) * r.kernel->tiles_per_unit;
    uint64_t fill_ps = 0, drain_ps = 0;
    const double to_unit = info_.load_bw_per_unit > 0 ? info_.load_bw_per_unit : 1e30;
    auto share = [&](uint64_t n, double bw) { return bw > 0 ? bw / double(std::max<uint64_t>(1, n)) : 1e30; };
    if (w.fill_bytes > 0 && index < slots) {
      const uint64_t n = std::min(slots, r.kernel->num_tiles);
      const double miss = w.read_bytes > 0 ? std::min(1.0, w.miss_bytes / w.read_bytes) : 0;
      fill_ps = ps_from_seconds(w.fill_bytes * (miss / std::min(to_unit, share(n, info_.mem_bw)) +
                                                (1 - miss) / std::min(to_unit, share(n, info_.cache_bw))),
                                "a pipeline fill");
    }
    if (w.drain_bytes > 0 && index + slots >= r.kernel->num_tiles) {
      const uint64_t n = r.kernel->num_tiles % slots ? r.kernel->num_tiles % slots : slots;
      drain_ps = ps_from_seconds(w.drain_bytes / std::min(to_unit, share(n, info_.cache_bw)), "a pipeline drain");
    }
    // Arithmetic waits for the first operands (the pipeline prologue) and for the unit's pipes.
    uint64_t compute_start = std::max(start + latency + fill_ps, pipe_free_ps_[unit]);
    uint64_t compute_end = compute_start + compute_ps;
    pipe_free_ps_[unit] = compute_end;
    compute_end += drain_ps;
    busy_ps_ += compute_ps;
    clock_busy_ += compute_ps * r.clock_ratio;

    double moved = w.read_bytes + w.write_bytes + w.scratch_bytes;
    uint64_t mem_end = start, pool_done = 0;
    if (moved > 0) {
      mem_end = std::max(mem_end, unit_port_[unit].reserve(start, moved));
      // A multicast reaches this unit's port but leaves the cache once for the cluster.
      for (DataPort* d : to_cache_)
        mem_end = std::max(mem_end, d->transfer(start, moved - w.multicast_bytes, w.access, false));
      double local_miss = w.miss_bytes;
      if (r.kernel->offload_fraction > 0 && !to_pool_.empty() && w.miss_bytes > 0) {
        const double remote = w.miss_bytes * r.kernel->offload_fraction;
        local_miss -= remote;
        uint64_t pool_end = start;
        for (DataPort* d : to_pool_) pool_end = std::max(pool_end, d->transfer(start, remote, w.access, false));
        pool_done = pool_end + pool_latency_ps_;
      }
      // Lines a flush left dirty, evicted by this tile's fills.
      const double flushed = cache_ && !keep_writes_ && !to_memory_.empty()
                                 ? cache_->flush_writeback(w.miss_bytes + w.write_bytes, w.write_bytes)
                                 : 0;
      for (DataPort* d : to_memory_) {
        if (local_miss > 0) mem_end = std::max(mem_end, d->transfer(start, local_miss, w.access, false));
        if (w.write_bytes > 0 && !keep_writes_)
          mem_end = std::max(mem_end, d->transfer(start, w.write_bytes, Access::stream, true));
        if (flushed > 0) mem_end = std::max(mem_end, d->transfer(start, flushed, Access::stream, true));
      }
      r.report.write_bytes += flushed;
      mem_end = std::max(mem_end + latency, pool_done);
      if (cache_) cache_->count_hits(w.read_bytes - w.miss_bytes, w.miss_bytes);
    }
    uint64_t finish = std::max(compute_end, mem_end);
    if (w.serial_s > 0) finish = std::max(finish, start + ps_from_seconds(w.serial_s, "a tile's dependent loads"));

    double energy = 0;
    if (w.matrix_flops > 0) energy += (w.useful_matrix_flops >= 0 ? w.useful_matrix_flops : w.matrix_flops) / 2 * r.j_per_mac;
    energy += w.vector_flops * r.j_per_vector_op;
    add_dynamic_energy(energy);
    matrix_flops_ += w.matrix_flops;
    vector_flops_ += w.vector_flops;
    tiles_ += 1;

    KernelReport& rep = r.report;
    rep.matrix_flops += w.matrix_flops;
    rep.vector_flops += w.vector_flops;
    rep.cache_read_bytes += w.read_bytes - w.miss_bytes + w.scratch_bytes;
    rep.miss_bytes += w.miss_bytes;
    // Writes a cache keeps are cache-only traffic, like partial sums.
    if (keep_writes_) rep.cache_read_bytes += w.write_bytes;
    else rep.write_bytes += w.write_bytes;
    rep.energy_j += energy;
    pending_.push({checked_time(finish, "the compute units"), unit, slot, now});
    return true;
  }
  return false;
}

void ComputeCore::complete(uint32_t slot, uint64_t now) {
  Running& r = running_[slot];
  r.report.end_s = now * 1e-12;
  auto done = std::move(r.done);
  KernelReport rep = r.report;
  r.kernel.reset();
  done(rep);
}

void ComputeCore::on_event() {
  uint64_t now = sc_core::sc_time_stamp().value();
  std::vector<uint32_t> freed;
  while (!pending_.empty() && pending_.top().finish_ps <= now) {
    Pending p = pending_.top();
    pending_.pop();
    ++events_;
    Running& r = running_[p.slot];
    if (p.unit == UINT32_MAX) { complete(p.slot, now); continue; }
    --active_[p.unit];
    freed.push_back(p.unit);
    if (tile_sink_ && tile_sink_->size() < tile_limit_)
      tile_sink_->push_back({r.op, p.unit, p.start_ps * 1e-12, p.finish_ps * 1e-12});
    if (++r.completed == r.kernel->num_tiles) {
      uint64_t end = now + (r.kernel->fixed_s > 0 ? ps_from_seconds(r.kernel->fixed_s, "kernel fixed times") : 0);
      if (r.kernel->after.any()) end = side_pass(end, r.kernel->after, r.report);
      if (end > now) {
        pending_.push({end, UINT32_MAX, p.slot, now});
      } else {
        complete(p.slot, now);
      }
    }
  }
  for (uint32_t u : freed)
    while (active_[u] < info_.max_tiles_per_unit && issue_one(u, now)) {}
  schedule_wake(now);
}

uint64_t ComputeCore::side_pass(uint64_t at, const SidePass& pass, KernelReport& rep) {
  const uint64_t start = at + kernel_overhead_ps_;
  uint64_t end = start;
  const double moved = pass.read_bytes + pass.write_bytes;
  for (DataPort* d : to_cache_) end = std::max(end, d->transfer(start, moved, Access::stream, false));
  const bool from_memory = !to_memory_.empty();
  for (DataPort* d : to_memory_) {
    if (pass.read_bytes > 0) end = std::max(end, d->transfer(start, pass.read_bytes, Access::stream, false));
    if (pass.write_bytes > 0 && !keep_writes_)
      end = std::max(end, d->transfer(start, pass.write_bytes, Access::stream, true));
  }
  end += from_memory ? memory_latency_ps_ : cache_latency_ps_;
  if (from_memory) {
    rep.miss_bytes += pass.read_bytes;
    if (cache_) cache_->count_hits(0, pass.read_bytes);
  } else {
    rep.cache_read_bytes += pass.read_bytes;
  }
  if (keep_writes_ || !from_memory) rep.cache_read_bytes += pass.write_bytes;
  else rep.write_bytes += pass.write_bytes;
  return end;
}

void ComputeCore::schedule_wake(uint64_t now) {
  if (!pending_.empty()) wake_.notify(sc_core::sc_time::from_value(pending_.top().finish_ps - now));
}

// The governor's steady state for this kernel repeating alone: the highest clock ratio x at which the board draws no
// more than `tdp`. Arithmetic time scales as 1/x and its energy per operation as x^(n-1), so its power as x^n; the
// kernel's memory traffic and every block's static power do not depend on x. Power rises with x, so bisection finds x.
double ComputeCore::clock_ratio(const Running& r) const {
  const Kernel& k = *r.kernel;
  if (tdp_w_ <= 0 || (k.work_matrix_flops <= 0 && k.work_vector_flops <= 0)) return 1;
  const double units = info_.units;
  const double matrix_s = k.work_matrix_flops > 0 ? k.work_matrix_flops * r.s_per_matrix_flop * k.work_matrix_stall : 0;
  const double compute_s = matrix_s / units +
                           (k.work_vector_flops > 0 ? k.work_vector_flops * r.s_per_vector_flop / units : 0) +
                           (k.work_special_ops > 0 ? k.work_special_ops * r.s_per_special_op / units : 0);
  const double memory_s = info_.mem_bw > 0 ? k.work_bytes / info_.mem_bw : 0;
  const double compute_j = k.work_matrix_flops / 2 * r.j_per_mac + k.work_vector_flops * r.j_per_vector_op;
  const double memory_j = k.work_bytes * mem_j_per_byte_ + std::max(k.work_cache_bytes, 0.0) * cache_j_per_byte_;
  auto power = [&](double x) {
    const double t = std::max(compute_s / x, memory_s);
    return t > 0 ? board_static_w_ + (compute_j * std::pow(x, dvfs_n_ - 1) + memory_j) / t : board_static_w_;
  };
  if (power(1) <= tdp_w_) return 1;
  if (power(min_clock_ratio_) >= tdp_w_) return min_clock_ratio_;
  double lo = min_clock_ratio_, hi = 1;
  for (int i = 0; i < 40; ++i) {
    const double mid = 0.5 * (lo + hi);
    (power(mid) <= tdp_w_ ? lo : hi) = mid;
  }
  return lo;
}

void ComputeCore::bind_power(double board_static_w) {
  board_static_w_ = board_static_w;
  if (tdp_w_ > 0 && tdp_w_ <= board_static_w_) {
    char buf[200];
    std::snprintf(buf, sizeof buf, ".tdp (%.4g W) must exceed the static power of the device's blocks (%.4g W)",
                  tdp_w_, board_static_w_);
    throw InputError(params().at("tdp").mark, info_.name + buf);
  }
}

double ComputeCore::efficiency(DType d) const {
  auto it = eff_by_dtype_.find(d);
  return it == eff_by_dtype_.end() ? matrix_eff_ : it->second;
}

double ComputeCore::utilization(double s) const { return s > 0 ? busy_ps_ * 1e-12 / info_.units / s : 0; }

void ComputeCore::finish(double s) {
  Component::finish(s);
  busy_time_.set(busy_ps_ * 1e-12 / info_.units);
  sustained_clock_.set(sustained_clock_hz());
}

XPU_REGISTER_COMPONENT(ComputeCore, "compute_core",
                       "Cluster of compute units (SMs/cores) with matrix and vector pipes; runs kernels as tiles",
                       ComputeCore::param_specs());

}  // namespace xpu
