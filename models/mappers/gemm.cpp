// GEMM lowering in the style of the vendor libraries: pick a CTA tile shape (and split-K for skinny problems) by
// estimating each candidate's time in waves over the units; walk output tiles in a grouped (swizzled) order so that
// neighbouring tiles share A and B panels in the cache; each tile streams its panels over the whole K loop.
#include <algorithm>
#include <cmath>

#include "models/kernel.h"
#include "models/mappers/reuse_tracker.h"

namespace xpu {
namespace {

struct TileShape { int64_t m, n; };

// Candidate CTA tiles (rows x cols of C) as used by Hopper-class GEMM libraries; K step fixed per dtype.
const TileShape kShapes[] = {{128, 256}, {256, 128}, {128, 128}, {128, 64}, {64, 128}, {64, 64}};
constexpr int64_t kGroupM = 8;  // swizzle: tiles walk N within groups of 8 M-tiles

struct Plan {
  TileShape t{128, 128};
  int64_t split = 1;
  double estimate = 1e300;
};

class GemmKernel : public Kernel {
 public:
  GemmKernel(const Op& op, const MatmulShape& s, const Plan& p, const MapContext& ctx)
      : s_(s), p_(p), tm_(ceil_div(s.m, p.t.m)), tn_(ceil_div(s.n, p.t.n)),
        a_panels_(s.batch * tm_), b_panels_((s.b_shared ? 1 : s.batch) * tn_),
        tracker_(size_t((a_panels_ + b_panels_) * p.split), ctx.cache ? ctx.unit.cache_capacity : 0) {
    in_bytes_ = dtype_bytes(op.dtype);
    out_bytes_ = dtype_bytes(op.out_dtype);
    k_per_split_ = ceil_div(s.k, p.split);
    if (ctx.cache && op.reads.size() >= 2) {
      res_a_ = ctx.cache->resident_fraction(op.reads[0].name, op.reads[0].bytes);
      res_b_ = ctx.cache->resident_fraction(op.reads[1].name, op.reads[1].bytes);
    }
    dtype = op.dtype;
    num_tiles = uint64_t(s.batch * tm_ * tn_ * p.split);
    tiles_per_unit = p.t.m * p.t.n >= 128 * 256 ? 1 : 2;
    if (p.split > 1) {
      // Partial sums (fp32) are reduced by a second pass over split x M x N.
      double bytes = double(p.split + 1) * s.batch * s.m * s.n * 4;
      fixed_s = bytes / std::max(1.0, ctx.unit.mem_bw) + ctx.unit.mem_latency_s;
    }
    // Bulk tensor copies need 16-byte aligned rows in A (K), B (N) and C (N); without them the library runs
    // kernels that load elements one by one.
    bool aligned = std::fmod(s.k * in_bytes_, 16) == 0 && std::fmod(s.n * in_bytes_, 16) == 0 &&
                   std::fmod(s.n * out_bytes_, 16) == 0;
    if (!aligned) rate_scale = ctx.unit.unaligned_efficiency;
    mapping = std::string(aligned ? "" : "unaligned, ") + "tile " + std::to_string(p.t.m) + "x" + std::to_string(p.t.n) + ", split-k " +
              std::to_string(p.split) + ", " + std::to_string(num_tiles) + " tiles";
  }

