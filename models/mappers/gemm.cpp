// GEMM lowering in the style of the vendor libraries. The planner picks a CTA tile shape (those that fit the unit's
// local memory double-buffered) and a schedule by estimating each candidate's time:
//  - data parallel: whole output tiles in waves over the units (with split-K when the tiles cannot fill them), walked
//    in a grouped (swizzled) order so neighbouring tiles share A and B panels in the cache; a ragged last wave
//    costs a whole tile time (wave quantization);
//  - stream-K: the K iterations of all tiles divided evenly over the units, each unit fixing up the one partial tile
//    it shares with its neighbour through fp32 partial sums (what Hopper GEMM libraries do for partial waves).
// Each tile streams its operand panels over its K loop; the reuse tracker decides which panel bytes are still in
// the cache.
// On a weight-stationary systolic matrix unit (`systolic_array: [rows, cols]`, a TPU MXU) the tiles are multiples of
// the array, K pads to `rows` and N to `cols` (the stationary block is always whole), and a block costs at least
// `rows` cycles however few LHS rows stream through it (loading the next block's weights takes that long).
#include <algorithm>
#include <cmath>
#include <iterator>
#include <vector>

#include "models/mappers/mapper.h"
#include "models/mappers/reuse_tracker.h"

namespace xpu {
namespace {

struct TileShape { int64_t m, n; };

// Candidate CTA tiles (rows x cols of C) as used by Hopper-class GEMM libraries.
const TileShape kShapes[] = {{128, 256}, {256, 128}, {128, 128}, {128, 64}, {64, 128}, {64, 64}};
constexpr int64_t kGroupM = 8;  // swizzle: tiles walk N within groups of 8 M-tiles
constexpr int64_t kStepK = 64;  // K depth of one pipeline stage (one stream-K iteration)
constexpr int64_t kChunkIters = 1;  // stream-K reuse is tracked per K iteration of each panel (units split tiles there)

int64_t round_up(int64_t v, int64_t q) { return q > 0 ? ceil_div(v, q) * q : v; }

// Matrix work a weight-stationary rows x cols systolic array spends on `m` streamed rows against a `k` x `n` block
// of the stationary operand: K and N pad to the array, and each stationary block lasts at least `rows` cycles.
double systolic_flops(int64_t rows, int64_t cols, int64_t m, int64_t n, int64_t k) {
  return 2.0 * double(std::max(m, rows)) * double(round_up(n, cols)) * double(round_up(k, rows));
}
double systolic_flops(const UnitInfo& u, int64_t m, int64_t n, int64_t k) {
  return systolic_flops(u.systolic_rows, u.systolic_cols, m, n, k);
}

// K depth of each split-K slice; on a systolic array a slice is a whole number of array passes.
int64_t split_depth(int64_t k, int64_t split, const UnitInfo& u) {
  int64_t d = ceil_div(k, split);
  return u.systolic_rows > 0 ? round_up(d, u.systolic_rows) : d;
}

// The second kernel that adds split-K's fp32 partial sums (cuBLAS's splitKreduce): it streams them from the cache
// when they fit, else from memory, and pays a kernel's start-up like any other.
double split_reduce_s(double partial_bytes, bool in_cache, const UnitInfo& u) {
  return (in_cache ? partial_bytes / std::max(1.0, u.cache_bw) + u.cache_latency_s
                   : partial_bytes / std::max(1.0, u.mem_bw) + u.mem_latency_s) +
         u.kernel_overhead_s;
}

// Candidate tiles: the Hopper library set, or multiples of a systolic array (largest first).
std::vector<TileShape> tile_shapes(const UnitInfo& u) {
  if (u.systolic_rows <= 0) return std::vector<TileShape>(std::begin(kShapes), std::end(kShapes));
  std::vector<TileShape> v;
  for (int64_t a : {4, 2, 1})
    for (int64_t b : {4, 2, 1}) v.push_back({a * u.systolic_rows, b * u.systolic_cols});
  std::stable_sort(v.begin(), v.end(), [](const TileShape& x, const TileShape& y) { return x.m * x.n > y.m * y.n; });
  return v;
}

// Hopper's tensor cores read their operands from shared memory: each 64-row warpgroup of a tile reads its A rows and
// the whole B slice for every K step, while the bulk copies write both panels in. Per K step a tm x tn tile moves
// (tm/64 x tn + tm) reads + (tm + tn) writes; at 128 B/clk (32 banks x 4 B) 128 x 256 tiles are fed just at the
// matrix rate, 128 x 64 and 64-row tiles are not. The factor by which feeding outlasts the multiplies (>= 1), those
// running at `rate_scale` of the matrix rate (kernels without bulk copies multiply slower than any feed).
constexpr int64_t kWarpgroupRows = 64;
double operand_feed_factor(int64_t tm, int64_t tn, double bytes, const UnitInfo& u, DType dt, double rate_scale = 1) {
  if (u.operand_feed_bw <= 0 || u.systolic_rows > 0 || u.matrix_rate(dt) <= 0) return 1;
  const double groups = double(std::max<int64_t>(1, tm / kWarpgroupRows));
  const double feed_s = (groups * double(tn) + 2.0 * double(tm) + double(tn)) * bytes / u.operand_feed_bw;
  const double multiply_s = 2.0 * double(tm) * double(tn) / (u.matrix_rate(dt) * rate_scale);
  return std::max(1.0, feed_s / multiply_s);
}

// Hopper GEMMs launch thread-block clusters of tiles in neighbouring rows (cuBLAS and CUTLASS: 2 x 1): one TMA
// multicast brings their common B panel out of the cache for all of them. Each unit still receives the whole panel;
// the cache serves (cluster - 1) / cluster of it once for another. Only with enough tile rows to pair.
double multicast_share(int64_t tile_rows, const UnitInfo& u) {
  const int64_t c = std::max<int64_t>(1, u.cluster_units);
  return c > 1 && tile_rows >= c ? double(c - 1) / double(c) : 0.0;
}

// Bulk tensor copies need 16-byte aligned rows in A (K), B (N) and C (N); without them the library runs kernels that
// load elements in narrower vectors (a lower matrix rate, no multicast). A matrix-vector product (M or N of 1) runs a
// gemv kernel, which has no such needs.
bool bulk_copies_aligned(const MatmulShape& s, double in_bytes, double out_bytes) {
  if (s.m == 1 || s.n == 1) return true;
  return std::fmod(s.k * in_bytes, 16) == 0 && std::fmod(s.n * in_bytes, 16) == 0 &&
         std::fmod(s.n * out_bytes, 16) == 0;
}

struct Plan {
  TileShape t{128, 128};
  int64_t split = 1;
  bool stream_k = false;
  double estimate = 1e300;
};

// Weight-only quantization: the kernel converts each loaded weight to the compute dtype and scales it, once per output
// tile that loads the weight. int8 converts with an int-to-float instruction, which issues at the conversion rate (16
// per clock per SM on Ampere and Hopper, CUDA's arithmetic-throughput table: the special-function rate), then
// multiplies on the vector units. int4 kernels (tinygemm) avoid the conversion: they OR the nibble into a float's
// mantissa and subtract the bias, all on the vector units (unpack, OR, subtract the zero point, multiply).
constexpr double kDequantOpsInt8 = 1, kDequantOpsInt4 = 4;
constexpr double kDequantConvertsInt8 = 1, kDequantConvertsInt4 = 0;
constexpr int64_t kMmaRows = 16;  // rows of one tensor-core MMA (m16n8k16)

struct Problem {
  MatmulShape s;
  double in_bytes = 2, out_bytes = 2;
  double b_bytes = 2;      // per B element: in_bytes, or a quantized weight with its share of the group's scales
  double dequant_ops = 0;       // vector ops per B element loaded
  double dequant_converts = 0;  // int-to-float conversions per B element (at the special-function rate)
  double epilogue_bytes = 0, epilogue_flops = 0;  // per output element: a fused epilogue's extra inputs and arithmetic
  int64_t tm = 1, tn = 1;  // output tiles along M and N
  TileShape t{128, 128};
  int64_t tiles() const { return s.batch * tm * tn; }
  int64_t rows(int64_t i) const { return std::min(t.m, s.m - i * t.m); }
  int64_t cols(int64_t j) const { return std::min(t.n, s.n - j * t.n); }
  // Tile t of a batch in grouped (swizzled) order: walk N within groups of kGroupM tile rows, so consecutive tiles
  // share B columns and recently used A rows.
  std::pair<int64_t, int64_t> coords(int64_t t) const {
    int64_t first_m = t / (kGroupM * tn) * kGroupM;
    int64_t gm = std::min(kGroupM, tm - first_m);
    int64_t in_group = t % (kGroupM * tn);
    return {first_m + in_group % gm, in_group / gm};
  }
  // Operand bytes of a tile's first pipeline stage (K depth kStepK, or less).
  double stage_bytes(int64_t rows, int64_t cols, int64_t kk) const {
    return double(std::min(kk, kStepK)) * (rows * in_bytes + cols * b_bytes);
  }
  // Operand bytes if each is read once.
  double unique_bytes() const {
    return (double(s.batch) * s.m * s.k + (s.b_shared ? 1.0 : s.batch) * s.k * s.n) * in_bytes;
  }
};

class GemmKernel : public Kernel {
 public:
  GemmKernel(const Op& op, const Plan& p, const MapContext& ctx)
      : p_(p), sys_rows_(ctx.unit.systolic_rows), sys_cols_(ctx.unit.systolic_cols) {
    pb_.s = std::get<MatmulShape>(op.shape);
    pb_.in_bytes = dtype_bytes(op.dtype);
    pb_.out_bytes = dtype_bytes(op.out_dtype);
    pb_.b_bytes = pb_.in_bytes;
    const double outputs = double(pb_.s.batch) * pb_.s.m * pb_.s.n;
    if (outputs > 0) {
      pb_.epilogue_bytes = op.epilogue_read_bytes / outputs;
      pb_.epilogue_flops = op.epilogue_flops / outputs;
    }
    if (op.weight_bits > 0) {
      // A 2-byte scale per group of weights along K (int4 also a 2-byte zero point); group 0: one per output column.
      const double group = op.weight_group > 0 ? double(op.weight_group) : double(pb_.s.k);
      pb_.b_bytes = op.weight_bits / 8.0 + (op.weight_bits <= 4 ? 4.0 : 2.0) / group;
      pb_.dequant_ops = op.weight_bits <= 4 ? kDequantOpsInt4 : kDequantOpsInt8;
      pb_.dequant_converts = op.weight_bits <= 4 ? kDequantConvertsInt4 : kDequantConvertsInt8;
    }
    pb_.t = p.t;
    pb_.tm = ceil_div(pb_.s.m, p.t.m);
    pb_.tn = ceil_div(pb_.s.n, p.t.n);
    a_panels_ = pb_.s.batch * pb_.tm;
    b_panels_ = (pb_.s.b_shared ? 1 : pb_.s.batch) * pb_.tn;
    k_per_split_ = split_depth(pb_.s.k, p.split, ctx.unit);
    systolic_ = ctx.unit.systolic_rows > 0;
    if (systolic_) k_pad_ = double(round_up(pb_.s.k, ctx.unit.systolic_rows)) / double(pb_.s.k);
    cache_capacity_ = ctx.cache ? ctx.unit.cache_capacity : 0;
    k_chunks_ = p.stream_k ? ceil_div(ceil_div(pb_.s.k, kStepK), kChunkIters) : 1;
    tracker_ = std::make_unique<ReuseTracker>(size_t((a_panels_ + b_panels_) * std::max(p.split, k_chunks_)),
                                              cache_capacity_);
    if (ctx.cache && op.reads.size() >= 2) {
      res_a_ = ctx.cache->resident_fraction(op.reads[0].name, op.reads[0].bytes);
      res_b_ = ctx.cache->resident_fraction(op.reads[1].name, op.reads[1].bytes);
    }
    dtype = op.dtype;
    const MatmulShape& s = pb_.s;
    if (p.stream_k) {
      iters_per_tile_ = ceil_div(s.k, kStepK);
      total_iters_ = pb_.tiles() * iters_per_tile_;
      num_tiles = uint64_t(std::min<int64_t>(ctx.unit.units, total_iters_));
      tiles_per_unit = 1;
      // Fix-ups wait for the neighbour's partial sums: one cache round trip after the last worker.
      fixed_s = ctx.unit.cache_latency_s;
    } else {
      num_tiles = uint64_t(pb_.tiles() * p.split);
      tiles_per_unit = p.t.m * p.t.n >= 128 * 256 ? 1 : 2;
      wave_slots_ = std::max<int64_t>(1, int64_t(ctx.unit.units) * tiles_per_unit);
      if (p.split > 1) {
        // Partial sums (fp32) over split x M x N, added by a second kernel.
        double bytes = double(p.split + 1) * s.batch * s.m * s.n * 4;
        partials_in_cache_ = bytes <= cache_capacity_;
        fixed_s = split_reduce_s(bytes, partials_in_cache_, ctx.unit);
      }
    }
    // Rows that are not even 4-byte aligned force element-by-element loads, whose kernels also cost extra set-up.
    const bool gemv = s.m == 1 || s.n == 1;
    const bool aligned = bulk_copies_aligned(s, pb_.in_bytes, pb_.out_bytes);
    if (!aligned) rate_scale = ctx.unit.unaligned_efficiency;
    // The fallback kernels (Ampere-style, no bulk copies) neither multicast nor feed warpgroup MMAs from bulk-copied
    // shared memory: their element loads at `unaligned_efficiency` are the limit.
    multicast_ = aligned && !systolic_ ? multicast_share(pb_.tm, ctx.unit) : 0.0;
    feed_factor_ = operand_feed_factor(p.t.m, p.t.n, pb_.in_bytes, ctx.unit, op.dtype, rate_scale);
    work_matrix_stall = feed_factor_;
    if (!gemv && std::fmod(s.k * pb_.in_bytes, 4) != 0) start_delay_s += ctx.unit.unaligned_overhead_s;
    mapping = std::string(aligned ? "" : "unaligned, ") + "tile " + std::to_string(p.t.m) + "x" +
              std::to_string(p.t.n) + (p.stream_k ? ", stream-k" : ", split-k " + std::to_string(p.split)) + ", " +
              std::to_string(num_tiles) + " tiles";
    if (systolic_)
      mapping += ", systolic " + std::to_string(ctx.unit.systolic_rows) + "x" + std::to_string(ctx.unit.systolic_cols);
  }

