// A CXL-attached memory pool shared by the devices of a system: capacity, bandwidth (shared by `shared_by` devices
// that stream from it at once, as SPMD ranks do), access latency and energy per bit. It holds whole classes of
// resident tensors (`holds`); the device reads those over its link to the pool instead of from its HBM, and the
// memory check counts them against the pool rather than the device.
#include <algorithm>
#include <sstream>

#include "models/bandwidth_server.h"
#include "models/interfaces.h"
#include "sim/component/component.h"
#include "sim/config/registry.h"

namespace xpu {
namespace {

const std::vector<std::string> kClasses = {"weights", "kv_cache", "optimizer", "embeddings"};

class MemoryPool : public Component, public OffloadTier {
 public:
  MemoryPool(sc_core::sc_module_name name, const ParamSet& p) : Component(name, "memory_pool", p) {
    if (p.qty("bandwidth") <= 0)
      throw InputError(p.at("bandwidth").mark, std::string(this->name()) + ".bandwidth must be > 0");
    std::stringstream ss(p.str("holds"));
    std::string c;
    while (std::getline(ss, c, ',')) {
      c.erase(0, c.find_first_not_of(' '));
      c.erase(c.find_last_not_of(' ') + 1);
      if (std::find(kClasses.begin(), kClasses.end(), c) == kClasses.end())
        throw InputError(p.at("holds").mark, std::string(this->name()) + ".holds: unknown tensor class '" + c +
                                                 "' (expected a comma-separated list of weights, kv_cache, optimizer, "
                                                 "embeddings)");
      holds_.push_back(c);
    }
    share_ = p.qty("bandwidth") / double(p.count("shared_by"));
    srv_.configure(share_);
  }
  static std::vector<ParamSpec> specs() {
    return {
        p_qty("capacity", Dim::Bytes, "", "capacity of the pool, for all the devices sharing it"),
        p_qty("bandwidth", Dim::Bandwidth, "", "total bandwidth of the pool's memory controllers"),
        p_count("shared_by", "1", "devices streaming from the pool at once (each gets an equal share)", 1, 1e7),
        p_qty("latency", Dim::Time, "600 ns", "load-to-use latency (CXL.mem adds ~170-250 ns to DRAM)"),
        p_qty("energy_per_bit", Dim::EnergyPerBit, "10 pJ/bit", "DRAM access plus CXL controller energy per bit"),
        p_string("holds", "weights", "tensor classes kept in the pool: weights, kv_cache, optimizer, embeddings"),
    };
  }
  uint64_t transfer(uint64_t now_ps, double bytes, Access, bool) override {
    bytes_ += bytes;
    add_dynamic_energy(bytes * 8 * params().qty("energy_per_bit"));
    return srv_.reserve(now_ps, bytes);
  }
  uint64_t latency_ps() const override { return uint64_t(params().qty("latency") * 1e12 + 0.5); }
  double peak_bandwidth() const override { return share_; }
  double capacity_bytes() const override { return params().qty("capacity") / double(params().count("shared_by")); }
  bool holds(const std::string& c) const override { return std::find(holds_.begin(), holds_.end(), c) != holds_.end(); }
  double data_movement_energy_j() const override { return dynamic_energy_j(); }
  double utilization(double t) const override { return t > 0 ? srv_.busy_ps() * 1e-12 / t : 0; }

 private:
  std::vector<std::string> holds_;
  double share_ = 0;
  BandwidthServer srv_;
  Stat bytes_{&stats_, "bytes_read", "B", "bytes this device read from the pool"};
};

}  // namespace

XPU_REGISTER_COMPONENT(MemoryPool, "memory_pool",
                       "CXL-attached memory pool shared by devices: capacity, bandwidth share, latency, pJ/bit; holds "
                       "offloaded weights, KV cache, optimizer state or embedding tables",
                       MemoryPool::specs());

}  // namespace xpu
