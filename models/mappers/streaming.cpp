// Elementwise ops, norms, softmax, concat and feature interaction: bandwidth-shaped kernels.
#include <algorithm>
#include <cmath>
#include <string>

#include "models/mappers/stream_kernel.h"

namespace xpu {
namespace {

// Framework elementwise kernels move about 16 KiB per thread block (128 threads x 128 B vectors).
constexpr double kBlockBytes = 16384;

StreamWork basic(const Op& op, const MapContext& ctx) {
  StreamWork w;
  w.read_bytes = input_bytes(op);
  w.miss_bytes = missing_input_bytes(op, ctx);
  w.write_bytes = output_bytes(op);
  return w;
}

// Non-contiguous operands (a variant ending in "_strided", e.g. the halves of a fused gate/up output) send the
// framework to its non-vectorized kernel (elementwise_kernel<128, 4>): one element per load and per store, issue-bound
// at about 1.2 elements per clock per unit (H100 Kineto traces: silu and mul on 22-25M elements, 70-77 us).
constexpr double kScalarElemsPerClk = 1.2;

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
  return std::make_unique<StreamKernel>(w, op.dtype, ctx.unit, how + " x" + std::to_string(int(passes)));
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