  void tile(uint64_t index, TileWork& w) override {
    if (p_.stream_k) stream_k_tile(int64_t(index), w);
    else data_parallel_tile(int64_t(index), w);
  }

 private:
  void data_parallel_tile(int64_t index, TileWork& w) {
    // index -> (split, batch, tile row, tile col) with grouped ordering inside each batch.
    const MatmulShape& s = pb_.s;
    int64_t per_batch = pb_.tm * pb_.tn;
    int64_t split = index % p_.split;
    int64_t rest = index / p_.split;
    int64_t b = rest / per_batch;
    auto [i, j] = pb_.coords(rest % per_batch);
    int64_t rows = pb_.rows(i), cols = pb_.cols(j);
    int64_t kk = std::min(k_per_split_, s.k - split * k_per_split_);
    // The matrix unit computes whole tiles: padding in a ragged edge costs time but is not useful work. A systolic
    // array pads the tile's columns and K to whole array blocks, and its rows to at least the array's depth.
    w.matrix_flops = systolic_ ? systolic_flops(sys_rows_, sys_cols_, rows, cols, kk) : 2.0 * p_.t.m * p_.t.n * kk;
    // Weight-only kernels are GEMV-shaped (tinygemm, Inductor's dequantizing matmuls): they pad the few rows of A to
    // one MMA block of kMmaRows, not to a whole tile.
    if (pb_.dequant_ops > 0 && !systolic_) w.matrix_flops = 2.0 * double(round_up(rows, kMmaRows)) * p_.t.n * kk;
    w.matrix_stall = feed_factor_;
    w.useful_matrix_flops = 2.0 * rows * cols * kk;
    double a = double(rows) * kk * pb_.in_bytes;
    double bb = double(cols) * kk * pb_.b_bytes;
    w.vector_flops += double(cols) * kk * pb_.dequant_ops;
    w.special_ops += double(cols) * kk * pb_.dequant_converts;
    // Each split-K slice of a panel is different data, so it is its own panel for reuse.
    size_t a_panel = size_t(split * a_panels_ + b * pb_.tm + i);
    size_t b_panel = size_t(p_.split * a_panels_ + split * b_panels_ + (s.b_shared ? 0 : b) * pb_.tn + j);
    const int64_t wave = index / wave_slots_;
    w.miss_bytes = tracker_->access_in_wave(a_panel, a, res_a_, wave) + tracker_->access_in_wave(b_panel, bb, res_b_, wave);
    w.read_bytes = a + bb;
    w.multicast_bytes = multicast_ * bb;
    w.fill_bytes = pb_.stage_bytes(rows, cols, kk);
    w.drain_bytes = double(rows) * cols * (p_.split > 1 ? 4 : pb_.out_bytes);
    if (p_.split > 1 && partials_in_cache_) w.scratch_bytes = double(rows) * cols * 4;
    else w.write_bytes = double(rows) * cols * (p_.split > 1 ? 4 : pb_.out_bytes);
    // A fused epilogue streams its extra inputs once per output (split-K slices share it) and computes on them.
    const double share = double(rows) * cols / double(p_.split);
    w.read_bytes += share * pb_.epilogue_bytes;
    w.miss_bytes += share * pb_.epilogue_bytes;
    w.vector_flops += share * pb_.epilogue_flops;
  }

