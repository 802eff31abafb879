#include "sim/workload/autograd.h"

#include <algorithm>
#include <map>
#include <set>

#include "sim/workload/builder.h"

namespace xpu {
namespace {

class Backward {
 public:
  Backward(Workload& w, DType dt, int64_t tp)
      : w_(w), b_(w, dt, w.ops.empty() ? SourceMark{} : w.ops.front().mark), tp_(tp) {
    for (size_t i = 0; i < w.ops.size(); ++i) {
      const Op& o = w.ops[i];
      for (const auto& t : o.writes) producer_[t.name] = i;
      // Weight slots: a shared matmul B operand and its bias, a norm's scale, an embedding table.
      if (o.kind == OpKind::matmul && std::get<MatmulShape>(o.shape).b_shared)
        for (size_t r = 1; r < o.reads.size(); ++r) weight_slots_.insert(o.reads[r].name);
      if (o.kind == OpKind::norm && o.reads.size() > 1) weight_slots_.insert(o.reads[1].name);
      if (o.kind == OpKind::embedding_bag && !o.reads.empty()) weight_slots_.insert(o.reads[0].name);
      if (o.kind == OpKind::matmul && o.variant == "column_parallel" && !o.reads.empty())
        tp_inputs_.insert(o.reads[0].name);
    }
    b_.adopt_existing();
  }

  // Emits the backward kernels of forward op `f` (a copy: adding ops may reallocate w_.ops).
  void op(const Op f) {
    if (f.measured_us >= 0) return;
    b_.set_layer(f.layer);
    const std::string P = f.name + ".bwd";
    // The input of column-parallel matmuls has a partial gradient on each tensor-parallel rank; once all of them have
    // contributed (now, at its producer), one all-reduce completes it (Megatron's f operator).
    for (const auto& t : f.writes)
      if (tp_ > 1 && tp_inputs_.erase(t.name)) {
        TensorRef g = grad_of(t);
        b_.add(t.name + ".grad_all_reduce", OpKind::collective, "tensor_parallel",
               CollectiveShape{"all_reduce", int64_t(g.bytes), tp_}, {g}, {g});
      }
    switch (f.kind) {
      case OpKind::matmul: matmul(f, P); break;
      case OpKind::attention: attention(f, P); break;
      case OpKind::norm:
      case OpKind::softmax: rows(f, P); break;
      case OpKind::elementwise: elementwise(f, P); break;
      case OpKind::embedding_bag:
        if (!f.reads.empty() && !f.writes.empty()) {
          // A dense gradient, as nn.Embedding gives by default: the whole table's gradient is zeroed and the looked-up
          // rows summed into it, so the optimizer updates every row (sparse gradients: the dlrm generator).
          const auto& s = std::get<EmbeddingBagShape>(f.shape);
          TensorRef table = f.reads[0];
          table.bytes = std::max(table.bytes, double(s.tables) * s.rows * s.dim * dtype_bytes(f.dtype));
          emit(P, OpKind::elementwise, "embedding_bwd", ElementwiseShape{int64_t(elements(f.writes[0])), 1, 1},
               {grad_of(f.writes[0])}, {table});
        }
        break;
      case OpKind::concat:
      case OpKind::interaction:
        for (const auto& r : f.reads)
          if (needs_grad(r))
            emit(P + "." + r.name, f.kind == OpKind::interaction ? OpKind::interaction : OpKind::elementwise,
                 "split", f.kind == OpKind::interaction ? f.shape : OpShape{ElementwiseShape{int64_t(elements(r)), 1, 0}},
                 {grad_of(f.writes[0]), r}, {r});
        break;
      case OpKind::collective: {
        const auto& c = std::get<CollectiveShape>(f.shape);
        if (c.op == "send_recv") {
          // A pipeline hand-off: the gradient travels back the other way.
          std::vector<TensorRef> targets;
          if (!f.reads.empty() && needs_grad(f.reads[0])) targets.push_back(f.reads[0]);
          if (!f.writes.empty()) emit(P, OpKind::collective, "pipeline", c, {grad_of(f.writes[0])}, targets);
        } else if (!f.reads.empty() && !f.writes.empty() && !grad_.count(f.reads[0].name)) {
          // The all-reduce after a row-parallel matmul is the identity in the backward pass.
          grad_[f.reads[0].name] = grad_of(f.writes[0]).name;
        }
        break;
      }
    }
  }

