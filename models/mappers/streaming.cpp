// Elementwise ops, norms, softmax, concat and feature interaction: bandwidth-shaped kernels.
#include <cmath>

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

std::unique_ptr<Kernel> map_elementwise(const Op& op, const MapContext& ctx) {
  const auto& s = std::get<ElementwiseShape>(op.shape);
  StreamWork w = basic(op, ctx);
  w.vector_flops = s.flops_per_element * s.elements;
  w.natural_tiles = (w.read_bytes + w.write_bytes) / kBlockBytes;
  return std::make_unique<StreamKernel>(w, op.dtype, ctx.unit, "elementwise");
}

// One block per row (or a few rows when rows are short), as framework norm and softmax kernels do.
std::unique_ptr<Kernel> map_rows(const Op& op, const MapContext& ctx) {
  const auto& s = std::get<RowShape>(op.shape);
  StreamWork w = basic(op, ctx);
  w.vector_flops = op.flops();
  double row_bytes = s.cols * dtype_bytes(op.dtype);
  w.natural_tiles = double(s.rows) / std::max(1.0, std::floor(kBlockBytes / std::max(1.0, row_bytes)));
  return std::make_unique<StreamKernel>(w, op.dtype, ctx.unit, op.kind == OpKind::norm ? "row-norm" : "row-softmax");
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
