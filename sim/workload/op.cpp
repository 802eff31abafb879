#include "sim/workload/op.h"

#include <cstdio>
#include <type_traits>

#include "sim/config/vocabulary.h"

#include <boost/graph/adjacency_list.hpp>

#include <algorithm>
#include <queue>
#include <cctype>
#include <stdexcept>

namespace xpu {

const std::vector<std::string>& op_kind_names() {
  static const std::vector<std::string> n = {"matmul", "attention", "elementwise", "norm", "softmax",
                                             "embedding_bag", "concat", "interaction", "collective"};
  return n;
}
// Hardware blocks that price work per op kind name it through this vocabulary (sim/config/vocabulary.h).
static const bool op_kinds_registered = register_vocabulary("op kind", [] { return op_kind_names(); });
const char* op_kind_name(OpKind k) { return op_kind_names()[static_cast<size_t>(k)].c_str(); }
OpKind parse_op_kind(const std::string& s) {
  const auto& n = op_kind_names();
  auto it = std::find(n.begin(), n.end(), s);
  if (it == n.end()) throw std::invalid_argument("unknown op kind '" + s + "'");
  return static_cast<OpKind>(it - n.begin());
}

double Op::flops() const {
  return std::visit(
      [&](const auto& s) -> double {
        using T = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<T, MatmulShape>) {
          return 2.0 * s.batch * s.m * s.n * s.k;
        } else if constexpr (std::is_same_v<T, AttentionShape>) {
          // QK^T and PV: 2 matmuls of 2*Sq*Skv*D each per head; causal prefill keeps about half.
          double pairs = double(s.seq_q) * s.seq_kv;
          if (s.causal && s.seq_q > 1) {
            double sq = s.seq_q, skv = s.seq_kv;
            double offset = skv - sq;  // prefix cache: query i sees offset + i + 1 keys
            pairs = sq * offset + sq * (sq + 1) / 2;
          }
          double f = 4.0 * s.batch * s.heads_q * pairs * s.head_dim;
          return s.backward ? 2.5 * f : f;  // backward: dQ, dK, dV, dP and recomputed S
        } else if constexpr (std::is_same_v<T, ElementwiseShape>) {
          return s.flops_per_element * s.elements;
        } else if constexpr (std::is_same_v<T, RowShape>) {
          return 5.0 * s.rows * s.cols;
        } else if constexpr (std::is_same_v<T, EmbeddingBagShape>) {
          return double(s.tables) * s.batch * s.pooling * s.dim;
        } else if constexpr (std::is_same_v<T, FeatureShape>) {
          if (kind == OpKind::interaction) return 2.0 * s.batch * s.features * s.features * s.dim;
          return 0;
        } else {
          return 0;
        }
      },
      shape);
}

double Op::min_bytes() const {
  double b = 0;
  for (const auto& r : reads) b += r.bytes;
  for (const auto& w : writes) b += w.bytes;
  return b;
}

std::vector<size_t> topological_order(const Workload& w) {
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS>;
  Graph g(w.ops.size());
  for (size_t i = 0; i < w.ops.size(); ++i) {
    for (size_t d : w.ops[i].deps) {
      if (d >= w.ops.size())
        throw InputError(w.ops[i].mark, "op '" + w.ops[i].name + "' depends on a missing op");
      if (d == i) throw InputError(w.ops[i].mark, "op '" + w.ops[i].name + "' depends on itself");
      boost::add_edge(d, i, g);
    }
  }
  // Kahn's algorithm taking the lowest-numbered ready op first: the program order whenever the dependencies allow
  // it, which is the order an eager framework issues kernels in.
  std::vector<size_t> indeg(w.ops.size(), 0);
  for (size_t v = 0; v < w.ops.size(); ++v) indeg[v] = boost::in_degree(v, g);
  std::priority_queue<size_t, std::vector<size_t>, std::greater<size_t>> ready;
  for (size_t v = 0; v < indeg.size(); ++v)
    if (!indeg[v]) ready.push(v);
  std::vector<size_t> order;
  order.reserve(w.ops.size());
  while (!ready.empty()) {
    size_t v = ready.top();
    ready.pop();
    order.push_back(v);
    for (auto [e, end] = boost::out_edges(v, g); e != end; ++e)
      if (--indeg[boost::target(*e, g)] == 0) ready.push(boost::target(*e, g));
  }
  if (order.size() != w.ops.size()) {
    for (size_t i = 0; i < indeg.size(); ++i)
      if (indeg[i]) throw InputError(w.ops[i].mark, "dependency cycle through op '" + w.ops[i].name + "'");
  }
  return order;
}

namespace {
std::string shape_number(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}
}  // namespace

bool plain_reduction(const Op& op) {
  return op.kind == OpKind::norm && (op.variant == "mean" || op.variant == "topk" || op.variant == "argmax");
}

std::string shape_text(const OpShape& shape) {
  std::vector<double> v;
  std::string head;
  std::visit(
      [&](const auto& s) {
        using T = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<T, MatmulShape>) v = {double(s.batch), double(s.m), double(s.n), double(s.k), double(s.b_shared)};
        else if constexpr (std::is_same_v<T, AttentionShape>)
          v = {double(s.batch), double(s.heads_q), double(s.heads_kv), double(s.seq_q), double(s.seq_kv),
               double(s.head_dim), double(s.causal), double(s.backward)};
        else if constexpr (std::is_same_v<T, ElementwiseShape>) v = {double(s.elements), double(s.inputs), s.flops_per_element};
        else if constexpr (std::is_same_v<T, RowShape>) v = {double(s.rows), double(s.cols)};
        else if constexpr (std::is_same_v<T, EmbeddingBagShape>)
          v = {double(s.tables), double(s.rows), double(s.dim), double(s.batch), double(s.pooling)};
        else if constexpr (std::is_same_v<T, FeatureShape>) v = {double(s.batch), double(s.features), double(s.dim)};
        else {
          head = s.op + ",";
          v = {double(s.bytes), double(s.group), double(s.steps)};
        }
      },
      shape);
  std::string out = head;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + shape_number(v[i]);
  return out;
}

}  // namespace xpu
