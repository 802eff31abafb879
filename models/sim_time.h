#pragma once
// Simulated time is integer picoseconds in 64 bits (SystemC's resolution). Every duration a model derives from its
// parameters goes through ps_from(): one that would pass kMaxSimPs (53 days) saturates there and is recorded, and
// the dispatcher then stops the run naming the op and the resource, instead of printing a wrapped-around time.
#include <cstdint>

namespace xpu {

constexpr uint64_t kMaxSimPs = uint64_t(1) << 62;

struct SimTimeOverflow {
  bool set = false;
  const char* where = "";  // the resource whose time overflowed (static text)
  double ps = 0;           // the duration it asked for
};

inline SimTimeOverflow& sim_time_overflow() {
  static SimTimeOverflow o;
  return o;
}

// A duration in picoseconds (not NaN, not negative), saturated and recorded if it does not fit.
inline uint64_t ps_from(double ps, const char* where) {
  if (ps < double(kMaxSimPs)) return ps > 0 ? static_cast<uint64_t>(ps + 0.5) : 0;
  SimTimeOverflow& o = sim_time_overflow();
  if (!o.set) {
    o.set = true;
    o.where = where;
    o.ps = ps;
  }
  return kMaxSimPs;
}

inline uint64_t ps_from_seconds(double s, const char* where) { return ps_from(s * 1e12, where); }

// A point in simulated time that a resource has booked up to: past kMaxSimPs it is recorded and held there, so that
// sums of saturated durations never wrap around before the dispatcher stops the run.
inline uint64_t checked_time(uint64_t t, const char* where) {
  if (t <= kMaxSimPs) return t;
  SimTimeOverflow& o = sim_time_overflow();
  if (!o.set) {
    o.set = true;
    o.where = where;
    o.ps = double(t);
  }
  return kMaxSimPs;
}

}  // namespace xpu
