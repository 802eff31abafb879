#include "models/hbm.h"

#include "models/sim_time.h"

#include <cmath>

#include "sim/config/registry.h"

namespace xpu {

std::vector<ParamSpec> HbmModule::param_specs() {
  return {
      p_qty("capacity", Dim::Bytes, "", "total capacity of all stacks"),
      p_qty("bandwidth", Dim::Bandwidth, "", "peak bandwidth of all stacks together (datasheet figure)"),
      p_count("stacks", "1", "number of HBM stacks", 1, 64),
      p_count("channels_per_stack", "16", "independent (pseudo-)channels per stack", 1, 1024),
      p_qty("latency", Dim::Time, "400 ns", "unloaded read latency seen by a core"),
      p_qty("interleave", Dim::Bytes, "256 B", "address interleaving granularity across channels"),
      p_qty("access_granularity", Dim::Bytes, "32 B", "smallest access (sector); random gathers round up to it"),
      p_real("stream_efficiency", "0.9", "fraction of peak sustained by streaming accesses (refresh, row switches)",
             0.01, 1),
      p_real("random_efficiency", "0.5", "fraction of peak sustained by random sector gathers (row misses)", 0.01, 1),
      p_qty("energy_per_bit", Dim::EnergyPerBit, "4 pJ/bit", "access energy per bit moved (array, I/O, PHY)"),
      p_choice("phy", "hbm3", {"hbm2e", "hbm3", "hbm3e"},
               "HBM generation: the PHY area on the die, a stack's peak bandwidth, footprint and price per GB (area "
               "and cost; `xpusim describe technology`)"),
      p_count("spare_stacks", "0",
              "stack interfaces on the die (and sites on the interposer) beyond `stacks` (H100: 6 PHYs, 5 stacks "
              "used)", 0, 64),
  };
}

HbmModule::HbmModule(sc_core::sc_module_name name, const ParamSet& p) : Component(name, "hbm", p) {
  peak_bw_ = p.qty("bandwidth");
  if (peak_bw_ <= 0) throw InputError(p.at("bandwidth").mark, std::string(this->name()) + ".bandwidth must be > 0");
  size_t n = p.count("stacks") * p.count("channels_per_stack");
  stream_eff_ = p.real("stream_efficiency");
  random_eff_ = p.real("random_efficiency");
  free_at_ps_.assign(n, 0);
  interleave_ = std::max(1.0, p.qty("interleave"));
  granule_ = std::max(1.0, p.qty("access_granularity"));
  latency_ps_ = static_cast<uint64_t>(std::llround(p.qty("latency") * 1e12));
  pj_per_bit_ = p.qty("energy_per_bit");
  ps_per_byte_channel_ = 1e12 / (peak_bw_ / n);
}

uint64_t HbmModule::transfer(uint64_t now_ps, double bytes, Access access, bool write) {
  if (bytes <= 0) return now_ps;
  if (write) bytes_written_ += bytes;
  else bytes_read_ += bytes;
  add_dynamic_energy(bytes * 8 * pj_per_bit_);
  // Inefficiency is charged as extra channel occupancy: the bytes still count once in traffic statistics.
  // A matrix's 2-D tiles stream at the sequential rate: the GEMV rows that once seemed to need a lower "tile"
  // rate (2.35 TB/s) were timed after a flush that leaves the cache dirty (`flush_dirty` in the cache).
  double eff = access == Access::random ? random_eff_ : stream_eff_;
  if (access == Access::random) random_bytes_ += bytes;
  double cost = bytes / eff;
  const size_t n = free_at_ps_.size();
  const double chunks = std::ceil(bytes / interleave_);
  uint64_t done = now_ps;
  uint64_t* f = free_at_ps_.data();
  if (chunks >= n) {
    const uint64_t dur = ps_from(cost / n * ps_per_byte_channel_, "the HBM channels");
    for (size_t i = 0; i < n; ++i) {
      uint64_t end = (f[i] > now_ps ? f[i] : now_ps) + dur;
      f[i] = end;
      done = end > done ? end : done;
    }
    busy_ps_total_ += dur * n;
  } else {
    const auto k = static_cast<size_t>(chunks);
    const uint64_t dur = ps_from(cost / k * ps_per_byte_channel_, "the HBM channels");
    for (size_t i = 0; i < k; ++i) {
      uint64_t& c = f[next_channel_];
      c = std::max(c, now_ps) + dur;
      done = std::max(done, c);
      next_channel_ = next_channel_ + 1 == n ? 0 : next_channel_ + 1;
    }
    busy_ps_total_ += dur * k;
  }
  done = checked_time(done, "the HBM channels");
  return done;
}

double HbmModule::utilization(double sim_seconds) const {
  if (sim_seconds <= 0) return 0;
  return double(busy_ps_total_) / free_at_ps_.size() * 1e-12 / sim_seconds;
}

void HbmModule::finish(double sim_seconds) {
  Component::finish(sim_seconds);
  busy_time_.set(double(busy_ps_total_) / free_at_ps_.size() * 1e-12);
}

XPU_REGISTER_COMPONENT(HbmModule, "hbm", "High-bandwidth memory: stacks x channels, interleaved, with efficiencies",
                       HbmModule::param_specs());

}  // namespace xpu
