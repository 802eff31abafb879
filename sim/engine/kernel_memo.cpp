#include "sim/engine/kernel_memo.h"

#include <type_traits>
#include <variant>

namespace xpu {

void DeviceCounters::read(std::vector<double>& out) const {
  out.clear();
  for (Component* c : blocks) c->read_counters(out);
  for (EdgePort* e : edges) e->read_counters(out);
}

void DeviceCounters::add(const std::vector<double>& delta) const {
  const double* d = delta.data();
  for (Component* c : blocks) c->add_counters(d);
  for (EdgePort* e : edges) e->add_counters(d);
}

// Binary, not text: this runs once per kernel launch of every rank.
std::string KernelMemo::key(const Op& op, const CacheLevel* cache) {
  std::string k;
  k.reserve(64 + 24 * (op.reads.size() + op.writes.size()));
  auto put = [&k](const void* p, size_t n) { k.append(static_cast<const char*>(p), n); };
  const int head[4] = {int(op.kind), int(op.dtype), int(op.out_dtype), op.weight_bits};
  put(head, sizeof head);
  const double extra[3] = {double(op.weight_group), op.epilogue_read_bytes, op.epilogue_flops};
  put(extra, sizeof extra);
  k += op.variant;
  k += '\0';
  k += op.gemm_schedule;
  k += '\0';
  std::visit(
      [&](const auto& s) {
        using T = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<T, CollectiveShape>) {
          k += s.op;
          k += '\0';
          const int64_t v[3] = {s.bytes, s.group, s.steps};
          put(v, sizeof v);
        } else if constexpr (std::is_same_v<T, ElementwiseShape>) {
          const int64_t v[2] = {s.elements, s.inputs};
          put(v, sizeof v);
          put(&s.flops_per_element, sizeof(double));
        } else if constexpr (std::is_same_v<T, MatmulShape>) {
          const int64_t v[5] = {s.batch, s.m, s.n, s.k, int64_t(s.b_shared)};
          put(v, sizeof v);
        } else if constexpr (std::is_same_v<T, AttentionShape>) {
          const int64_t v[8] = {s.batch, s.heads_q, s.heads_kv, s.seq_q, s.seq_kv, s.head_dim, int64_t(s.causal),
                                int64_t(s.backward)};
          put(v, sizeof v);
        } else if constexpr (std::is_same_v<T, RowShape>) {
          const int64_t v[2] = {s.rows, s.cols};
          put(v, sizeof v);
        } else if constexpr (std::is_same_v<T, EmbeddingBagShape>) {
          const int64_t v[5] = {s.tables, s.rows, s.dim, s.batch, s.pooling};
          put(v, sizeof v);
        } else {
          const int64_t v[3] = {s.batch, s.features, s.dim};
          put(v, sizeof v);
        }
      },
      op.shape);
  for (const auto& r : op.reads) {
    const double v[2] = {r.bytes, cache ? cache->resident_fraction(r.name, r.bytes) : 0.0};
    put(v, sizeof v);
  }
  k += 'w';
  for (const auto& w : op.writes) put(&w.bytes, sizeof(double));
  return k;
}

}  // namespace xpu