  void stream_k_tile(int64_t worker, TileWork& w) {
    int64_t workers = int64_t(num_tiles);
    int64_t begin = total_iters_ * worker / workers, end = total_iters_ * (worker + 1) / workers;
    const int64_t per_batch = pb_.tm * pb_.tn;
    for (int64_t it = begin; it < end;) {
      int64_t tile = it / iters_per_tile_;
      int64_t first = it - tile * iters_per_tile_;
      // Walk K in chunks so each operand chunk is a panel of its own for the reuse tracker.
      int64_t chunk = first / kChunkIters;
      int64_t last = std::min({iters_per_tile_, first + (end - it), (chunk + 1) * kChunkIters});
      int64_t b = tile / per_batch;
      auto [i, j] = pb_.coords(tile % per_batch);
      int64_t rows = pb_.rows(i), cols = pb_.cols(j);
      int64_t kk = std::min(pb_.s.k, last * kStepK) - first * kStepK;
      w.matrix_flops += systolic_ ? 2.0 * double(std::max(rows, sys_rows_)) * double(round_up(cols, sys_cols_)) *
                                        kk * k_pad_
                                  : 2.0 * p_.t.m * p_.t.n * kk;
      w.useful_matrix_flops = std::max(w.useful_matrix_flops, 0.0) + 2.0 * rows * cols * kk;
      double a = double(rows) * kk * pb_.in_bytes, bb = double(cols) * kk * pb_.b_bytes;
      w.vector_flops += double(cols) * kk * pb_.dequant_ops;
      w.special_ops += double(cols) * kk * pb_.dequant_converts;
      size_t a_panel = size_t((b * pb_.tm + i) * k_chunks_ + chunk);
      size_t b_panel = size_t((a_panels_ + (pb_.s.b_shared ? 0 : b) * pb_.tn + j) * k_chunks_ + chunk);
      w.miss_bytes += tracker_->access(a_panel, a, res_a_) + tracker_->access(b_panel, bb, res_b_);
      w.read_bytes += a + bb;
      w.multicast_bytes += multicast_ * bb;
      if (it == begin) w.fill_bytes = pb_.stage_bytes(rows, cols, kk);
      w.drain_bytes = double(rows) * cols * (last == iters_per_tile_ ? pb_.out_bytes : 4);
      // A tile split between two units: one writes fp32 partial sums that the other reads back and adds.
      if (it == begin && first != 0) w.scratch_bytes += double(rows) * cols * 4;
      if (last != iters_per_tile_ && last - first == end - it) w.scratch_bytes += double(rows) * cols * 4;
      if (last == iters_per_tile_) {
        w.write_bytes += double(rows) * cols * pb_.out_bytes;
        w.read_bytes += double(rows) * cols * pb_.epilogue_bytes;
        w.miss_bytes += double(rows) * cols * pb_.epilogue_bytes;
        w.vector_flops += double(rows) * cols * pb_.epilogue_flops;
      }
      it += last - first;
    }
    w.matrix_stall = feed_factor_;
  }

