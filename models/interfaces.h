#pragma once
// Narrow interfaces between hardware blocks. The engine finds roles by these interfaces, never by type names, so a
// new kind of memory or compute unit plugs in without touching the dispatcher.
#include <cstdint>
#include <string>

namespace xpu {

// stream: sequential runs, a matrix's 2-D tiles included (they stream at the sequential rate); random: sector
// gathers.
enum class Access { stream, random };

// Anything data flows through: a memory, a cache, a NoC, a link.
class DataPort {
 public:
  virtual ~DataPort() = default;
  // Moves `bytes` starting at `now_ps`; returns when the last byte has passed (excluding latency).
  virtual uint64_t transfer(uint64_t now_ps, double bytes, Access access, bool write) = 0;
  virtual uint64_t latency_ps() const = 0;
  virtual double peak_bandwidth() const = 0;  // bytes/s; 0 = unlimited
  // Dynamic energy of moving one byte through (joules): what a power governor adds for a kernel's traffic.
  virtual double energy_per_byte() const { return 0; }
};

// An on-chip cache level that knows which named tensors are resident (LRU by bytes).
class CacheLevel : public DataPort {
 public:
  virtual double capacity_bytes() const = 0;
  // What holds reusable data (set conflicts and partitioning lose the rest).
  virtual double usable_bytes() const { return capacity_bytes(); }
  // Fraction (0..1) of the tensor's bytes a read of it in its streaming order finds resident now (a partly evicted
  // tensor can lose the rest of it to its own misses).
  virtual double resident_fraction(const std::string& tensor, double bytes) const = 0;
  // Marks the tensor as most recently used (allocating it, evicting the least recently used bytes).
  virtual void touch(const std::string& tensor, double bytes) = 0;
  virtual void flush() = 0;
  // Extra wait of a kernel's first accesses after a flush (address translations are refilled too).
  virtual double flush_penalty_s() const { return 0; }
  virtual void count_hits(double hit_bytes, double miss_bytes) = 0;
  // Bytes a tile's fills (`allocated`, of which `written` are its own writes) make the cache write back beyond what
  // the core already charged for its writes: non-zero only while lines a flush left dirty are being evicted.
  virtual double flush_writeback(double /*allocated*/, double /*written*/) { return 0; }
  // Whether such a write-back is still to come (the state a memoized kernel would not replay).
  virtual bool flush_dirty() const { return false; }
  // Whether written bytes also go to main memory (a cache in front of DRAM) or stay here (an SRAM that holds the
  // activations, as a wafer's does).
  virtual bool writes_back() const { return true; }
};

// The backing store of a device (HBM, DRAM, a memory pool).
class MainMemory : public DataPort {
 public:
  virtual double capacity_bytes() const = 0;
};

// A memory tier beside the device's own (a CXL memory pool): it holds whole classes of resident tensors (weights,
// kv_cache, optimizer, embeddings) that the device then reads over its link instead of from HBM.
class OffloadTier : public DataPort {
 public:
  virtual double capacity_bytes() const = 0;
  virtual bool holds(const std::string& tensor_class) const = 0;
};

}  // namespace xpu
