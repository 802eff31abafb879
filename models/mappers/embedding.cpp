// Embedding bags: random row gathers at the memory's sector granularity. Rows of a table that fits the cache are
// fetched from memory once; rows of a larger table hit only in proportion to the share of it the cache can hold.
#include <cmath>

#include "models/mappers/stream_kernel.h"

namespace xpu {
namespace {

constexpr double kSector = 32;      // bytes per memory sector (GPU L2/HBM access granularity)
constexpr double kBagsPerTile = 32; // one warp per bag, 32 warps per block

std::unique_ptr<Kernel> map_embedding_bag(const Op& op, const MapContext& ctx) {
  const auto& s = std::get<EmbeddingBagShape>(op.shape);
  double row_bytes = std::ceil(s.dim * dtype_bytes(op.dtype) / kSector) * kSector;
  double table_bytes = double(s.rows) * s.dim * dtype_bytes(op.dtype);
  double lookups = double(s.batch) * s.pooling;
  // Distinct rows touched by `lookups` uniform draws over `rows`.
  double distinct = s.rows * (1 - std::exp(-lookups / std::max<double>(1, s.rows)));
  double cap = ctx.cache ? ctx.unit.cache_capacity : 0;
  double resident = 0;
  if (ctx.cache && !op.reads.empty()) resident = ctx.cache->resident_fraction(op.reads[0].name, op.reads[0].bytes);
  double miss_rows;
  if (table_bytes <= cap) {
    miss_rows = distinct * (1 - resident);
  } else {
    double hit = cap > 0 ? cap / table_bytes : 0;
    miss_rows = distinct + (lookups - distinct) * (1 - hit);
  }
  StreamWork w;
  double index_bytes = lookups * 8 + (s.batch + 1) * 8;  // int64 indices and offsets, read sequentially
  w.read_bytes = s.tables * (lookups * row_bytes + index_bytes);
  w.miss_bytes = s.tables * (miss_rows * row_bytes + index_bytes);
  w.write_bytes = double(s.tables) * s.batch * s.dim * dtype_bytes(op.out_dtype);
  w.vector_flops = op.flops();
  w.natural_tiles = s.tables * std::ceil(s.batch / kBagsPerTile);
  w.access = Access::random;
  return std::make_unique<StreamKernel>(w, op.dtype, ctx.unit, "gather-sum");
}

}  // namespace

XPU_REGISTER_MAPPER(OpKind::embedding_bag, "gather-sum", map_embedding_bag);

}  // namespace xpu