  // The loss's backward writes the gradient of the forward's output (PyTorch's nll_loss_backward or
  // binary_cross_entropy_with_logits_backward: a kernel the size of that output), which seeds the walk back.
  void seed(const Op& last) {
    if (last.measured_us >= 0 || last.kind == OpKind::collective || last.writes.empty()) return;
    const TensorRef& out = last.writes[0];
    if (grad_.count(out.name)) return;
    b_.set_layer(last.layer);
    emit("loss.bwd", OpKind::elementwise, "loss_bwd", ElementwiseShape{int64_t(elements(out)), 1, 1}, {out}, {out});
  }

  // Recomputed copies of activations are activations too.
  void note_produced(const std::string& name) { producer_[name] = 0; }
  Workload& workload() { return w_; }
  WorkloadBuilder& builder() { return b_; }

 private:
  double elements(const TensorRef& t) const { return t.bytes / dtype_bytes(b_.dtype()); }
  bool produced(const TensorRef& t) const { return producer_.count(t.name) > 0; }
  // Activations get gradients; weights too (recorded for the optimizer); raw inputs do not.
  bool needs_grad(const TensorRef& t) const { return produced(t) || weight_slots_.count(t.name) > 0; }
  TensorRef grad_of(const TensorRef& t) const {
    auto it = grad_.find(t.name);
    return {it != grad_.end() ? it->second : "d:" + t.name, t.bytes};
  }

  // Adds an op whose `targets` are the tensors it produces gradients for; a second gradient of the same tensor is
  // written aside and summed in by an accumulation kernel, as autograd does.
  void emit(const std::string& name, OpKind kind, const std::string& variant, OpShape shape,
            std::vector<TensorRef> reads, const std::vector<TensorRef>& targets) {
    std::vector<TensorRef> writes;
    std::vector<std::pair<TensorRef, TensorRef>> accumulate;
    for (const auto& t : targets) {
      auto it = grad_.find(t.name);
      if (it == grad_.end()) {
        grad_[t.name] = "d:" + t.name;
        writes.push_back({"d:" + t.name, t.bytes});
      } else {
        TensorRef part{"d:" + t.name + "#" + std::to_string(++parts_[t.name]), t.bytes};
        writes.push_back(part);
        accumulate.push_back({{it->second, t.bytes}, part});
      }
    }
    b_.add(name, kind, variant, std::move(shape), std::move(reads), writes);
    for (const auto& [total, part] : accumulate)
      b_.add(part.name + ".acc", OpKind::elementwise, "add", ElementwiseShape{int64_t(elements(total)), 2, 1},
             {total, part}, {total});
  }

  void matmul(const Op& f, const std::string& P) {
    const auto& s = std::get<MatmulShape>(f.shape);
    if (f.reads.size() < 2 || f.writes.empty()) return;
    const TensorRef &a = f.reads[0], &bw = f.reads[1];
    TensorRef dc = grad_of(f.writes[0]);
    // dA = dC B^T and dB = A^T dC; a weight's gradient sums over the batch of tokens.
    if (produced(a)) emit(P + ".dA", OpKind::matmul, "dgrad", MatmulShape{s.batch, s.m, s.k, s.n, s.b_shared}, {dc, bw}, {a});
    if (s.b_shared) {
      emit(P + ".dB", OpKind::matmul, "wgrad", MatmulShape{1, s.k, s.n, s.batch * s.m, true}, {a, dc}, {bw});
    } else {
      emit(P + ".dB", OpKind::matmul, "wgrad", MatmulShape{s.batch, s.k, s.n, s.m, false}, {a, dc}, {bw});
    }
  }

