#pragma once
// Inside one kernel, operand panels (a GEMM's A rows and B columns, an attention head's K/V) are read by many tiles.
// A panel is an L2 hit if it was touched recently enough to still be resident: we approximate LRU stack distance by
// the bytes brought into the cache since the panel's last touch. O(1) per access, no per-line state.
#include <cstdint>
#include <vector>

namespace xpu {

class ReuseTracker {
 public:
  ReuseTracker(size_t panels, double capacity) : last_(panels, -1.0), wave_(panels, -1), capacity_(capacity) {}
  // An access by a tile of wave `wave` (tiles that run at once). Tiles of one wave walk K in step, so a panel that a
  // tile of the same wave already reads is on chip slab by slab while they use it, however large the whole panel:
  // only its first reader in the wave fetches it. Across waves the whole panel must have stayed resident.
  double access_in_wave(size_t panel, double bytes, double resident, int64_t wave) {
    if (wave_[panel] == wave) {
      last_[panel] = clock_;
      return 0;
    }
    wave_[panel] = wave;
    return access(panel, bytes, resident);
  }
  // Returns the bytes of this access that miss. `resident` is the fraction of the panel already on chip when the
  // kernel started (left there by an earlier kernel).
  double access(size_t panel, double bytes, double resident) {
    double& last = last_[panel];
    if (last >= 0 && clock_ - last + bytes <= capacity_) {
      last = clock_;
      return 0;
    }
    double miss = last < 0 ? bytes * (1 - resident) : bytes;
    clock_ += bytes;
    last = clock_;
    return miss;
  }

 private:
  std::vector<double> last_;
  std::vector<int64_t> wave_;
  double capacity_;
  double clock_ = 0;
};

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace xpu
