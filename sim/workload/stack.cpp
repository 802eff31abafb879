#include "sim/workload/stack.h"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>
#include <unordered_map>

namespace xpu {
namespace {

bool pointwise(const Op& o) { return o.kind == OpKind::elementwise && o.variant != "adamw" && o.variant != "sgd"; }
bool reduction(const Op& o) { return o.kind == OpKind::norm || o.kind == OpKind::softmax; }

// Inductor's fusion rules, in one place: a pointwise producer fuses into a pointwise or reduction consumer; a
// reduction fuses into a pointwise consumer (its epilogue); a GEMM takes the pointwise ops that consume its output
// into its epilogue (Inductor's GEMM templates: a bias, an activation, a residual add, the other half of a gated
// activation) when nothing else reads that output, unless it is a weight-only quantized matmul (an extern kernel,
// tinygemm's or a custom one, that Inductor calls as a library); never two reductions in one kernel, never into
// attention, an embedding, a collective or the optimizer's fused update, never across the forward/backward boundary.
bool fusible(const Op& producer, const Op& consumer) {
  if (pointwise(producer)) return pointwise(consumer) || reduction(consumer);
  if (reduction(producer)) return pointwise(consumer);
  if (producer.kind == OpKind::matmul) return pointwise(consumer) && producer.weight_bits == 0;
  return false;
}

}  // namespace

const char* stack_name(Stack s) {
  switch (s) {
    case Stack::eager: return "eager";
    case Stack::compiled: return "compiled";
    case Stack::graphs: return "graphs";
  }
  return "eager";
}

Stack parse_stack(const std::string& s) {
  if (s == "eager") return Stack::eager;
  if (s == "compiled") return Stack::compiled;
  if (s == "graphs") return Stack::graphs;
  throw std::invalid_argument("stack '" + s + "': expected eager, compiled or graphs");
}

void apply_stack(Workload& w, Stack s) {
  w.stack = stack_name(s);
  w.eager_kernels = w.ops.size();
  w.fused_bytes = 0;
  if (s == Stack::eager) return;

  const size_t n = w.ops.size();
  std::vector<char> alive(n, 1);
  std::vector<size_t> into(n);  // where a fused-away op went
  for (size_t i = 0; i < n; ++i) into[i] = i;
  std::unordered_map<std::string, size_t> producer;             // tensor -> op writing it (the latest)
  std::unordered_map<std::string, std::vector<size_t>> readers;  // tensor -> ops reading it
  std::vector<std::vector<size_t>> users(n);                     // op -> ops that depend on it
  for (size_t i = 0; i < n; ++i) {
    for (const auto& t : w.ops[i].reads) readers[t.name].push_back(i);
    for (size_t d : w.ops[i].deps) users[d].push_back(i);
  }
  auto find = [&](size_t i) {
    while (into[i] != i) i = into[i];
    return i;
  };

  for (size_t e = 0; e < n; ++e) {
    for (bool merged = true; merged;) {
      merged = false;
      Op& E = w.ops[e];
      for (const auto& r : E.reads) {
        auto it = producer.find(r.name);
        if (it == producer.end()) continue;
        const size_t p = find(it->second);
        if (p == e || !alive[p] || !fusible(w.ops[p], E)) continue;
        // AOTAutograd compiles the forward and the backward as two graphs: no kernel spans both.
        if (p < w.backward_start && e >= w.backward_start) continue;
        // Whoever else needs the producer must come after the fused kernel, or fusing would make a cycle.
        bool ok = true;
        for (size_t u : users[p]) ok &= find(u) == e || u > e;
        if (!ok) continue;
        // A GEMM's epilogue fusion needs its output to go nowhere else: the fused kernel no longer writes it.
        if (w.ops[p].kind == OpKind::matmul) {
          bool sole = true;
          for (const auto& t : w.ops[p].writes)
            for (size_t q : readers[t.name]) sole &= find(q) == e;
          if (!sole) continue;
        }
        Op P = std::move(w.ops[p]);
        alive[p] = 0;
        into[p] = e;
        // Tensors the producer writes that only this consumer reads never leave the chip; the others are still
        // written (a residual stream another layer reads later).
        std::set<std::string> internal;
        for (const auto& t : P.writes) {
          bool others = false;
          for (size_t q : readers[t.name]) others |= find(q) != e;
          if (!others && !t.name.empty()) {
            internal.insert(t.name);
            w.fused_bytes += t.bytes;
          }
        }
        // The fused kernel reads the producer's inputs (a GEMM's A and B first, as they were), then what else the
        // consumer reads; a tensor read by both halves is loaded once.
        auto seen = [](const std::vector<TensorRef>& v, const TensorRef& t) {
          for (const auto& u : v)
            if (!t.name.empty() && u.name == t.name) return true;
          return false;
        };
        std::vector<TensorRef> reads;
        if (P.kind == OpKind::matmul) reads = P.reads;
        else
          for (const auto& t : P.reads)
            if (!seen(reads, t)) reads.push_back(t);
        const size_t producer_reads = reads.size();
        for (const auto& t : E.reads)
          if (!internal.count(t.name) && !seen(reads, t)) reads.push_back(t);
        std::vector<TensorRef> writes;
        for (const auto& t : P.writes)
          if (!internal.count(t.name)) writes.push_back(t);
        for (const auto& t : E.writes) writes.push_back(t);
        const double flops = P.flops() + E.flops();
        if (P.kind == OpKind::matmul) {
          Op G = std::move(P);
          double extra = 0;
          for (size_t i = producer_reads; i < reads.size(); ++i) extra += reads[i].bytes;
          G.reads = std::move(reads);
          G.epilogue_read_bytes += extra;
          G.epilogue_flops += E.flops() + E.epilogue_flops;
          G.writes = std::move(writes);
          G.out_dtype = E.out_dtype;
          G.name = G.name + "+" + E.name;
          if (G.name.size() > 160) G.name = G.name.substr(0, 157) + "...";
          for (size_t d : E.deps) G.deps.push_back(d);
          E = std::move(G);
          for (size_t u : users[p])
            if (u != e) users[e].push_back(u);
          for (const auto& t : E.writes) producer[t.name] = e;
          merged = true;
          break;
        }
        if (reduction(E) || reduction(P)) {
          if (!reduction(E)) {  // an epilogue: the kernel is the reduction's, over its rows
            E.kind = P.kind;
            E.shape = P.shape;
          }
        } else {
          const auto& a = std::get<ElementwiseShape>(P.shape);
          const auto& b = std::get<ElementwiseShape>(E.shape);
          const int64_t elements = std::max(a.elements, b.elements);
          E.shape = ElementwiseShape{elements, int64_t(reads.size()), elements > 0 ? flops / double(elements) : 0};
        }
        E.variant = "fused:" + (P.variant.rfind("fused:", 0) == 0 ? P.variant.substr(6) : P.variant) + "+" +
                    (E.variant.rfind("fused:", 0) == 0 ? E.variant.substr(6) : E.variant);
        if (E.variant.size() > 120) E.variant = E.variant.substr(0, 117) + "...";
        E.name = P.name + "+" + E.name;
        if (E.name.size() > 160) E.name = E.name.substr(0, 157) + "...";
        E.reads = std::move(reads);
        E.writes = std::move(writes);
        for (size_t d : P.deps) E.deps.push_back(d);
        for (size_t u : users[p])
          if (u != e) users[e].push_back(u);
        for (const auto& t : E.writes) producer[t.name] = e;
        merged = true;
        break;
      }
    }
    for (const auto& t : w.ops[e].writes) producer[t.name] = e;
  }

  // Renumber the surviving ops; every dependency goes to the kernel its op was fused into.
  std::vector<size_t> index(n, SIZE_MAX);
  std::vector<Op> ops;
  for (size_t i = 0; i < n; ++i)
    if (alive[i]) {
      index[i] = ops.size();
      ops.push_back(std::move(w.ops[i]));
    }
  for (size_t i = 0; i < ops.size(); ++i) {
    std::set<size_t> deps;
    for (size_t d : ops[i].deps) {
      const size_t to = index[find(d)];
      if (to != i) deps.insert(to);
    }
    ops[i].deps.assign(deps.begin(), deps.end());
  }
  if (w.backward_start < n) {
    size_t b = w.backward_start;
    while (b < n && !alive[b]) ++b;
    w.backward_start = b < n ? index[b] : SIZE_MAX;
  }
  w.ops = std::move(ops);
}

}  // namespace xpu