  void attention(const Op& f, const std::string& P) {
    AttentionShape s = std::get<AttentionShape>(f.shape);
    s.backward = true;
    std::vector<TensorRef> reads = f.reads;
    reads.push_back(f.writes[0]);
    reads.push_back(grad_of(f.writes[0]));
    // q, k and v that are views of one fused tensor get one gradient tensor of the fused size.
    std::vector<TensorRef> targets;
    for (const auto& r : f.reads)
      if (needs_grad(r) && (targets.empty() || targets.back().name != r.name)) targets.push_back(r);
    emit(P, OpKind::attention, "backward", s, reads, targets);
  }

  void rows(const Op& f, const std::string& P) {
    const auto& s = std::get<RowShape>(f.shape);
    std::vector<TensorRef> reads = {f.reads[0], grad_of(f.writes[0])};
    if (f.kind == OpKind::softmax) reads[0] = f.writes[0];  // softmax backward needs its output, not its input
    emit(P, f.kind, f.variant + "_bwd", s, reads, {f.reads[0]});
    if (f.kind == OpKind::norm && f.reads.size() > 1) {
      // The weight gradient is a second kernel: a column reduction over all rows.
      emit(P + ".dw", OpKind::norm, f.variant + "_wgrad", s, {f.reads[0], grad_of(f.writes[0])}, {f.reads[1]});
    }
  }

  void elementwise(const Op& f, const std::string& P) {
    const auto& s = std::get<ElementwiseShape>(f.shape);
    if (f.writes.empty()) return;
    TensorRef dout = grad_of(f.writes[0]);
    const bool pass_through = f.variant == "add" || f.variant == "copy" || f.variant == "view";
    for (size_t i = 0; i < f.reads.size(); ++i) {
      const TensorRef& in = f.reads[i];
      if (!needs_grad(in)) continue;
      if (pass_through && !grad_.count(in.name)) {
        grad_[in.name] = dout.name;  // the gradient flows through unchanged: no kernel
        continue;
      }
      std::vector<TensorRef> reads = {dout};
      if (!pass_through)
        for (size_t j = 0; j < f.reads.size(); ++j) reads.push_back(f.reads[j]);
      emit(P + "." + std::to_string(i), OpKind::elementwise, pass_through ? "add" : f.variant + "_bwd",
           ElementwiseShape{s.elements, int64_t(reads.size()), pass_through ? 1 : s.flops_per_element + 1}, reads,
           {in});
    }
  }