  Problem pb_;
  Plan p_;
  double feed_factor_ = 1;  // operand_feed_factor of the chosen tile
  double multicast_ = 0;    // share of each B panel a cluster partner's multicast brings
  int64_t sys_rows_ = 0, sys_cols_ = 0;  // the unit's systolic array (0: none)
  bool systolic_ = false;
  double k_pad_ = 1;  // padded over true K (a systolic array's passes are whole), spread over stream-K iterations
  int64_t a_panels_ = 0, b_panels_ = 0, k_per_split_ = 0, iters_per_tile_ = 1, total_iters_ = 0, k_chunks_ = 1;
  double cache_capacity_ = 0, res_a_ = 0, res_b_ = 0;
  int64_t wave_slots_ = 1;  // tiles that run at once (units x tiles per unit)
  bool partials_in_cache_ = false;
  std::unique_ptr<ReuseTracker> tracker_;
};

// Rough times used only to rank plans: a tile's arithmetic against its operand traffic at the unit's share of
// cache bandwidth; data parallel in whole waves, stream-K evenly spread plus one partial-tile fix-up.
// SIMT kernels (matmuls on the vector units) come in fewer sizes, and the library keeps the largest tile whose grid
// still fills the units (the DLRMv2 trace: 128x128x8 for 2048x3456x512 fp32, 32x32x8 for the small layers) rather
// than shrinking tiles to trim a ragged last wave.
Plan choose_simt_plan(const MatmulShape& s, const UnitInfo& u, Plan fallback) {
  for (const auto& t : {TileShape{128, 128}, TileShape{64, 128}, TileShape{64, 64}}) {
    int64_t tiles = s.batch * ceil_div(s.m, t.m) * ceil_div(s.n, t.n);
    if (tiles >= int64_t(u.units)) return Plan{t, 1, false, 0};
  }
  return fallback;
}

// The planner ranks tiles as the aligned kernels would run them, whatever the operands' alignment: the fallback
// kernels' own tile choices are not modelled (making the ranking alignment-aware put the calibration file's odd shapes
// at 10.5 % against 9.1 %; `unaligned_efficiency` was measured with this planner). Their schedule is: stream-K
// belongs to the libraries' vectorized-load kernels, and the fallback kernels (`aligned` false) are the classic
// data-parallel ones with split-K (the calibration file's odd bf16 shapes: 14.1 -> 13.2 %, the worst 40 -> 33 %).
Plan choose_plan(const MatmulShape& s, DType dt, const UnitInfo& u, const std::string& schedule, bool aligned) {
  Plan best;
  double rate = std::max(1.0, u.matmul_rate(dt));
  double bytes = dtype_bytes(dt);
  double unit_bw = std::max(1.0, std::min(u.load_bw_per_unit, u.cache_bw > 0 ? u.cache_bw / u.units : 1e30));
  double floor_bytes = (double(s.batch) * s.m * s.k + (s.b_shared ? 1.0 : s.batch) * s.k * s.n) * bytes;
  double mem_bw = std::max(1.0, u.mem_bw);
  const bool sys = u.systolic_rows > 0;
  const int64_t step = sys ? std::max(kStepK, u.systolic_rows) : kStepK;
  // Data-parallel kernels on warpgroup MMA units are cooperative: two consumer warpgroups split each tile's rows
  // (CUTLASS's warp-specialized cooperative kernels require tiles of at least 128 rows); the 64-row tiles belong to
  // the persistent ping-pong kernels of the stream-K libraries. Beyond one warpgroup's 64 rows of M the library's
  // cooperative kernels are also at least 128 columns wide (those of the calibration traces: 128-256 x 128-256); a
  // narrower tile is a skinny problem's, whose weight-side tiles are narrow (nvjet 64x16) for more of them to stream.
  const bool cooperative = schedule == "data_parallel" && aligned && u.operand_feed_bw > 0 && !sys;
  for (const auto& t : tile_shapes(u)) {
    if ((t.m + t.n) * step * bytes * 2 > u.local_memory && u.local_memory > 0) continue;
    if (cooperative && t.m < 2 * kWarpgroupRows) continue;
    if (cooperative && s.m > kWarpgroupRows && t.n < 2 * kWarpgroupRows) continue;
    int64_t tiles = s.batch * ceil_div(s.m, t.m) * ceil_div(s.n, t.n);
    const double feed = operand_feed_factor(t.m, t.n, bytes, u, dt);
    // Operand bytes per K element of a tile: what its unit's port receives, and what the cache serves for it (a
    // cluster partner's multicast brings part of B).
    const double port_bw = u.load_bw_per_unit > 0 ? u.load_bw_per_unit : 1e30;
    const double to_port = (t.m + t.n) * bytes;
    const double from_cache = (t.m + t.n * (1 - (sys ? 0.0 : multicast_share(ceil_div(s.m, t.m), u)))) * bytes;
    auto load_s = [&](double k, double sharing) {
      return std::max(to_port * k / port_bw, u.cache_bw > 0 ? from_cache * k / (u.cache_bw / sharing) : 0.0);
    };
    if (schedule != "stream_k") {
      int64_t max_split = 1;
      if (tiles < int64_t(u.units) && s.k >= 1024) max_split = std::min<int64_t>(16, s.k / 256);
      for (int64_t split = 1; split <= max_split; split *= 2) {
        int64_t k = split_depth(s.k, split, u);
        if (sys && ceil_div(s.k, k) != split) continue;  // whole array passes leave fewer slices
        double compute = sys ? systolic_flops(u, std::min(t.m, s.m), std::min(t.n, s.n), k) / rate
                             : 2.0 * t.m * t.n * k / rate * feed;
        // Full waves share the cache bandwidth among all units; a ragged last wave among fewer, each up to its
        // own load port, so its tiles may run faster than the full waves' did.
        const int64_t jobs = tiles * split, full = jobs / int64_t(u.units), last = jobs % int64_t(u.units);
        double est = double(full) * std::max(compute, load_s(double(k), double(u.units)));
        if (last > 0) est += std::max(compute, load_s(double(k), double(last)));
        double out = double(s.batch) * s.m * s.n * (split > 1 ? 8.0 * split : bytes);
        est = std::max(est, (floor_bytes + out) / mem_bw);
        if (split > 1) {
          const double partials = double(split + 1) * s.batch * s.m * s.n * 4;
          est += split_reduce_s(partials, partials <= u.cache_capacity, u);
        }
        if (est < best.estimate * 0.98) best = Plan{t, split, false, est};
      }
    }
    // Stream-K belongs to the matrix-unit kernels with vectorized loads; matmuls on the vector units (fp32 without
    // tf32) and the fallback kernels run the classic data-parallel ones with split-K.
    if (schedule == "stream_k" || (schedule == "auto" && aligned && u.matrix_rate(dt) > 0)) {
      double work = sys ? tiles * systolic_flops(u, std::min(t.m, s.m), std::min(t.n, s.n), s.k) / rate / u.units
                        : 2.0 * tiles * t.m * t.n * s.k / rate / u.units * feed;
      double traffic = double(tiles) * load_s(double(s.k), double(u.units)) / u.units;
      double fixup = 2.0 * t.m * t.n * 4 / unit_bw + u.cache_latency_s;
      double est = std::max(std::max(work, traffic) + fixup, (floor_bytes + double(s.batch) * s.m * s.n * bytes) / mem_bw);
      // Prefer whole tiles when they are as good: fix-ups cost synchronisation the estimate does not see.
      if (est < best.estimate * 0.93) best = Plan{t, 1, true, est};
    }
  }
  return best;
}

std::unique_ptr<Kernel> map_matmul(const Op& op, const MapContext& ctx) {
  const auto& s = std::get<MatmulShape>(op.shape);
  // Even the largest tiles would exceed what one op may simulate: refuse before sizing per-panel state.
  const double min_tiles = double(s.batch) * std::ceil(double(s.m) / 256) * std::ceil(double(s.n) / 256);
  if (min_tiles > double(kMaxTilesPerOp))
    throw InputError(op.mark, "op '" + op.name + "' (" + std::to_string(s.m) + " x " + std::to_string(s.n) + " x " +
                                  std::to_string(s.k) + ", batch " + std::to_string(s.batch) +
                                  ") needs more than 1e8 output tiles; xpusim simulates at most 1e8 tiles per op: split "
                                  "the op or shrink its shape");
  const std::string& schedule = op.gemm_schedule.empty() ? ctx.unit.gemm_schedule : op.gemm_schedule;
  Plan p = choose_plan(s, op.dtype, ctx.unit, schedule,
                       bulk_copies_aligned(s, dtype_bytes(op.dtype), dtype_bytes(op.out_dtype)));
  if (ctx.unit.matrix_rate(op.dtype) <= 0 && schedule == "auto") p = choose_simt_plan(s, ctx.unit, p);
  auto k = std::make_unique<GemmKernel>(op, p, ctx);
  // Every output tile reads its A and B panels over K through the cache: what the power governor counts as traffic.
  const double bytes = dtype_bytes(op.dtype);
  k->work_cache_bytes = double(s.batch) * ceil_div(s.m, p.t.m) * ceil_div(s.n, p.t.n) * (p.t.m + p.t.n) * s.k * bytes +
                        double(s.batch) * s.m * s.n * bytes;
  return k;
}

}  // namespace

XPU_REGISTER_MAPPER(OpKind::matmul, "gemm-tiled", map_matmul);

}  // namespace xpu
