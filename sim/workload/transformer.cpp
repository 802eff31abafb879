// Generator "transformer": decoder-only LLM inference (one prefill pass or one decode step) as ops, in the order an
// eager PyTorch implementation issues kernels. Two families:
//   llama: RMSNorm, rotary embeddings, SwiGLU MLP (gate/up/down), no biases, untied lm_head
//          (Touvron et al. 2023, "Llama 2", arXiv:2307.09288; HuggingFace modeling_llama.py).
//   gpt2:  LayerNorm, learned positions, fused qkv with biases, GELU 2-matrix MLP, lm_head tied to the token
//          embedding (Radford et al. 2019; HuggingFace modeling_gpt2.py).
// Tensor names are stable across ops (L3.attn.out, L3.k_cache, L3.wq, ...) so that the cache model can tell what a
// consumer finds on chip, and dependencies follow those names (see WorkloadBuilder).
#include "sim/workload/transformer.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>

#include "sim/workload/autograd.h"
#include "sim/workload/quantize.h"
#include "sim/workload/tensor_ops.h"
#include "sim/workload/builder.h"
#include "sim/workload/generator.h"

namespace xpu {
namespace {

std::vector<ParamSpec> transformer_specs() {
  ParamSpec fuse = p_bool("fuse_qkv", "", "one qkv projection instead of separate q, k, v matmuls "
                                          "(default: true for gpt2, false for llama as HuggingFace eager runs it)");
  fuse.optional = true;
  return {
      p_count("d_model", "", "hidden size", 1),
      p_count("heads", "", "query heads", 1),
      p_count("kv_heads", "0", "key/value heads (grouped-query attention); 0 = heads", 0),
      p_count("head_dim", "0", "size of one head; 0 = d_model / heads", 0),
      p_count("ffn", "", "MLP inner size", 1),
      p_count("layers", "", "decoder blocks", 1),
      p_count("vocab", "", "vocabulary size", 1),
      p_choice("arch", "llama", {"llama", "gpt2"},
               "llama: rmsnorm, rope, SwiGLU, no biases; gpt2: layernorm, learned positions, GELU, biases"),
      p_choice("dtype", "bf16", {"fp32", "tf32", "fp16", "bf16", "fp8", "int8"}, "weights and activations"),
      p_choice("weights", "dtype", {"dtype", "int8", "int4"},
               "weight-only quantization of the linear layers (inference): weights stored in int8 or int4 and "
               "dequantized to `dtype` inside each GEMM; dtype: stored in `dtype`"),
      p_count("weight_group", "0",
              "weights sharing one scale along K (int4: a scale and a zero point); 0: one scale per output channel",
              0, 1 << 20),
      p_choice("mode", "decode", {"prefill", "decode", "train"},
               "prefill: `seq` new tokens per sequence; decode: one; train: forward, backward and optimizer step "
               "over `seq` tokens per sequence"),
      p_bool("recompute", "false", "train: recompute each layer's forward before its backward (activation checkpointing)"),
      p_choice("optimizer", "adamw", {"adamw", "none"}, "train: weight update after the backward pass"),
      p_count("batch", "1", "sequences processed together", 1),
      p_count("seq", "512", "prefill: new tokens per sequence (ignored by decode, which adds one)", 1),
      p_count("kv", "0", "decode: tokens already in the KV cache of each sequence (ignored by prefill)", 0),
      p_count("prefix", "0", "prefill: tokens already cached before the new `seq` (prefix caching; ignored by decode)",
              0),
      p_bool("lm_head", "true", "final norm and vocabulary projection (logits for the last token of each sequence)"),
      fuse,
      p_choice("norm", "auto", {"auto", "layernorm", "rmsnorm"}, "normalization; auto: rmsnorm for llama, layernorm for gpt2"),
      p_bool("rope", "true", "rotary embedding kernel on q and k (llama only)"),
      p_bool("fuse_gate_up", "false", "one matmul producing gate and up side by side (llama only)"),
      p_choice("layer_code", "library", {"library", "tensor_ops"},
               "how the model code writes its layers (llama only): library: one fused framework kernel per norm and "
               "per rotary embedding (torch rms_norm, a fused rotary kernel), as HuggingFace and vLLM run them; "
               "tensor_ops: as tensor expressions, gpt-fast's model.py: RMSNorm as 8 ops, the rotary embedding as 9 "
               "per q and k, the KV cache written by index_put, with the views between them (eager only: "
               "stack compiled fuses them back)"),
      p_choice("sdpa", "flash", {"flash", "math"},
               "attention kernel: flash: one fused kernel (SDPA's flash or cuDNN backend); math: SDPA's math fallback "
               "(scale q and k, batched q k^T, an additive mask, softmax, batched product with v), as gpt-fast's "
               "decode asks for"),
      p_bool("sampler", "false",
             "decode: gpt-fast's sampler after the logits (temperature, top-k, softmax, exponential race, argmax) and "
             "its loop's bookkeeping"),
      p_bool("embed", "true", "token (and position) embedding lookup before the first block"),
      p_count("tp", "1", "tensor parallel ranks: heads, FFN and vocabulary split Megatron-style (all-reduces)", 1, 4096),
      p_count("dp", "1", "train: data parallel ranks (a gradient all-reduce per layer before the update)", 1, 1e6),
      p_count("pp", "1", "train: pipeline stages; the run simulates one middle stage (ceil(layers / pp) layers) over "
                          "its micro-batches plus the 1F1B bubble", 1, 4096),
      p_count("microbatches", "1", "train with pp > 1: micro-batches per step (batch is split among them)", 1, 1e6),
      p_count("virtual_stages", "1",
              "train with pp > 1: model chunks per device, interleaved 1F1B (Narayanan et al., SC21): the bubble falls "
              "to (pp - 1) / (virtual_stages x microbatches) and each micro-batch crosses virtual_stages times as many "
              "stage boundaries", 1, 64),
      p_count("ep", "1", "expert parallel ranks: experts split across ranks, tokens exchanged by all-to-all", 1, 4096),
      p_count("experts", "0", "mixture of experts: experts per layer (0: a dense MLP)", 0, 1024),
      p_count("top_k", "2", "mixture of experts: experts each token is routed to", 1, 64),
      p_real("expert_imbalance", "1.0",
             "mixture of experts: tokens of the busiest expert over the mean (1: perfectly balanced routing)", 1,
             1e6),
  };
}

struct Dims {
  int64_t d, hq, hkv, hd, ffn, vocab, batch, seq_q, seq_kv, tokens;
  std::vector<AttentionGroup> groups;  // a serving iteration's requests (empty: `batch` alike sequences)
  bool gpt2, fuse, rope, fuse_gate_up;
  bool tensor_ops = false, math_sdpa = false, sampler = false;
  int64_t experts, top_k;
  double imbalance;
  int64_t tp = 1, ep = 1;
  std::string norm;
};

Dims resolve(const ParamSet& p) {
  Dims x{};
  x.d = p.count("d_model");
  x.hq = p.count("heads");
  x.hkv = p.count("kv_heads") ? p.count("kv_heads") : x.hq;
  if (x.hq % x.hkv != 0)
    throw InputError(p.at("kv_heads").mark, "heads (" + std::to_string(x.hq) + ") must be a multiple of kv_heads (" +
                                                std::to_string(x.hkv) + ")");
  x.hd = p.count("head_dim");
  if (x.hd == 0) {
    if (x.d % x.hq != 0)
      throw InputError(p.at("heads").mark, "d_model (" + std::to_string(x.d) + ") is not a multiple of heads (" +
                                               std::to_string(x.hq) + "); set head_dim");
    x.hd = x.d / x.hq;
  }
  x.ffn = p.count("ffn");
  x.vocab = p.count("vocab");
  x.batch = p.count("batch");
  const std::string mode = p.str("mode");
  x.seq_q = mode == "decode" ? 1 : int64_t(p.count("seq"));
  // `kv` belongs to decode and `prefix` to prefill, so switching mode with --set never inherits the other's context.
  x.seq_kv = (mode == "decode" ? int64_t(p.count("kv")) : mode == "prefill" ? int64_t(p.count("prefix")) : 0) + x.seq_q;
  x.tokens = x.batch * x.seq_q;
  x.gpt2 = p.str("arch") == "gpt2";
  x.fuse = p.has("fuse_qkv") ? p.flag("fuse_qkv") : x.gpt2;
  x.rope = !x.gpt2 && p.flag("rope");
  x.fuse_gate_up = !x.gpt2 && p.flag("fuse_gate_up");
  x.norm = p.str("norm") != "auto" ? p.str("norm") : (x.gpt2 ? "layernorm" : "rmsnorm");
  x.tensor_ops = p.str("layer_code") == "tensor_ops";
  if (x.tensor_ops && (x.gpt2 || x.norm != "rmsnorm"))
    throw InputError(p.at("layer_code").mark, "layer_code tensor_ops writes llama's layers (rmsnorm); this model has " +
                                                  std::string(x.gpt2 ? "arch gpt2" : "norm " + x.norm));
  if (x.tensor_ops && mode == "train")
    throw InputError(p.at("layer_code").mark, "layer_code tensor_ops is modelled for inference (mode is train)");
  x.math_sdpa = p.str("sdpa") == "math";
  if (x.math_sdpa && mode == "train")
    throw InputError(p.at("sdpa").mark, "sdpa math is modelled for inference (mode is train)");
  x.sampler = p.flag("sampler");
  if (x.sampler && !p.flag("lm_head"))
    throw InputError(p.at("sampler").mark, "sampler samples from the logits: it needs lm_head: true");
  if (x.sampler && mode != "decode")
    throw InputError(p.at("sampler").mark, "sampler samples the next token of a decode step (mode is " + mode + ")");
  // Tensor parallelism: this device holds 1/tp of the heads, of the FFN and of the vocabulary; KV heads fewer than
  // the ranks are replicated.
  x.tp = int64_t(p.count("tp"));
  x.ep = int64_t(p.count("ep"));
  auto split = [&](int64_t v, const char* what) {
    if (v % x.tp) throw InputError(p.at("tp").mark, std::string(what) + " (" + std::to_string(v) +
                                                        ") is not divisible by tp (" + std::to_string(x.tp) + ")");
    return v / x.tp;
  };
  x.hq = split(x.hq, "heads");
  x.hkv = x.hkv >= x.tp ? split(x.hkv, "kv_heads") : 1;
  x.ffn = split(x.ffn, "ffn");
  x.vocab = (x.vocab + x.tp - 1) / x.tp;
  x.experts = int64_t(p.count("experts"));
  x.top_k = int64_t(p.count("top_k"));
  x.imbalance = p.real("expert_imbalance");
  if (x.experts && x.top_k > x.experts)
    throw InputError(p.at("top_k").mark, "top_k (" + std::to_string(x.top_k) + ") exceeds experts (" +
                                             std::to_string(x.experts) + ")");
  if (x.experts && x.gpt2) throw InputError(p.at("experts").mark, "mixture of experts is modelled for arch: llama");
  if (x.ep > 1 && (!x.experts || x.experts % x.ep))
    throw InputError(p.at("ep").mark, "ep (" + std::to_string(x.ep) + ") must divide the number of experts (" +
                                          std::to_string(x.experts) + ")");
  return x;
}

// Megatron tensor parallelism: column-parallel matmuls (split outputs) need an all-reduce of their input gradient in
// training; row-parallel ones (split inputs) produce partial sums that are all-reduced right away.
void column_parallel(WorkloadBuilder& b, size_t op, const Dims& x) {
  if (x.tp > 1) b.op(op).variant = "column_parallel";
}
void all_reduce_tp(WorkloadBuilder& b, const Dims& x, const std::string& name, const std::string& tensor, double bytes) {
  if (x.tp > 1)
    b.add(name, OpKind::collective, "tensor_parallel", CollectiveShape{"all_reduce", int64_t(bytes), x.tp},
          {{tensor, bytes}}, {{tensor, bytes}});
}

// The dense MLP of block `P` from its normed input `h2`, writing P + "mlp".
void add_mlp(WorkloadBuilder& b, const Dims& x, const std::string& P, const std::string& h2) {
  const double T = double(x.tokens);
  auto bias = [&](const std::string& n) { return x.gpt2 ? P + n : std::string(); };
  auto mm = [&](int64_t m, int64_t k, int64_t n) { return MatmulShape{1, m, n, k, true}; };
  if (!x.gpt2) {
    std::string gate = P + "gate", up = P + "up", variant;
    if (x.fuse_gate_up) {
      column_parallel(b, b.matmul(P + "gate_up_proj", mm(x.tokens, x.d, 2 * x.ffn), h2, P + "w_gate_up", P + "gate_up"), x);
      gate = up = P + "gate_up";
      variant = "_strided";  // halves of one tensor: the framework falls back to its non-vectorized kernel
    } else {
      column_parallel(b, b.matmul(P + "gate_proj", mm(x.tokens, x.d, x.ffn), h2, P + "w_gate", gate), x);
      column_parallel(b, b.matmul(P + "up_proj", mm(x.tokens, x.d, x.ffn), h2, P + "w_up", up), x);
    }
    // Eager silu(gate) * up is two kernels: silu (exp, add, divide: ~4 flops) then the product.
    const size_t silu = b.add(P + "silu", OpKind::elementwise, "silu" + variant, ElementwiseShape{x.tokens * x.ffn, 1, 4},
                              {b.t(gate, T * x.ffn)}, {b.t(P + "silu", T * x.ffn)});
    if (x.fuse_gate_up) b.op(silu).host_calls += 1;  // the chunk into gate and up
    b.add(P + "mul", OpKind::elementwise, "mul" + variant, ElementwiseShape{x.tokens * x.ffn, 2, 1},
          {b.t(P + "silu", T * x.ffn), b.t(up, T * x.ffn)}, {b.t(P + "act", T * x.ffn)});
  } else {
    column_parallel(b, b.matmul(P + "up_proj", mm(x.tokens, x.d, x.ffn), h2, P + "w_up", P + "up", bias("b_up")), x);
    // tanh-approximated GELU ("gelu_new" in GPT-2): a handful of multiplies and adds plus one tanh.
    b.add(P + "gelu", OpKind::elementwise, "gelu", ElementwiseShape{x.tokens * x.ffn, 1, 8},
          {b.t(P + "up", T * x.ffn)}, {b.t(P + "act", T * x.ffn)});
  }
  b.matmul(P + "down_proj", mm(x.tokens, x.ffn, x.d), P + "act", P + "w_down", P + "mlp", bias("b_down"));
  all_reduce_tp(b, x, P + "mlp_all_reduce", P + "mlp", T * x.d * dtype_bytes(b.dtype()));
}

// Mixture of experts as eager implementations run it (HuggingFace Mixtral): a router GEMM and its softmax/top-k,
// then for each expert a gather of its tokens, its SwiGLU MLP on those tokens, and a scatter-add of the results.
// `expert_imbalance` gives the busiest expert that many times the mean load; the others share the rest.
void add_moe(WorkloadBuilder& b, const Dims& x, const std::string& P, const std::string& h2) {
  const double T = double(x.tokens), E = double(x.experts);
  auto mm = [&](int64_t m, int64_t k, int64_t n) { return MatmulShape{1, m, n, k, true}; };
  b.matmul(P + "router", mm(x.tokens, x.d, x.experts), h2, P + "w_router", P + "router_logits");
  b.add(P + "topk", OpKind::softmax, "softmax_topk", RowShape{x.tokens, x.experts},
        {b.t(P + "router_logits", T * E)}, {b.t(P + "routing", T * x.top_k * 2)});
  // Expert parallelism: this rank holds experts/ep experts and receives their tokens from every rank; tokens travel
  // by all-to-all to their experts (dispatch) and back (combine).
  const double eb = dtype_bytes(b.dtype());
  const double assignments = T * x.ep * x.top_k, mean = assignments / E;
  const double busiest = std::min(assignments, mean * x.imbalance);
  const double rest = E > 1 ? (assignments - busiest) / (E - 1) : 0;
  if (x.ep > 1)
    b.add(P + "dispatch", OpKind::collective, "expert_parallel",
          CollectiveShape{"all_to_all", int64_t(T * x.top_k * x.d * eb), x.ep}, {b.t(h2, T * x.d)}, {b.t(h2, T * x.d)});
  std::string acc;
  for (int64_t e = 0; e < x.experts / x.ep; ++e) {
    const int64_t tokens = int64_t(std::ceil(e == 0 ? busiest : rest));
    if (tokens <= 0) continue;
    const double t = double(tokens);
    const std::string E_ = P + "expert" + std::to_string(e) + ".";
    b.add(E_ + "gather", OpKind::elementwise, "copy", ElementwiseShape{tokens * x.d, 1, 0},
          {b.t(h2, t * x.d), b.t(P + "routing", T * x.top_k * 2)}, {b.t(E_ + "in", t * x.d)});
    b.matmul(E_ + "gate_proj", mm(tokens, x.d, x.ffn), E_ + "in", E_ + "w_gate", E_ + "gate");
    b.matmul(E_ + "up_proj", mm(tokens, x.d, x.ffn), E_ + "in", E_ + "w_up", E_ + "up");
    b.add(E_ + "silu", OpKind::elementwise, "silu", ElementwiseShape{tokens * x.ffn, 1, 4}, {b.t(E_ + "gate", t * x.ffn)},
          {b.t(E_ + "silu", t * x.ffn)});
    b.add(E_ + "mul", OpKind::elementwise, "mul", ElementwiseShape{tokens * x.ffn, 2, 1},
          {b.t(E_ + "silu", t * x.ffn), b.t(E_ + "up", t * x.ffn)}, {b.t(E_ + "act", t * x.ffn)});
    b.matmul(E_ + "down_proj", mm(tokens, x.ffn, x.d), E_ + "act", E_ + "w_down", E_ + "out");
    // index_add_ into the layer output: reads the expert's rows and the running sum.
    std::vector<TensorRef> reads = {b.t(E_ + "out", t * x.d)};
    if (!acc.empty()) reads.push_back(b.t(acc, T * x.d));
    b.add(E_ + "scatter", OpKind::elementwise, "index_add", ElementwiseShape{tokens * x.d, int64_t(reads.size()), 1},
          reads, {b.t(P + "mlp", T * x.d)});
    acc = P + "mlp";
  }
  if (x.ep > 1)
    b.add(P + "combine", OpKind::collective, "expert_parallel",
          CollectiveShape{"all_to_all", int64_t(T * x.top_k * x.d * eb), x.ep}, {b.t(P + "mlp", T * x.d)},
          {b.t(P + "mlp", T * x.d)});
}

// A norm over the residual stream: one library kernel, or the model code's tensor ops.
void add_norm(WorkloadBuilder& b, const Dims& x, const std::string& name, const std::string& in, const std::string& out) {
  const double T = double(x.tokens);
  if (x.tensor_ops) add_rmsnorm_ops(b, name, x.tokens, x.d, in, out);
  else
    b.add(name, OpKind::norm, x.norm, RowShape{x.tokens, x.d}, {b.t(in, T * x.d), b.t(name + ".w", x.d)},
          {b.t(out, T * x.d)});
}

// One decoder block; `in` is the residual stream entering it. Returns the name of the stream leaving it.
std::string add_layer(WorkloadBuilder& b, const Dims& x, int layer, const std::string& in) {
  const std::string L = "L" + std::to_string(layer), P = L + ".";
  b.set_layer(L);
  const double T = double(x.tokens), qdim = double(x.hq * x.hd), kvdim = double(x.hkv * x.hd);
  auto bias = [&](const std::string& n) { return x.gpt2 ? P + n : std::string(); };
  auto mm = [&](int64_t m, int64_t k, int64_t n) { return MatmulShape{1, m, n, k, true}; };

  add_norm(b, x, P + "attn_norm", in, P + "attn_norm.out");
  const std::string h = P + "attn_norm.out";
  // The framework calls between kernels that launch nothing: splitting heads (a view and a transpose each of q, k
  // and v, a split of a fused qkv output), merging them back (a transpose and a view), a chunk of a fused gate/up.
  // gpt-fast's model code makes more: its rotary embedding reshapes, views and indexes pairs (11 calls per tensor),
  // and repeat_interleave makes two more.
  const int head_views = x.tensor_ops ? (x.hq == x.hkv ? 2 : 0) : 6 + (x.fuse ? 1 : 0);
  const int merge_views = x.tensor_ops ? 3 : 2;

  // Rope rewrites q and k; without rope, k goes straight into the cache. New keys/values are appended to
  // L.k_cache / L.v_cache, which attention then reads whole (kv + new tokens).
  std::string q_name, k_name = P + "k_cache", v_name = P + "v_cache";
  if (x.tensor_ops) {
    // gpt-fast: q, k, v (views of one fused output, or three projections), the rotary embedding of q and of k, and
    // KVCache.update's index_put of k and v into the cache.
    std::string qs = P + "qkv", ks = P + "qkv", vs = P + "qkv";
    if (x.fuse) {
      column_parallel(b, b.matmul(P + "qkv_proj", mm(x.tokens, x.d, int64_t(qdim + 2 * kvdim)), h, P + "wqkv",
                                  P + "qkv"), x);
    } else {
      qs = P + "q", ks = P + "k", vs = P + "v";
      column_parallel(b, b.matmul(P + "q_proj", mm(x.tokens, x.d, int64_t(qdim)), h, P + "wq", qs), x);
      column_parallel(b, b.matmul(P + "k_proj", mm(x.tokens, x.d, int64_t(kvdim)), h, P + "wk", ks), x);
      column_parallel(b, b.matmul(P + "v_proj", mm(x.tokens, x.d, int64_t(kvdim)), h, P + "wv", vs), x);
    }
    // Each rotary embedding makes 11 calls of its own (a reshape, a view of the table, eight pair selections, a
    // flatten); the split and the three views come before the first, the three transposes before the cache write.
    const int head_split = 3 + (x.fuse ? 1 : 0);
    std::string k_new = ks;
    q_name = qs;
    if (x.rope) {
      b.op(add_rotary_ops(b, P + "rope_q", x.tokens, x.hq * x.hd, x.hd, qs, P + "q_rot")).host_calls += 11 + head_split;
      b.op(add_rotary_ops(b, P + "rope_k", x.tokens, x.hkv * x.hd, x.hd, ks, P + "k_rot")).host_calls += 11;
      q_name = P + "q_rot";
      k_new = P + "k_rot";
    }
    b.op(b.add(P + "k_store", OpKind::elementwise, "index_put", ElementwiseShape{int64_t(T * kvdim), 1, 0},
               {b.t(k_new, T * kvdim)}, {b.t(P + "k_cache", T * kvdim)}))
        .host_calls += 3 + (x.rope ? 0 : head_split);
    b.add(P + "v_store", OpKind::elementwise, "index_put", ElementwiseShape{int64_t(T * kvdim), 1, 0},
          {b.t(vs, T * kvdim)}, {b.t(P + "v_cache", T * kvdim)});
  } else if (x.fuse) {
    column_parallel(b, b.matmul(P + "qkv_proj", mm(x.tokens, x.d, int64_t(qdim + 2 * kvdim)), h, P + "wqkv", P + "qkv",
                                bias("bqkv")), x);
    if (x.rope) {
      // vLLM-style fused rotary + cache write: one pass over qkv; only q and k get the rotation's arithmetic.
      b.add(P + "rope", OpKind::elementwise, "rope",
            ElementwiseShape{int64_t(T * (qdim + 2 * kvdim)), 1, 3 * (qdim + kvdim) / (qdim + 2 * kvdim)},
            {b.t(P + "qkv", T * (qdim + 2 * kvdim))},
            {b.t(P + "q_rot", T * qdim), b.t(P + "k_cache", T * kvdim), b.t(P + "v_cache", T * kvdim)});
      q_name = P + "q_rot";
    } else if (x.gpt2) {
      b.add(P + "kv_write", OpKind::elementwise, "copy", ElementwiseShape{int64_t(T * 2 * kvdim), 1, 0},
            {b.t(P + "qkv", T * 2 * kvdim)}, {b.t(P + "k_cache", T * kvdim), b.t(P + "v_cache", T * kvdim)});
      q_name = P + "qkv";  // attention reads q as a view of the fused output
    } else {
      // No cache write: attention reads q, k and v as views of the fused output (SDPA on a prefill).
      q_name = k_name = v_name = P + "qkv";
    }
  } else {
    const std::string k_out = x.gpt2 ? P + "k_cache" : P + "k";
    column_parallel(b, b.matmul(P + "q_proj", mm(x.tokens, x.d, int64_t(qdim)), h, P + "wq", P + "q", bias("bq")), x);
    column_parallel(b, b.matmul(P + "k_proj", mm(x.tokens, x.d, int64_t(kvdim)), h, P + "wk", k_out, bias("bk")), x);
    column_parallel(b, b.matmul(P + "v_proj", mm(x.tokens, x.d, int64_t(kvdim)), h, P + "wv", P + "v_cache", bias("bv")),
                    x);
    if (x.rope) {
      b.add(P + "rope", OpKind::elementwise, "rope", ElementwiseShape{int64_t(T * (qdim + kvdim)), 1, 3},
            {b.t(P + "q", T * qdim), b.t(P + "k", T * kvdim)},
            {b.t(P + "q_rot", T * qdim), b.t(P + "k_cache", T * kvdim)});
      q_name = P + "q_rot";
    } else {
      if (!x.gpt2) b.add(P + "k_store", OpKind::elementwise, "copy", ElementwiseShape{int64_t(T * kvdim), 1, 0},
                         {b.t(P + "k", T * kvdim)}, {b.t(P + "k_cache", T * kvdim)});
      q_name = P + "q";
    }
  }

  std::vector<size_t> attention_ops;
  if (x.groups.empty()) {
    AttentionShape a{x.batch, x.hq, x.hkv, x.seq_q, x.seq_kv, x.hd, true, false};
    const double kv_cache = double(x.batch) * x.seq_kv * kvdim;
    if (x.math_sdpa)
      b.op(add_math_attention(b, P + "attn", a, q_name, k_name, v_name, P + "attn.out")).host_calls += head_views;
    else
      b.op(b.add(P + "attn", OpKind::attention, "", a,
                 {b.t(q_name, T * qdim), b.t(k_name, kv_cache), b.t(v_name, kv_cache)},
                 {b.t(P + "attn.out", T * qdim)}))
          .host_calls += head_views;
  } else {
    // A serving iteration: one attention kernel per group of alike requests (the decodes, each prefill chunk), each
    // reading its own slice of q and its own KV cache (the tokens cached before plus the new ones).
    for (size_t g = 0; g < x.groups.size(); ++g) {
      const AttentionGroup& G = x.groups[g];
      const std::string sfx = x.groups.size() > 1 ? ".g" + std::to_string(g) : "";
      const double q_bytes = double(G.batch) * G.seq_q * qdim, kv_cache = double(G.batch) * G.seq_kv * kvdim;
      const AttentionShape a{G.batch, x.hq, x.hkv, G.seq_q, G.seq_kv, x.hd, true, false};
      const size_t first =
          x.math_sdpa ? add_math_attention(b, P + "attn" + sfx, a, q_name, k_name + sfx, v_name + sfx, P + "attn.out")
                      : b.add(P + "attn" + sfx, OpKind::attention, "", a,
                              {b.t(q_name, q_bytes), b.t(k_name + sfx, kv_cache), b.t(v_name + sfx, kv_cache)},
                              {b.t(P + "attn.out", q_bytes)});
      if (g == 0) b.op(first).host_calls += head_views;
      attention_ops.push_back(b.size() - 1);
    }
  }
  const size_t o_proj =
      b.matmul(P + "o_proj", mm(x.tokens, int64_t(qdim), x.d), P + "attn.out", P + "wo", P + "o", bias("bo"));
  b.op(o_proj).host_calls += merge_views;
  // Every group's output feeds the projection, not only the last writer of attn.out.
  for (size_t a : attention_ops) {
    auto& deps = b.op(o_proj).deps;
    if (std::find(deps.begin(), deps.end(), a) == deps.end()) deps.push_back(a);
  }
  all_reduce_tp(b, x, P + "attn_all_reduce", P + "o", T * x.d * dtype_bytes(b.dtype()));
  b.add(P + "attn_add", OpKind::elementwise, "add", ElementwiseShape{x.tokens * x.d, 2, 1},
        {b.t(in, T * x.d), b.t(P + "o", T * x.d)}, {b.t(P + "resid", T * x.d)});

  add_norm(b, x, P + "mlp_norm", P + "resid", P + "mlp_norm.out");
  const std::string h2 = P + "mlp_norm.out";
  if (x.experts) add_moe(b, x, P, h2);
  else add_mlp(b, x, P, h2);
  b.add(P + "mlp_add", OpKind::elementwise, "add", ElementwiseShape{x.tokens * x.d, 2, 1},
        {b.t(P + "resid", T * x.d), b.t(P + "mlp", T * x.d)}, {b.t(P + "out", T * x.d)});
  return P + "out";
}

// The forward pass: embedding (optional), `layers` blocks, lm_head (optional). Returns the stream's last tensor.
std::string add_forward(WorkloadBuilder& b, const Dims& x, const std::string& mode, int layers, bool embed,
                        bool lm_head, std::string stream) {
  const double T = double(x.tokens);
  b.set_layer("embed");
  if (!embed) {
    // The residual stream starts as an input already on the device.
  } else if (!x.gpt2) {
    b.add("embed", OpKind::embedding_bag, "", EmbeddingBagShape{1, x.vocab, x.d, x.tokens, 1},
          {b.t("embed.w", T * x.d)}, {b.t(stream, T * x.d)});
  } else {
    b.add("embed", OpKind::embedding_bag, "", EmbeddingBagShape{1, x.vocab, x.d, x.tokens, 1},
          {b.t("embed.w", T * x.d)}, {b.t("embed.tok", T * x.d)});
    // Learned positions: only the rows for the positions in use are read.
    b.add("pos_embed", OpKind::embedding_bag, "", EmbeddingBagShape{1, x.seq_kv, x.d, x.tokens, 1},
          {b.t("pos_embed.w", T * x.d)}, {b.t("embed.pos", T * x.d)});
    b.add("embed_add", OpKind::elementwise, "add", ElementwiseShape{x.tokens * x.d, 2, 1},
          {b.t("embed.tok", T * x.d), b.t("embed.pos", T * x.d)}, {b.t(stream, T * x.d)});
  }
  if (x.tensor_ops && x.rope) {
    // gpt-fast's forward looks up the rotary table's rows for the positions in use (freqs_cis[input_pos]), and
    // the causal mask's rows when attention takes the mask (mask = causal_mask[None, None, input_pos]).
    const double table = T * double(x.hd);
    b.add("rope_table", OpKind::elementwise, "index", ElementwiseShape{int64_t(table), 1, 0},
          {b.t("rope_table.all", table)}, {b.t("freqs_cis", table)});
  }
  if (x.tensor_ops && x.math_sdpa) {
    const double mask = double(x.seq_q) * double(x.seq_kv);
    b.add("mask_rows", OpKind::elementwise, "index", ElementwiseShape{int64_t(mask), 1, 0}, {{"causal_mask", mask}},
          {{"attn_mask", mask}});
  }
  for (int i = 0; i < layers; ++i) stream = add_layer(b, x, i, stream);
  if (lm_head) {
    b.set_layer("head");
    add_norm(b, x, "final_norm", stream, "final_norm.out");
    // Inference needs logits only for the last token of each sequence (HF logits_to_keep=1, vLLM); training needs
    // them for every token, followed by the cross-entropy's softmax. GPT-2 ties the projection to the embedding.
    const bool train = mode == "train";
    const int64_t rows = train ? x.tokens : x.batch;
    b.matmul("lm_head", MatmulShape{1, rows, x.vocab, x.d, true}, "final_norm.out", x.gpt2 ? "embed.w" : "lm_head.w",
             "logits");
    if (train)
      b.add("cross_entropy", OpKind::softmax, "log_softmax", RowShape{rows, x.vocab},
            {b.t("logits", double(rows) * x.vocab)}, {b.t("loss.grad_in", double(rows) * x.vocab)});
    stream = train ? "loss.grad_in" : "logits";
    if (x.sampler) {
      b.set_layer("sample");
      add_sampler_ops(b, x.batch, x.vocab, "logits");
    }
  }
  return stream;
}

TrainingOptions training_options(const ParamSet& p) {
  TrainingOptions t;
  t.recompute = p.flag("recompute");
  t.optimizer = p.str("optimizer") == "adamw";
  t.tp = int64_t(p.count("tp"));
  t.dp = int64_t(p.count("dp"));
  return t;
}

// Pipeline parallelism, as seen by one middle stage: each micro-batch arrives from the previous stage, runs the
// stage's layers, leaves for the next, and its gradient comes back the same way. The micro-batches run one after the
// other (1F1B's steady state alternates a forward and a backward); the bubble of the schedule is an explicit op
// sized by the stage's simulated work; then the weight gradients accumulated over all micro-batches are
// all-reduced (data parallel) and applied.
void add_pipeline_stage(Workload& w, const ParamSet& p, Dims x) {
  const int64_t pp = int64_t(p.count("pp")), m = int64_t(p.count("microbatches"));
  const int64_t layers = int64_t(p.count("layers"));
  // Layers that do not divide among the stages: the middle stages carry ceil(layers / pp) each and the first and
  // last stages the rest (Llama 3 405B's 126 layers on 16 stages: one layer fewer on each end, arXiv:2407.21783
  // section 3.3.2); the simulated middle stage sets the pace.
  const int64_t stage_layers = (layers + pp - 1) / pp;
  if (pp >= 2 && layers - (pp - 2) * stage_layers < 2)
    throw InputError(p.at("pp").mark, "layers (" + std::to_string(layers) + ") are too few for pp (" +
                                          std::to_string(pp) + ") stages: the middle stages would carry " +
                                          std::to_string(stage_layers) + " each and leave the first or last none");
  if (x.batch % m) throw InputError(p.at("microbatches").mark, "batch (" + std::to_string(x.batch) +
                                                                    ") is not divisible by microbatches (" +
                                                                    std::to_string(m) + ")");
  x.batch /= m;
  x.tokens = x.batch * x.seq_q;
  const DType dt = parse_dtype(p.str("dtype"));
  const double act = double(x.tokens) * x.d * dtype_bytes(dt);

  Workload mb;
  mb.name = w.name;
  WorkloadBuilder b(mb, dt, p.at("d_model").mark);
  b.set_layer("pipeline");
  b.add("recv", OpKind::collective, "pipeline", CollectiveShape{"send_recv", int64_t(act), 2}, {},
        {{"stage.in", act}});
  // Interleaved 1F1B: the device holds v chunks of its layers, each a stage of its own, so a micro-batch leaves
  // and comes back between them (a send to the next device, a receive from the previous one).
  const int64_t v = int64_t(p.count("virtual_stages"));
  if (stage_layers % v)
    throw InputError(p.at("virtual_stages").mark, "a stage's " + std::to_string(stage_layers) +
                                                      " layers do not split into virtual_stages (" + std::to_string(v) +
                                                      ") equal chunks");
  std::string out = "stage.in";
  for (int64_t i = 0; i < stage_layers; ++i) {
    out = add_layer(b, x, int(i), out);
    if (v > 1 && (i + 1) % (stage_layers / v) == 0 && i + 1 < stage_layers) {
      const std::string c = std::to_string((i + 1) / (stage_layers / v));
      b.set_layer("pipeline chunk " + c);
      b.add("send.c" + c, OpKind::collective, "pipeline", CollectiveShape{"send_recv", int64_t(act), 2}, {{out, act}},
            {{"chunk.out." + c, act}});
      b.add("recv.c" + c, OpKind::collective, "pipeline", CollectiveShape{"send_recv", int64_t(act), 2}, {},
            {{"chunk.in." + c, act}});
      out = "chunk.in." + c;
    }
  }
  // Its own layer, so that the backward pass, which walks layers in reverse, starts with the gradient the next stage
  // sends back ("send.bwd") and ends by sending one to the previous stage ("recv.bwd").
  b.set_layer("pipeline out");
  b.add("send", OpKind::collective, "pipeline", CollectiveShape{"send_recv", int64_t(act), 2}, {{out, act}},
        {{"stage.out", act}});
  TrainingOptions t = training_options(p);
  t.optimizer = false;
  t.dp = 1;
  append_training_step(mb, t);

  // Replicate per micro-batch: activations and their gradients get their own names; weights and weight gradients
  // are shared, so the gradients accumulate.
  std::set<std::string> produced, shared;
  for (const auto& op : mb.ops)
    for (const auto& tr : op.writes) produced.insert(tr.name);
  for (const auto& op : mb.ops)
    for (const auto& tr : op.reads)
      if (!produced.count(tr.name)) shared.insert(tr.name);
  for (const auto& name : std::set<std::string>(shared)) shared.insert("d:" + name);
  WorkloadBuilder wb(w, dt, p.at("d_model").mark);
  for (int64_t k = 0; k < m; ++k) {
    const std::string sfx = ".mb" + std::to_string(k);
    for (const Op& op : mb.ops) {
      auto rename = [&](std::vector<TensorRef> v) {
        for (auto& tr : v)
          if (!shared.count(tr.name)) tr.name += sfx;
        return v;
      };
      wb.set_layer(op.layer);
      size_t i = wb.add(op.name + sfx, op.kind, op.variant, op.shape, rename(op.reads), rename(op.writes));
      wb.op(i).dtype = op.dtype;
      wb.op(i).out_dtype = op.out_dtype;
      wb.op(i).host_calls = op.host_calls;
      if (k == 0 && mb.backward_start < mb.ops.size() && &op == &mb.ops[mb.backward_start]) w.backward_start = i;
    }
  }
  wb.set_layer("pipeline");
  wb.add("bubble", OpKind::collective, "pipeline_bubble",
         CollectiveShape{"pipeline_bubble", 0, pp, m * int64_t(p.count("virtual_stages"))}, {}, {});
  const size_t bubble = w.ops.size() - 1;
  w.ops[bubble].deps.clear();
  for (size_t i = 0; i < bubble; ++i) w.ops[bubble].deps.push_back(i);
  append_weight_update(w, int64_t(p.count("dp")), p.str("optimizer") == "adamw");
  for (size_t i = bubble + 1; i < w.ops.size(); ++i) w.ops[i].deps.push_back(bubble);  // after the pipeline drains
}

Workload build_transformer(const ParamSet& p, const std::string& name) {
  const Dims x = resolve(p);
  Workload w;
  w.name = name;
  const std::string mode = p.str("mode");
  const int64_t pp = int64_t(p.count("pp"));
  w.description = name + " " + mode + " batch=" + std::to_string(x.batch) +
                  (mode != "decode" ? " seq=" + std::to_string(x.seq_q) +
                                           (p.count("prefix") ? " prefix=" + std::to_string(p.count("prefix")) : "")
                                     : " kv=" + std::to_string(p.count("kv"))) +
                  " layers=" + std::to_string(p.count("layers")) +
                  (p.count("tp") > 1 ? " tp=" + std::to_string(p.count("tp")) : "") +
                  (pp > 1 ? " pp=" + std::to_string(pp) + " microbatches=" + std::to_string(p.count("microbatches")) +
                                (p.count("virtual_stages") > 1
                                     ? " virtual_stages=" + std::to_string(p.count("virtual_stages"))
                                     : std::string())
                          : "") +
                  (p.count("dp") > 1 ? " dp=" + std::to_string(p.count("dp")) : "") +
                  (p.count("ep") > 1 ? " ep=" + std::to_string(p.count("ep")) : "");
  w.items = double(x.batch) * double(x.seq_q);
  w.item = "token";
  w.parallel = {{"tp", int64_t(p.count("tp"))}, {"pp", pp}, {"dp", int64_t(p.count("dp"))}, {"ep", int64_t(p.count("ep"))}};
  if (pp == 1 && p.count("virtual_stages") > 1)
    throw InputError(p.at("virtual_stages").mark, "virtual_stages (interleaved 1F1B) needs pipeline stages (pp > 1)");
  if (pp > 1) {
    if (mode != "train") throw InputError(p.at("pp").mark, "pipeline parallelism (pp > 1) is modelled for mode: train");
    add_pipeline_stage(w, p, x);
    return w;
  }
  WorkloadBuilder b(w, parse_dtype(p.str("dtype")), p.at("d_model").mark);
  add_forward(b, x, mode, int(p.count("layers")), p.flag("embed"), p.flag("lm_head"), "embed.out");
  if (mode == "train") append_training_step(w, training_options(p));
  if (p.str("weights") != "dtype") {
    if (mode == "train") throw InputError(p.at("weights").mark, "weight-only quantization is for inference (mode is train)");
    quantize_weights(w, p.str("weights") == "int4" ? 4 : 8, int64_t(p.count("weight_group")));
    w.description += " weights=" + p.str("weights") +
                     (p.count("weight_group") ? " group=" + std::to_string(p.count("weight_group")) : "");
  }
  return w;
}

}  // namespace

Workload build_transformer_iteration(const ParamSet& p, const std::vector<AttentionGroup>& groups,
                                     const std::string& name, int stage, int stages) {
  if (groups.empty()) throw std::logic_error("build_transformer_iteration: an iteration without requests");
  if (p.count("ep") > 1)
    throw InputError(p.at("ep").mark, "serving simulates tensor and pipeline parallelism inside a replica (tp, pp); "
                                      "ep is not modelled there");
  const int64_t layers = int64_t(p.count("layers"));
  if (stages < 1 || stage < 0 || stage >= stages) throw std::logic_error("build_transformer_iteration: bad stage");
  if (layers % stages)
    throw InputError(p.at("pp").mark, "layers (" + std::to_string(layers) + ") are not divisible by pp (" +
                                          std::to_string(stages) + ")");
  Dims x = resolve(p);
  x.groups = groups;
  x.tokens = 0;
  x.batch = 0;
  x.seq_kv = 1;
  for (const auto& g : groups) {
    x.tokens += g.batch * g.seq_q;
    x.batch += g.batch;
    x.seq_kv = std::max(x.seq_kv, g.seq_kv);
  }
  x.seq_q = std::max<int64_t>(1, x.tokens / std::max<int64_t>(1, x.batch));
  Workload w;
  w.name = name;
  w.description = name + " serving iteration: " + std::to_string(x.tokens) + " tokens of " + std::to_string(x.batch) +
                  " requests" + (stages > 1 ? ", pipeline stage " + std::to_string(stage) : "");
  w.items = double(x.tokens);
  w.item = "token";
  w.parallel = {{"tp", int64_t(p.count("tp"))}, {"pp", stages}, {"dp", 1}, {"ep", 1}};
  const DType dt = parse_dtype(p.str("dtype"));
  WorkloadBuilder b(w, dt, p.at("d_model").mark);
  // A pipeline stage runs its share of the layers; the first embeds, the last projects to the vocabulary, and each
  // but the last sends its activations on (the next stage's iteration starts when they have arrived).
  const bool first = stage == 0, last = stage == stages - 1;
  std::string out = add_forward(b, x, "prefill", int(layers / stages), first && p.flag("embed"),
                                last && p.flag("lm_head"), first ? "embed.out" : "stage.in");
  if (!last) {
    const double act = double(x.tokens) * double(x.d) * dtype_bytes(dt);
    b.set_layer("pipeline");
    b.add("send", OpKind::collective, "pipeline", CollectiveShape{"send_recv", int64_t(act), 2}, {{out, act}},
          {{"stage.out", act}});
  }
  if (p.str("weights") != "dtype") quantize_weights(w, p.str("weights") == "int4" ? 4 : 8, int64_t(p.count("weight_group")));
  return w;
}

XPU_REGISTER_GENERATOR("transformer",
                       "decoder-only transformer (llama or gpt2 family): one prefill pass, one decode step over "
                       "`batch` sequences with `kv` tokens cached, or one training step (forward, backward, AdamW)",
                       transformer_specs(), build_transformer);

}  // namespace xpu