  Workload& w_;
  WorkloadBuilder b_;
  std::map<std::string, size_t> producer_;
  std::map<std::string, std::string> grad_;  // tensor -> name of its (accumulated) gradient
  std::map<std::string, int> parts_;
  int64_t tp_ = 1;
  std::set<std::string> weight_slots_;
  std::set<std::string> tp_inputs_;
};

}  // namespace

bool is_weight_grad(const Op& op) {
  return op.variant == "wgrad" || op.variant == "embedding_bwd" ||
         (op.variant.size() > 6 && op.variant.compare(op.variant.size() - 6, 6, "_wgrad") == 0);
}

void append_weight_update(Workload& w, int64_t dp, bool adamw) {
  if (w.ops.empty() || (dp <= 1 && !adamw)) return;
  const DType dt = w.ops.front().dtype;
  // Weight gradients per layer, in first-seen order of layers, each tensor once.
  std::vector<std::string> layers;
  std::map<std::string, std::vector<TensorRef>> grads;
  std::set<std::string> seen;
  for (const auto& op : w.ops) {
    if (!is_weight_grad(op) || op.writes.empty()) continue;
    TensorRef g = op.writes[0];
    auto hash = g.name.find('#');  // an accumulation part: the total carries the gradient's name
    if (hash != std::string::npos) g.name = g.name.substr(0, hash);
    if (!seen.insert(g.name).second) continue;
    if (!grads.count(op.layer)) layers.push_back(op.layer);
    grads[op.layer].push_back(g);
  }
  WorkloadBuilder ob(w, DType::fp32, w.ops.front().mark);
  ob.adopt_existing();
  for (const auto& layer : layers) {
    const auto& g = grads[layer];
    double bytes = 0;
    for (const auto& t : g) bytes += t.bytes;
    ob.set_layer(layer);
    if (dp > 1)
      ob.add(layer + ".grad_all_reduce", OpKind::collective, "data_parallel",
             CollectiveShape{"all_reduce", int64_t(bytes), dp}, g, g);
    if (!adamw) continue;
    // AdamW, fused per layer (multi-tensor apply): read the fp32 master weights, the gradients and two fp32 moments;
    // write the weights, the moments and the copy in the training dtype used by the next forward.
    double n = bytes / dtype_bytes(dt);
    std::vector<TensorRef> reads = g;
    reads.push_back({layer + ".master", 4 * n});
    reads.push_back({layer + ".adam_m", 4 * n});
    reads.push_back({layer + ".adam_v", 4 * n});
    ob.add(layer + ".adamw", OpKind::elementwise, "adamw", ElementwiseShape{int64_t(n), 4, 12}, reads,
           {{layer + ".master", 4 * n}, {layer + ".adam_m", 4 * n}, {layer + ".adam_v", 4 * n},
            {layer + ".weights", bytes}});
  }
}

void append_training_step(Workload& w, const TrainingOptions& opt) {
  if (w.ops.empty()) return;
  const size_t nfwd = w.ops.size();
  const DType dt = w.ops.front().dtype;
  w.backward_start = nfwd;
  Backward bw(w, dt, opt.tp);
  bw.seed(w.ops[nfwd - 1]);
  // Layers in forward order, to walk them backwards (and recompute each before its backward).
  std::vector<std::string> layers;
  std::map<std::string, std::vector<size_t>> ops_of;
  for (size_t i = 0; i < nfwd; ++i) {
    if (!ops_of.count(w.ops[i].layer)) layers.push_back(w.ops[i].layer);
    ops_of[w.ops[i].layer].push_back(i);
  }
  // Forward layers that read each tensor: a layer's internal tensors are those only it reads.
  std::map<std::string, std::set<std::string>> readers;
  for (size_t i = 0; i < nfwd; ++i)
    for (const auto& t : w.ops[i].reads) readers[t.name].insert(w.ops[i].layer);
  for (auto l = layers.rbegin(); l != layers.rend(); ++l) {
    // Recomputation writes fresh copies of the layer's internal tensors just before its backward, so the forward
    // ones die early (the memory saving) and the backward reads the copies.
    std::map<std::string, std::string> rename;
    if (opt.recompute && l != layers.rbegin()) {
      for (size_t i : ops_of[*l])
        for (const auto& t : w.ops[i].writes)
          if (readers[t.name].size() == 1 && readers[t.name].count(*l)) rename[t.name] = t.name + ".rc";
      for (size_t i : ops_of[*l]) {
        Op copy = w.ops[i];
        for (auto& t : copy.reads) if (rename.count(t.name)) t.name = rename[t.name];
        for (auto& t : copy.writes) if (rename.count(t.name)) t.name = rename[t.name];
        bw.builder().set_layer(copy.layer);
        for (const auto& t : copy.writes) bw.note_produced(t.name);
        bw.builder().add(copy.name + ".recompute", copy.kind, copy.variant, copy.shape, copy.reads, copy.writes);
      }
    }
    const auto& idx = ops_of[*l];
    for (auto i = idx.rbegin(); i != idx.rend(); ++i) {
      Op f = w.ops[*i];
      for (auto& t : f.reads) if (rename.count(t.name)) t.name = rename[t.name];
      for (auto& t : f.writes) if (rename.count(t.name)) t.name = rename[t.name];
      bw.op(f);
    }
  }
  append_weight_update(w, opt.dp, opt.optimizer);
}

}  // namespace xpu
