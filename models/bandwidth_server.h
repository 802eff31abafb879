#pragma once
// A shared bandwidth resource served in arrival order. Requests reserve time on it instead of generating an event per
// byte or per cycle: two streams that arrive together each see about half the bandwidth, and a stream arriving at an
// idle server sees all of it. Times are integer picoseconds (SystemC's resolution).
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "models/sim_time.h"

namespace xpu {

class BandwidthServer {
 public:
  void configure(double bytes_per_s) { ps_per_byte_ = bytes_per_s > 0 ? 1e12 / bytes_per_s : 0; }
  // Serves `bytes` no earlier than `now_ps` and after everything reserved before; returns the completion time.
  uint64_t reserve(uint64_t now_ps, double bytes) {
    uint64_t start = std::max(now_ps, free_at_ps_);
    const double ps = bytes * ps_per_byte_;
    // bytes >= 0; llround is slow here, and the range check is one comparison on the common path.
    const uint64_t dur = ps < 1e18 ? static_cast<uint64_t>(ps + 0.5) : ps_from(ps, "links or memory ports");
    free_at_ps_ = checked_time(start + dur, "links or memory ports");
    busy_ps_ += dur;
    return free_at_ps_;
  }
  uint64_t free_at_ps() const { return free_at_ps_; }
  // Keeps the server busy until `t_ps` without serving anything (a stalled sender under back-pressure).
  void hold_until(uint64_t t_ps) { free_at_ps_ = std::max(free_at_ps_, t_ps); }
  uint64_t busy_ps() const { return busy_ps_; }
  uint64_t& busy_counter() { return busy_ps_; }  // for the kernel memo, which adds a recorded kernel's busy time
  bool unlimited() const { return ps_per_byte_ == 0; }
  void reset() { free_at_ps_ = busy_ps_ = 0; }

 private:
  double ps_per_byte_ = 0;
  uint64_t free_at_ps_ = 0;
  uint64_t busy_ps_ = 0;
};

}  // namespace xpu
