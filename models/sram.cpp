#include "models/sram.h"

#include <cmath>

#include "sim/config/registry.h"

namespace xpu {

std::vector<ParamSpec> SramModule::param_specs() {
  return {
      p_qty("capacity", Dim::Bytes, "", "capacity"),
      p_qty("bandwidth", Dim::Bandwidth, "", "aggregate read+write bandwidth of all banks/slices"),
      p_qty("latency", Dim::Time, "150 ns", "load-to-use latency of a hit as seen by a core"),
      p_qty("miss_latency", Dim::Time, "0 s",
            "load-to-use latency of a lone dependent load that misses and goes to main memory (a pointer chase, no "
            "queueing), for chains of dependent gathers; 0 s: use the data path's loaded memory latency"),
      p_real("usable_fraction", "0.9",
             "share of the capacity that holds reusable data (the rest is lost to set conflicts and partitioning)",
             0.01, 1),
      p_qty("flush_penalty", Dim::Time, "0 s",
            "extra start-up of a kernel whose data was flushed: TLB refills through page-table walks and the first "
            "round trips to memory"),
      p_real("flush_dirty", "0",
             "share of the usable capacity a cache flush leaves dirty (a benchmark flushes by writing a large buffer): "
             "the kernel after it writes those lines back as its fills evict them (random replacement)",
             0, 1),
      p_bool("write_back", "true",
             "written bytes also go to main memory (a cache in front of DRAM); false: they stay here and only read "
             "misses reach main memory (an SRAM that holds the activations, e.g. a wafer's)"),
      p_qty("read_energy", Dim::EnergyPerBit, "0.6 pJ/bit", "energy per bit read"),
      p_qty("write_energy", Dim::EnergyPerBit, "0.7 pJ/bit", "energy per bit written"),
  };
}

SramModule::SramModule(sc_core::sc_module_name name, const ParamSet& p) : Component(name, "sram", p) {
  capacity_ = p.qty("capacity");
  usable_ = capacity_ * p.real("usable_fraction");
  bw_ = p.qty("bandwidth");
  if (bw_ <= 0) throw InputError(p.at("bandwidth").mark, std::string(this->name()) + ".bandwidth must be > 0");
  port_.configure(bw_);
  latency_ps_ = static_cast<uint64_t>(std::llround(p.qty("latency") * 1e12));
  miss_latency_s_ = p.qty("miss_latency");
  pj_read_ = p.qty("read_energy");
  pj_write_ = p.qty("write_energy");
  flush_dirty_share_ = p.real("flush_dirty");
}

uint64_t SramModule::transfer(uint64_t now_ps, double bytes, Access, bool write) {
  if (bytes <= 0) return now_ps;
  if (write) { bytes_written_ += bytes; add_dynamic_energy(bytes * 8 * pj_write_); }
  else { bytes_read_ += bytes; add_dynamic_energy(bytes * 8 * pj_read_); }
  return port_.reserve(now_ps, bytes);
}

double SramModule::resident_fraction(const std::string& tensor, double bytes) const {
  auto it = index_.find(tensor);
  if (it == index_.end() || bytes <= 0) return 0;
  const double held = it->second->bytes;
  if (held >= bytes) return 1;
  // Part of it was evicted: its head, streamed first. Read again in the same order, the head's fills take free
  // space and lines older than it first, then its own oldest resident lines, which are the very ones it needs next:
  // every later access misses too (LRU's cliff under a cyclic stream, e.g. a weight larger than the cache read once
  // per CUDA-graph replay). So its resident tail survives only if what is free or older can absorb the head.
  double absorb = std::max(0.0, usable_ - resident_);
  for (auto j = std::next(it->second); j != lru_.end(); ++j) absorb += j->bytes;
  return bytes - held <= absorb ? held / bytes : 0;
}

void SramModule::touch(const std::string& tensor, double bytes) {
  if (tensor.empty() || bytes <= 0) return;
  auto it = index_.find(tensor);
  if (it != index_.end()) {
    // Writing part of a resident tensor (a KV cache the step appends to) leaves the rest of it on chip.
    bytes = std::max(bytes, it->second->bytes);
    resident_ -= it->second->bytes;
    lru_.erase(it->second);
    index_.erase(it);
  }
  // A tensor larger than the cache keeps only its most recently streamed part.
  double keep = std::min(bytes, usable_);
  lru_.push_front({tensor, keep});
  index_[tensor] = lru_.begin();
  resident_ += keep;
  while (resident_ > usable_ && !lru_.empty()) {
    Entry& victim = lru_.back();
    double excess = resident_ - usable_;
    if (victim.bytes > excess && &victim != &lru_.front()) {
      victim.bytes -= excess;
      resident_ -= excess;
      break;
    }
    if (&victim == &lru_.front()) break;
    resident_ -= victim.bytes;
    index_.erase(victim.name);
    lru_.pop_back();
  }
}

void SramModule::flush() {
  lru_.clear();
  index_.clear();
  resident_ = 0;
  foreign_dirty_ = flush_dirty_share_ * usable_;
  own_dirty_ = foreign_evicted_ = flush_charged_ = 0;
}

// Each filled line evicts a random one, so `allocated` bytes evict a share 1 - exp(-allocated / usable) of every
// class of resident line. The cores charge their own writes to memory as they write them, which is exact in a
// steady state where each kernel writes back what the one before left dirty; after a flush the lines evicted are
// the flush's instead, and the difference (flush lines evicted less own lines still held) is written back here.
double SramModule::flush_writeback(double allocated, double written) {
  if (foreign_dirty_ <= 1 || allocated <= 0 || usable_ <= 0) return 0;
  const double f = -std::expm1(-allocated / usable_);
  const double out = foreign_dirty_ * f;
  foreign_dirty_ -= out;
  foreign_evicted_ += out;
  own_dirty_ = std::min(usable_, own_dirty_ * (1 - f) + written);
  const double owed = foreign_evicted_ - own_dirty_ - flush_charged_;
  if (owed <= 0) return 0;
  flush_charged_ += owed;
  flush_writeback_ += owed;
  return owed;
}

void SramModule::count_hits(double hit, double miss) {
  hit_bytes_ += hit;
  miss_bytes_ += miss;
}

double SramModule::utilization(double sim_seconds) const {
  return sim_seconds > 0 ? port_.busy_ps() * 1e-12 / sim_seconds : 0;
}

void SramModule::finish(double sim_seconds) {
  Component::finish(sim_seconds);
  busy_time_.set(port_.busy_ps() * 1e-12);
}

XPU_REGISTER_COMPONENT(SramModule, "sram", "On-chip SRAM used as a global cache (L2) with tensor residency tracking",
                       SramModule::param_specs());

}  // namespace xpu