  void tile(uint64_t index, TileWork& w) override {
    // index -> (split, batch, tile row, tile col) with grouped ordering inside each batch.
    int64_t per_batch = tm_ * tn_;
    int64_t split = int64_t(index) % p_.split;
    int64_t rest = int64_t(index) / p_.split;
    int64_t b = rest / per_batch;
    int64_t t = rest % per_batch;
    int64_t group = t / (kGroupM * tn_);
    int64_t first_m = group * kGroupM;
    int64_t gm = std::min(kGroupM, tm_ - first_m);
    int64_t i = first_m + (t % (kGroupM * tn_)) % gm;
    int64_t j = (t % (kGroupM * tn_)) / gm;
    int64_t rows = std::min(p_.t.m, s_.m - i * p_.t.m);
    int64_t cols = std::min(p_.t.n, s_.n - j * p_.t.n);
    int64_t kk = std::min(k_per_split_, s_.k - split * k_per_split_);
    // The matrix unit computes whole tiles: padding in a ragged edge costs time but is not useful work.
    w.matrix_flops = 2.0 * p_.t.m * p_.t.n * kk;
    double a = double(rows) * kk * in_bytes_;
    double bb = double(cols) * kk * in_bytes_;
    // Each split-K slice of a panel is different data, so it is its own panel for reuse.
    size_t a_panel = size_t(split * a_panels_ + b * tm_ + i);
    size_t b_panel = size_t(p_.split * a_panels_ + split * b_panels_ + (s_.b_shared ? 0 : b) * tn_ + j);
    w.miss_bytes = tracker_.access(a_panel, a, res_a_) + tracker_.access(b_panel, bb, res_b_);
    w.read_bytes = a + bb;
    w.write_bytes = double(rows) * cols * (p_.split > 1 ? 4 : out_bytes_);
  }

 private:
  MatmulShape s_;
  Plan p_;
  int64_t tm_, tn_, k_per_split_ = 0;
  int64_t a_panels_, b_panels_;
  ReuseTracker tracker_;
  double in_bytes_ = 2, out_bytes_ = 2, res_a_ = 0, res_b_ = 0;
};

// Rough per-tile time used only to rank tilings: arithmetic of the padded tile against its operand traffic at the
// unit's share of cache bandwidth, in waves.
Plan choose_plan(const MatmulShape& s, DType dt, const UnitInfo& u) {
  Plan best;
  double rate = std::max(1.0, u.matmul_rate(dt));
  double bytes = dtype_bytes(dt);
  double unit_bw = std::max(1.0, std::min(u.load_bw_per_unit, u.cache_bw > 0 ? u.cache_bw / u.units : 1e30));
  for (const auto& t : kShapes) {
    // Double-buffered A and B stages of 64-deep K must fit the unit's local memory.
    if ((t.m + t.n) * 64 * bytes * 2 > u.local_memory && u.local_memory > 0) continue;
    int64_t tiles = s.batch * ceil_div(s.m, t.m) * ceil_div(s.n, t.n);
    int64_t max_split = 1;
    if (tiles < int64_t(u.units) && s.k >= 1024) max_split = std::min<int64_t>(16, s.k / 256);
    for (int64_t split = 1; split <= max_split; split *= 2) {
      int64_t total = tiles * split;
      int64_t k = ceil_div(s.k, split);
      double compute = 2.0 * t.m * t.n * k / rate;
      double traffic = (t.m + t.n) * k * bytes / unit_bw;
      double waves = std::ceil(double(total) / u.units);
      double est = waves * std::max(compute, traffic);
      // Whole-problem memory floor: operands once plus the partial-sum round trip of split-K.
      double floor_bytes = (double(s.batch) * s.m * s.k + (s.b_shared ? 1.0 : s.batch) * s.k * s.n) * bytes +
                           double(s.batch) * s.m * s.n * (split > 1 ? 8.0 * split : bytes);
      est = std::max(est, floor_bytes / std::max(1.0, u.mem_bw));
      if (est < best.estimate * 0.98) best = Plan{t, split, est};
    }
  }
  return best;
}

std::unique_ptr<Kernel> map_matmul(const Op& op, const MapContext& ctx) {
  const auto& s = std::get<MatmulShape>(op.shape);
  Plan p = choose_plan(s, op.dtype, ctx.unit);
  return std::make_unique<GemmKernel>(op, s, p, ctx);
}

}  // namespace

XPU_REGISTER_MAPPER(OpKind::matmul, "gemm-tiled", map_matmul);

}  // namespace xpu
