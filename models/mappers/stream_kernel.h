#pragma once
// Bandwidth-shaped kernels (elementwise, norms, softmax, copies, gathers): the work is split evenly over tiles.
// A small op keeps one tile per natural thread block, so it cannot use every unit (latency and per-unit port bound);
// a large op is cut into a whole number of waves, as a fine-grained grid would fill the units without a ragged tail.
#include <algorithm>

#include "models/mappers/mapper.h"

namespace xpu {

struct StreamWork {
  double read_bytes = 0;   // total bytes read
  double miss_bytes = 0;   // part of them that come from main memory
  double write_bytes = 0;
  double vector_flops = 0;
  double matrix_flops = 0;
  double natural_tiles = 1;  // thread blocks the framework's kernel would launch
  unsigned tiles_per_unit = 2;
  Access access = Access::stream;
};

class StreamKernel : public Kernel {
 public:
  StreamKernel(const StreamWork& w, DType dt, const UnitInfo& u, const std::string& how) : w_(w) {
    dtype = dt;
    tiles_per_unit = w.tiles_per_unit;
    double slots = double(u.units) * tiles_per_unit;
    double n = std::max(1.0, std::ceil(w.natural_tiles));
    if (n > slots) n = slots * std::min(8.0, std::ceil(n / slots));
    num_tiles = uint64_t(n);
    mapping = how + ", " + std::to_string(num_tiles) + " tiles";
  }
  void tile(uint64_t, TileWork& t) override {
    double n = double(num_tiles);
    t.read_bytes = w_.read_bytes / n;
    t.miss_bytes = w_.miss_bytes / n;
    t.write_bytes = w_.write_bytes / n;
    t.vector_flops = w_.vector_flops / n;
    t.matrix_flops = w_.matrix_flops / n;
    t.access = w_.access;
  }

 private:
  StreamWork w_;
};

inline double input_bytes(const Op& op) {
  double b = 0;
  for (const auto& r : op.reads) b += r.bytes;
  return b;
}
inline double output_bytes(const Op& op) {
  double b = 0;
  for (const auto& w : op.writes) b += w.bytes;
  return b;
}

}  // namespace xpu
