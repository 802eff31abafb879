#include "sim/workload/builder.h"

#include <algorithm>

namespace xpu {

std::vector<double> shape_input_bytes(const Op& op) {
  const double e = dtype_bytes(op.dtype);
  return std::visit(
      [&](const auto& s) -> std::vector<double> {
        using T = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<T, MatmulShape>) {
          return {double(s.batch) * s.m * s.k * e, (s.b_shared ? 1.0 : double(s.batch)) * s.k * s.n * e};
        } else if constexpr (std::is_same_v<T, AttentionShape>) {
          double kv = double(s.batch) * s.heads_kv * s.seq_kv * s.head_dim * e;
          return {double(s.batch) * s.heads_q * s.seq_q * s.head_dim * e, kv, kv};
        } else if constexpr (std::is_same_v<T, ElementwiseShape>) {
          return std::vector<double>(size_t(std::max<int64_t>(s.inputs, 1)), double(s.elements) * e);
        } else if constexpr (std::is_same_v<T, RowShape>) {
          return {double(s.rows) * s.cols * e};
        } else if constexpr (std::is_same_v<T, EmbeddingBagShape>) {
          return {double(s.tables) * s.batch * s.pooling * s.dim * e};
        } else if constexpr (std::is_same_v<T, FeatureShape>) {
          return {double(s.batch) * s.features * s.dim * e};
        } else {
          return {double(s.bytes)};
        }
      },
      op.shape);
}

double shape_output_bytes(const Op& op) {
  const double e = dtype_bytes(op.out_dtype);
  return std::visit(
      [&](const auto& s) -> double {
        using T = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<T, MatmulShape>) {
          return double(s.batch) * s.m * s.n * e;
        } else if constexpr (std::is_same_v<T, AttentionShape>) {
          return double(s.batch) * s.heads_q * s.seq_q * s.head_dim * e;
        } else if constexpr (std::is_same_v<T, ElementwiseShape>) {
          return double(s.elements) * e;
        } else if constexpr (std::is_same_v<T, RowShape>) {
          return double(s.rows) * s.cols * e;
        } else if constexpr (std::is_same_v<T, EmbeddingBagShape>) {
          return double(s.tables) * s.batch * s.dim * e;
        } else if constexpr (std::is_same_v<T, FeatureShape>) {
          if (op.kind == OpKind::interaction) return double(s.batch) * s.features * (s.features - 1) / 2 * e;
          return double(s.batch) * s.features * s.dim * e;
        } else {
          return double(s.bytes);
        }
      },
      op.shape);
}

void WorkloadBuilder::adopt_existing() {
  for (size_t i = 0; i < w_.ops.size(); ++i)
    for (const auto& wr : w_.ops[i].writes) producer_[wr.name] = i;
}

size_t WorkloadBuilder::add(const std::string& name, OpKind kind, const std::string& variant, OpShape shape,
                            std::vector<TensorRef> reads, std::vector<TensorRef> writes) {
  Op op;
  op.name = name;
  op.kind = kind;
  op.variant = variant;
  op.dtype = op.out_dtype = dtype_;
  op.shape = std::move(shape);
  op.reads = std::move(reads);
  op.writes = std::move(writes);
  op.layer = layer_;
  op.mark = mark_;
  for (const auto& r : op.reads) {
    auto it = producer_.find(r.name);
    if (it != producer_.end() && std::find(op.deps.begin(), op.deps.end(), it->second) == op.deps.end())
      op.deps.push_back(it->second);
  }
  const size_t idx = w_.ops.size();
  for (const auto& wr : op.writes) producer_[wr.name] = idx;
  w_.ops.push_back(std::move(op));
  return idx;
}

size_t WorkloadBuilder::add_io(const std::string& name, OpKind kind, const std::string& variant, OpShape shape,
                               const std::vector<std::string>& ins, const std::string& out) {
  Op probe;
  probe.kind = kind;
  probe.dtype = probe.out_dtype = dtype_;
  probe.shape = shape;
  std::vector<double> in_bytes = shape_input_bytes(probe);
  std::vector<TensorRef> reads;
  for (size_t i = 0; i < ins.size() && i < in_bytes.size(); ++i) reads.push_back({ins[i], in_bytes[i]});
  return add(name, kind, variant, std::move(shape), std::move(reads), {{out, shape_output_bytes(probe)}});
}

size_t WorkloadBuilder::matmul(const std::string& name, MatmulShape s, const std::string& a, const std::string& b,
                               const std::string& c, const std::string& bias) {
  Op probe;
  probe.kind = OpKind::matmul;
  probe.dtype = probe.out_dtype = dtype_;
  probe.shape = s;
  std::vector<double> in = shape_input_bytes(probe);
  std::vector<TensorRef> reads = {{a, in[0]}, {b, in[1]}};
  // The bias rides in the matmul epilogue (addmm): its bytes count, its adds are negligible next to the MACs.
  if (!bias.empty()) reads.push_back(t(bias, double(s.n)));
  return add(name, OpKind::matmul, "", s, std::move(reads), {{c, shape_output_bytes(probe)}});
}

}  // namespace xpu
