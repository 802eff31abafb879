// Flash-attention lowering. Prefill: one tile per (batch, query head, block of 128 queries) streaming its visible
// K/V; causal blocks see only keys up to their diagonal, and are issued longest first to balance the waves.
// Decode: one tile per (batch, KV head, KV split) covering the query heads that share it (grouped-query), with the KV
// length split when batch x KV heads cannot fill the units (flash-decoding), plus a small combine step.
#include <algorithm>
#include <cmath>

#include "models/mappers/mapper.h"
#include "models/mappers/reuse_tracker.h"

namespace xpu {
namespace {

constexpr int64_t kQBlock = 128;
constexpr int64_t kMinMmaRows = 64;     // matrix-unit instructions work on at least this many query rows (GPU)
constexpr double kSoftmaxOpsPerScore = 2;  // running max and sum per score on the vector units (scale is fused)
constexpr int64_t kKvBlock = 128;          // keys per inner iteration

class PrefillKernel : public Kernel {
 public:
  PrefillKernel(const Op& op, const AttentionShape& s, const MapContext& ctx)
      : s_(s), qblocks_(ceil_div(s.seq_q, kQBlock)),
        tracker_(size_t(s.batch * s.heads_kv), ctx.cache ? ctx.unit.cache_capacity : 0) {
    dtype = op.dtype;
    eb_ = dtype_bytes(op.dtype);
    if (ctx.cache && op.reads.size() >= 3)
      res_kv_ = 0.5 * (ctx.cache->resident_fraction(op.reads[1].name, op.reads[1].bytes) +
                       ctx.cache->resident_fraction(op.reads[2].name, op.reads[2].bytes));
    num_tiles = uint64_t(s.batch * s.heads_q * qblocks_);
    tiles_per_unit = 1;
    pass_ = s.backward ? 2.5 : 1.0;
    // Scores the kernel computes: each costs softmax work and an exp beside its matmul flops (the power governor's
    // view of the kernel, which the exp stalls keep below a pure GEMM's draw).
    double scores = 0;
    for (int64_t qb = 0; qb < qblocks_; ++qb) {
      const int64_t rows = std::min(kQBlock, s.seq_q - qb * kQBlock);
      scores += double(rows) * (s.causal ? std::min(s.seq_kv, s.seq_kv - s.seq_q + (qb + 1) * kQBlock) : s.seq_kv);
    }
    scores *= double(s.batch) * s.heads_q;
    work_vector_flops = pass_ * kSoftmaxOpsPerScore * scores;
    work_special_ops = scores;
    mapping = std::string(s.backward ? "flash-attention backward" : "flash-attention") + ", q-block 128, " +
              std::to_string(num_tiles) + " tiles";
    if (s.backward) {
      // Flash-attention backwards (FA2, FA3, cuDNN) launch two streaming kernels around the tiled one: the row sums
      // D = rowsum(dO o O) (reading dO and O, writing D in fp32) with the zeroing of the fp32 dQ accumulator the
      // tiles add into, and after them the conversion of that accumulator to dQ.
      const double rows = double(s.batch) * s.heads_q * s.seq_q;
      const double q = rows * s.head_dim * eb_, acc = rows * s.head_dim * 4;
      before = {2 * q, rows * 4 + acc};
      after = {acc, q};
      mapping += " (+ dO.O row sums and dQ conversion)";
    }
  }

  void tile(uint64_t index, TileWork& w) override {
    // Longest blocks first: with causal masking the last query block of each head sees every key.
    int64_t per_head = qblocks_;
    int64_t head_idx = int64_t(index) / per_head;  // over batch x heads_q
    int64_t qb = s_.causal ? per_head - 1 - int64_t(index) % per_head : int64_t(index) % per_head;
    int64_t b = head_idx / s_.heads_q;
    int64_t hq = head_idx % s_.heads_q;
    int64_t group = s_.heads_q / s_.heads_kv;
    int64_t hkv = hq / group;
    int64_t rows = std::min(kQBlock, s_.seq_q - qb * kQBlock);
    int64_t offset = s_.seq_kv - s_.seq_q;
    int64_t visible = s_.causal ? std::min(s_.seq_kv, offset + (qb + 1) * kQBlock) : s_.seq_kv;
    double d = s_.head_dim;
    // Forward: S = QK^T and O = PV (4 D flops per score); one exp per score on the special-function units, which
    // the matrix units wait for. Backward: five matmuls (2.5x), the exp recomputed, and dQ accumulated in fp32 with
    // atomics in the cache for every key block visited.
    w.matrix_flops = pass_ * 4.0 * kQBlock * visible * d;
    w.useful_matrix_flops = pass_ * 4.0 * rows * visible * d;
    w.vector_flops = pass_ * kSoftmaxOpsPerScore * rows * visible;
    w.special_ops = double(rows) * visible;
    double kv = 2.0 * visible * d * eb_;
    double q = rows * d * eb_;
    w.read_bytes = pass_ * (q + kv);
    w.miss_bytes = pass_ * (q + tracker_.access(size_t(b * s_.heads_kv + hkv), kv, res_kv_));
    // The backward's tiles store dK and dV; dQ goes through the accumulator (the conversion pass stores it).
    w.write_bytes = (s_.backward ? 2 : 1) * rows * d * eb_;
    if (s_.backward) w.scratch_bytes = double(ceil_div(visible, kKvBlock)) * rows * d * 4 * 2;
    // Pipelined like a GEMM's K loop: the first key block (with the query block, and dO in the backward) must
    // arrive before the first product, and the output block is stored after the last.
    w.fill_bytes = (s_.backward ? 2 : 1) * q + 2.0 * std::min(visible, kKvBlock) * d * eb_;
    w.drain_bytes = rows * d * eb_;
  }

