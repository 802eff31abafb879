#pragma once
// A connection from the config as a data path element: its bandwidth (per direction) and latency apply to every
// transfer routed across it.
#include <cmath>
#include <string>
#include <vector>

#include "models/bandwidth_server.h"
#include "models/interfaces.h"
#include "sim/config/hardware.h"

namespace xpu {

class EdgePort : public DataPort {
 public:
  explicit EdgePort(const ConnectionSpec& c)
      : name_(c.from + "<->" + c.to), bw_(c.bandwidth), j_per_bit_(c.energy_per_bit),
        latency_ps_(static_cast<uint64_t>(std::llround(c.latency_s * 1e12))) {
    read_.configure(bw_);
    write_.configure(bw_);
  }
  uint64_t transfer(uint64_t now_ps, double bytes, Access, bool write) override {
    bytes_ += bytes;
    energy_j_ += bytes * 8 * j_per_bit_;
    return bw_ > 0 ? (write ? write_ : read_).reserve(now_ps, bytes) : now_ps;
  }
  uint64_t latency_ps() const override { return latency_ps_; }
  double peak_bandwidth() const override { return bw_; }
  const std::string& name() const { return name_; }
  double bytes() const { return bytes_; }
  // For the kernel memo (see Component::read_counters).
  void read_counters(std::vector<double>& out) const {
    out.insert(out.end(), {bytes_, energy_j_, double(read_.busy_ps()), double(write_.busy_ps())});
  }
  void add_counters(const double*& d) {
    bytes_ += d[0];
    energy_j_ += d[1];
    read_.busy_counter() += uint64_t(std::llround(d[2]));
    write_.busy_counter() += uint64_t(std::llround(d[3]));
    d += 4;
  }
  double energy_j() const { return energy_j_; }
  double busy_s() const { return std::max(read_.busy_ps(), write_.busy_ps()) * 1e-12; }

 private:
  std::string name_;
  double bw_, j_per_bit_;
  uint64_t latency_ps_;
  BandwidthServer read_, write_;
  double bytes_ = 0, energy_j_ = 0;
};

}  // namespace xpu
