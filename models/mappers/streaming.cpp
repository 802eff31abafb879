// Elementwise ops, norms, softmax, concat and feature interaction: bandwidth-shaped kernels.
#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "models/mappers/stream_kernel.h"

namespace xpu {
namespace {

// Framework elementwise kernels move about 16 KiB per thread block (128 threads x 128 B vectors).
constexpr double kBlockBytes = 16384;

// Bytes of the op's inputs that come from main memory. The cache may hold part of an input at launch (the part most
// recently written or read), but the kernel itself then streams its other inputs' misses and its outputs through
// the cache, and each line it brings in displaces the least recently used one: first the older data, then the
// resident inputs it has not reached yet. Inputs are streamed front to back together, so the resident tail of an
// input is still there when reached only while the kernel has brought in no more than the older data that was in
// front of it (the cache taken as full): a 28 MB producer output read next to a cold 28 MB operand while writing
// 28 MB more mostly misses, a 16 MB one beside the same traffic on 16 MB tensors mostly hits.
struct Streamed {
  double miss = 0;  // input bytes from main memory
  double hit = 0;   // input bytes served by the cache
};

Streamed streamed_inputs(const Op& op, const MapContext& ctx) {
  Streamed st;
  if (!ctx.cache) {
    st.miss = input_bytes(op);
    return st;
  }
  std::vector<std::pair<double, double>> in;  // size, resident bytes at launch
  double resident = 0, brought_in = output_bytes(op);
  for (const auto& r : op.reads) {
    double res = r.bytes * ctx.cache->resident_fraction(r.name, r.bytes);
    bool repeat = false;  // the same tensor read twice (x * x) is one stream
    for (const auto& q : op.reads) {
      if (&q == &r) break;
      repeat |= !r.name.empty() && q.name == r.name;
    }
    if (!repeat) resident += res;
    brought_in += r.bytes - res;
    in.push_back({r.bytes, res});
  }
  double older = std::max(0.0, ctx.unit.cache_capacity - resident);
  double reach = brought_in > 0 ? std::min(1.0, older / brought_in) : 1;  // share of the kernel before it evicts inputs
  for (const auto& [bytes, res] : in) {
    double hit = bytes > 0 ? bytes * std::max(0.0, reach - (1 - res / bytes)) : 0;
    st.hit += hit;
    st.miss += bytes - hit;
  }
  return st;
}

StreamWork basic(const Op& op, const MapContext& ctx) {
  StreamWork w;
  w.read_bytes = input_bytes(op);
  w.miss_bytes = streamed_inputs(op, ctx).miss;
  w.write_bytes = output_bytes(op);
  return w;
}

// Non-contiguous operands (a variant ending in "_strided", e.g. the halves of a fused gate/up output) send the
// framework to its non-vectorized kernel (elementwise_kernel<128, 4>): one element per load and per store, issue-bound
// at about 1.25 elements per clock per unit (H100 Kineto traces: silu and mul on 22.5M elements 68-72.5 us, 1.20-1.25
// per clock; on 25.2M elements 74-77 us, 1.25-1.30 per clock).
constexpr double kScalarElemsPerClk = 1.25;

double issue_flops(double elements, double per_clk, DType dt, const MapContext& ctx);

std::unique_ptr<Kernel> map_elementwise(const Op& op, const MapContext& ctx) {
  const auto& s = std::get<ElementwiseShape>(op.shape);
  StreamWork w = basic(op, ctx);
  w.vector_flops = s.flops_per_element * s.elements;
  w.natural_tiles = (w.read_bytes + w.write_bytes) / kBlockBytes;
  const std::string suffix = "_strided";
  bool strided = op.variant.size() > suffix.size() &&
                 op.variant.compare(op.variant.size() - suffix.size(), suffix.size(), suffix) == 0;
  if (strided) w.vector_flops = std::max(w.vector_flops, issue_flops(double(s.elements), kScalarElemsPerClk, op.dtype, ctx));
  return std::make_unique<StreamKernel>(w, op.dtype, ctx.unit, strided ? "elementwise, non-vectorized" : "elementwise");
}

// Row kernels as the framework (PyTorch) launches them: one thread block per row, or a few rows when rows are short.
// Norms make a statistics pass and then a normalize pass over their input; block softmax makes a max pass, a sum-of-
// exponentials pass and a write pass. The calibration rows show the repeated passes costing memory traffic on tensors
// larger than the cache (norms run at ~1.5x the copy time there): the share of a repeated pass that misses is the share
// of the input the cache cannot hold. Softmax picks one of three kernels by row length:
//  - rows of at most kWarpSoftmaxMaxCols elements and kWarpSoftmaxMaxRowBytes: one warp per row holds it in
//    registers (one pass);
//  - rows under kSoftmaxSmemRowBytes: one 1024-thread block per row stages it in shared memory and reads memory once,
//    but each thread carries a single vector through three barrier-separated phases of precise exp and division, so
//    the kernel is issue-bound at kSmemSoftmaxElemsPerClk elements per clock per unit;
//  - longer rows: three passes through the cache (the row just read is still there), each thread looping over
//    several vectors, issue-bound at kBlockSoftmaxElemsPerClk.
constexpr double kNormPasses = 2;
constexpr double kSoftmaxPasses = 3;
constexpr int64_t kWarpSoftmaxMaxCols = 1024;
constexpr double kWarpSoftmaxMaxRowBytes = 4096;
constexpr double kSoftmaxSmemRowBytes = 48 * 1024;  // shared memory per block without opt-in (sharedMemPerBlock)
// Sustained elements per clock per unit, from the H100 calibration rows (4096/8192 columns: 1.0-1.2; 50304: 1.9).
constexpr double kSmemSoftmaxElemsPerClk = 1.1;
constexpr double kBlockSoftmaxElemsPerClk = 1.9;
// Forward layer and RMS norms as PyTorch runs them (vectorized_layer_norm_kernel): one 128-thread block per row,
// 16 resident per unit (2048 threads per SM on Hopper and Ampere), so the grid runs in waves of units x 16 rows. A
// block reads its row for the statistics, reduces them across the block (warp shuffles, then shared memory between
// its warps, two barriers), and only then re-reads the row (from L1) to normalize and write it. The blocks of a wave
// start together and do the same work, so the grid is in one phase at a time:
//  - the statistics pass reads the input alone: what the cache serves then is not overlapped by the normalize pass's
//    writes (an input from memory shares the memory's bandwidth with the writes either way);
//  - each wave waits for its first loads and then for the block reduction before any of its rows is written.
// Kineto traces on H100 (2048x4096 and 8192x768 bf16): a norm whose input is the residual add just written takes
// 10-10.7 us and 9.8-10 us, 2-3 us over a copy's memory time; one reading a cold input 15.4-16.1 us and 12.8 us.
constexpr double kRowBlocksPerUnit = 16;
constexpr double kRowReduceCycles = 500;  // 5 shuffle steps of a Welford combine, 2 barrier rounds, the broadcast

// Share of a repeated pass over `bytes` of input that has to come from main memory again.
double reread_miss_share(double bytes, const MapContext& ctx) {
  double cap = ctx.cache ? ctx.unit.cache_capacity : 0;
  return bytes > cap ? 1 - cap / bytes : 0;
}

// Vector FLOPs that keep a unit's vector pipes busy as long as `elements` at `per_clk` elements per clock take.
double issue_flops(double elements, double per_clk, DType dt, const MapContext& ctx) {
  return elements / per_clk * ctx.unit.vector_rate(dt) / ctx.unit.clock_hz;
}

std::unique_ptr<Kernel> map_rows(const Op& op, const MapContext& ctx) {
  const auto& s = std::get<RowShape>(op.shape);
  StreamWork w = basic(op, ctx);
  w.vector_flops = op.flops();
  double row_bytes = s.cols * dtype_bytes(op.dtype);
  double elements = double(s.rows) * s.cols;
  double x = op.reads.empty() ? 0 : op.reads[0].bytes;  // the row data; a norm's weight vector follows it
  std::string how = op.kind == OpKind::norm ? "row-norm" : "row-softmax";
  double passes = op.kind == OpKind::norm ? kNormPasses : kSoftmaxPasses;
  if (plain_reduction(op)) {
    passes = 1;  // torch.mean, topk, argmax: one read of each row, a few values written
    how = "row-reduce";
  }
  bool one_block_per_row = false;  // short rows share a tile (as a block moves about kBlockBytes)
  if (op.kind == OpKind::softmax) {
    if (s.cols <= kWarpSoftmaxMaxCols && row_bytes <= kWarpSoftmaxMaxRowBytes) {
      passes = 1;
      how = "warp-softmax";
    } else if (row_bytes < kSoftmaxSmemRowBytes) {
      passes = 1;
      one_block_per_row = true;
      w.vector_flops = issue_flops(elements, kSmemSoftmaxElemsPerClk, op.dtype, ctx);
      how = "smem-softmax";
    } else {
      one_block_per_row = true;
      w.vector_flops = issue_flops(elements, kBlockSoftmaxElemsPerClk, op.dtype, ctx);
      how = "block-softmax";
    }
  }
  if (passes > 1) {
    w.read_bytes += (passes - 1) * x;
    // Softmax re-reads a long row right after reading it (cache hits); a norm's normalize pass misses for the share
    // of the input the cache cannot hold.
    if (op.kind == OpKind::norm) w.miss_bytes += (passes - 1) * x * reread_miss_share(x, ctx);
  }
  double rows_per_block = one_block_per_row ? 1 : std::max(1.0, std::floor(kBlockBytes / std::max(1.0, row_bytes)));
  w.natural_tiles = double(s.rows) / rows_per_block;
  auto k = std::make_unique<StreamKernel>(w, op.dtype, ctx.unit, how + " x" + std::to_string(int(passes)));
  if (op.kind == OpKind::norm && (op.variant.empty() || op.variant == "layernorm" || op.variant == "rmsnorm")) {
    Streamed in = streamed_inputs(op, ctx);
    double waves = std::ceil(double(s.rows) / (double(ctx.unit.units) * kRowBlocksPerUnit));
    double in_bytes = in.hit + in.miss;
    double miss_share = in_bytes > 0 ? in.miss / in_bytes : 0;
    double first_load = miss_share * ctx.unit.mem_latency_s + (1 - miss_share) * ctx.unit.cache_latency_s;
    double reduce = ctx.unit.clock_hz > 0 ? kRowReduceCycles / ctx.unit.clock_hz : 0;
    double alone = ctx.unit.cache_bw > 0 ? in.hit / ctx.unit.cache_bw : 0;
    k->fixed_s += alone + waves * (first_load + reduce);
  }
  return k;
}

std::unique_ptr<Kernel> map_concat(const Op& op, const MapContext& ctx) {
  StreamWork w = basic(op, ctx);
  w.natural_tiles = (w.read_bytes + w.write_bytes) / kBlockBytes;
  return std::make_unique<StreamKernel>(w, op.dtype, ctx.unit, "copy");
}

// Pairwise dot products of F feature vectors per sample: a small batched matmul per sample on the matrix unit.
std::unique_ptr<Kernel> map_interaction(const Op& op, const MapContext& ctx) {
  StreamWork w = basic(op, ctx);
  w.matrix_flops = op.flops();
  const auto& s = std::get<FeatureShape>(op.shape);
  w.natural_tiles = double(s.batch) / 64;
  return std::make_unique<StreamKernel>(w, op.dtype, ctx.unit, "batched-dot");
}

}  // namespace

XPU_REGISTER_MAPPER(OpKind::elementwise, "elementwise-stream", map_elementwise);
XPU_REGISTER_MAPPER(OpKind::norm, "row-norm", map_rows);
XPU_REGISTER_MAPPER(OpKind::softmax, "row-softmax", map_rows);
XPU_REGISTER_MAPPER(OpKind::concat, "copy", map_concat);
XPU_REGISTER_MAPPER(OpKind::interaction, "batched-dot", map_interaction);

}  // namespace xpu