 private:
  AttentionShape s_;
  int64_t qblocks_;
  ReuseTracker tracker_;
  double eb_ = 2, res_kv_ = 0, pass_ = 1;
};

class DecodeKernel : public Kernel {
 public:
  DecodeKernel(const Op& op, const AttentionShape& s, const MapContext& ctx)
      : s_(s), min_rows_(std::max(kMinMmaRows, ctx.unit.systolic_rows)) {
    dtype = op.dtype;
    eb_ = dtype_bytes(op.dtype);
    if (ctx.cache && op.reads.size() >= 3)
      res_kv_ = 0.5 * (ctx.cache->resident_fraction(op.reads[1].name, op.reads[1].bytes) +
                       ctx.cache->resident_fraction(op.reads[2].name, op.reads[2].bytes));
    int64_t base = s.batch * s.heads_kv;
    int64_t units = ctx.unit.units;
    // Split the KV length until the grid fills the units, keeping chunks of at least 256 keys.
    splits_ = 1;
    while (base * splits_ < units && s.seq_kv / (splits_ * 2) >= 256) splits_ *= 2;
    chunk_ = ceil_div(s.seq_kv, splits_);
    num_tiles = uint64_t(base * splits_);
    tiles_per_unit = 2;
    if (splits_ > 1) {
      double partial = double(s.batch) * s.heads_q * s.seq_q * splits_ * (s.head_dim + 2) * 4;
      fixed_s = ctx.unit.cache_latency_s + partial / std::max(1.0, ctx.unit.cache_bw);
    }
    const double scores = double(base) * (s.heads_q / s.heads_kv) * s.seq_q * s.seq_kv;
    work_vector_flops = kSoftmaxOpsPerScore * scores;
    work_special_ops = scores;
    mapping = "flash-decoding, kv-split " + std::to_string(splits_) + ", " + std::to_string(num_tiles) + " tiles";
  }

  void tile(uint64_t index, TileWork& w) override {
    int64_t split = int64_t(index) % splits_;
    int64_t keys = std::min(chunk_, s_.seq_kv - split * chunk_);
    int64_t qrows = (s_.heads_q / s_.heads_kv) * s_.seq_q;
    double d = s_.head_dim;
    w.matrix_flops = 4.0 * std::max(qrows, min_rows_) * keys * d;
    w.useful_matrix_flops = 4.0 * qrows * keys * d;
    w.vector_flops = kSoftmaxOpsPerScore * qrows * keys;
    w.special_ops = double(qrows) * keys;
    double kv = 2.0 * keys * d * eb_;
    double q = qrows * d * eb_;
    w.read_bytes = kv + q;
    w.miss_bytes = kv * (1 - res_kv_) + q;
    w.write_bytes = qrows * d * (splits_ > 1 ? 4.0 : eb_);
    w.fill_bytes = q + 2.0 * std::min(keys, kKvBlock) * d * eb_;
    w.drain_bytes = w.write_bytes;
  }

 private:
  AttentionShape s_;
  int64_t splits_ = 1, chunk_ = 1;
  int64_t min_rows_;  // query rows the matrix unit works on at least (a systolic array's depth: K/V blocks are stationary)
  double eb_ = 2, res_kv_ = 0;
};

std::unique_ptr<Kernel> map_attention(const Op& op, const MapContext& ctx) {
  const auto& s = std::get<AttentionShape>(op.shape);
  if (s.seq_q <= 16 && !s.backward) return std::make_unique<DecodeKernel>(op, s, ctx);
  return std::make_unique<PrefillKernel>(op, s, ctx);
}

}  // namespace

XPU_REGISTER_MAPPER(OpKind::attention, "flash-attention", map_attention);

}  // namespace xpu
