#include "sim/validate/case_workload.h"

#include "sim/config/config_tree.h"
#include "sim/workload/loader.h"

namespace xpu {
namespace {

Workload single_op(const std::string& name, Op op) {
  Workload w;
  w.name = name;
  w.ops.push_back(std::move(op));
  return w;
}

int64_t need_int(const nlohmann::json& row, const char* key) {
  if (!row.contains(key) || !row[key].is_number()) throw InputError(std::string("missing number field '") + key + "'");
  double v = row[key].get<double>();
  if (v < 1) throw InputError(std::string("field '") + key + "' must be at least 1");
  return int64_t(v);
}

std::string text(const nlohmann::json& row, const char* key, const std::string& def = "") {
  if (!row.contains(key)) {
    if (!def.empty()) return def;
    throw InputError(std::string("missing text field '") + key + "'");
  }
  return row[key].is_string() ? row[key].get<std::string>() : row[key].dump();
}

DType dtype_of(const nlohmann::json& row, const char* key = "dtype", const std::string& def = "bfloat16") {
  std::string d = text(row, key, def);
  try {
    return parse_dtype(d);
  } catch (const std::invalid_argument& e) {
    throw InputError(e.what());
  }
}

Op single(const std::string& name, OpKind kind, DType dt, OpShape shape, std::vector<TensorRef> reads, TensorRef out) {
  Op op;
  op.name = name;
  op.kind = kind;
  op.dtype = op.out_dtype = dt;
  op.shape = shape;
  op.reads = std::move(reads);
  op.writes = {std::move(out)};
  return op;
}

Workload gemm(const nlohmann::json& r) {
  int64_t m = need_int(r, "M"), n = need_int(r, "N"), k = need_int(r, "K");
  DType dt = dtype_of(r);
  // fp8 GEMMs write a wider type (the calibration's fp8 e4m3 rows produce bf16).
  DType out = r.contains("out_dtype") ? dtype_of(r, "out_dtype") : (dt == DType::fp8 ? DType::bf16 : dt);
  if (dt == DType::fp32 && r.value("tf32", false)) dt = DType::tf32;
  double eb = dtype_bytes(dt);
  Op op = single("gemm", OpKind::matmul, dt, MatmulShape{1, m, n, k, true}, {{"A", m * k * eb}, {"B", k * n * eb}},
                 {"C", m * n * dtype_bytes(out)});
  op.out_dtype = out;
  // The library's schedule, when the measurement's source says which (Vidur's vLLM: data-parallel tiles).
  if (r.contains("gemm_schedule")) {
    op.gemm_schedule = text(r, "gemm_schedule");
    if (op.gemm_schedule != "auto" && op.gemm_schedule != "data_parallel" && op.gemm_schedule != "stream_k")
      throw InputError("field 'gemm_schedule': expected auto, data_parallel or stream_k, found '" +
                       op.gemm_schedule.substr(0, 40) + "'");
    if (op.gemm_schedule == "auto") op.gemm_schedule.clear();
  }
  return single_op("gemm", op);
}

// A kind is a phase (prefill or decode) and optional tokens that other tools append: causal / noncausal, and the head
// grouping (gqa, mqa, mha). The grouping is read from Hq and Hkv, so a token only has to agree with them.
void apply_attention_kind(const std::string& kind, const nlohmann::json& r, AttentionShape& s) {
  std::vector<std::string> tokens;
  for (size_t i = 0, j; i <= kind.size(); i = j + 1) {
    j = kind.find_first_of("_-", i);
    if (j == std::string::npos) j = kind.size();
    if (j > i) tokens.push_back(kind.substr(i, j - i));
  }
  const std::string expected = "expected prefill or decode, optionally followed by _causal, _noncausal, _gqa, _mqa or _mha";
  if (tokens.empty() || (tokens[0] != "prefill" && tokens[0] != "decode"))
    throw InputError("unknown attention kind '" + kind + "' (" + expected + ")");
  const bool decode = tokens[0] == "decode";
  s.causal = false;
  if (decode && !r.contains("Sq")) s.seq_q = 1;
  for (size_t i = 1; i < tokens.size(); ++i) {
    const std::string& t = tokens[i];
    if (t == "causal") s.causal = true;
    else if (t == "noncausal") s.causal = false;
    else if (t == "gqa" && !(s.heads_q > s.heads_kv && s.heads_kv > 1))
      throw InputError("attention kind '" + kind + "' says grouped-query heads, but Hq " + std::to_string(s.heads_q) +
                       " and Hkv " + std::to_string(s.heads_kv) + " are not 1 < Hkv < Hq");
    else if (t == "mqa" && s.heads_kv != 1)
      throw InputError("attention kind '" + kind + "' says multi-query, but Hkv is " + std::to_string(s.heads_kv) +
                       ", not 1");
    else if (t == "mha" && s.heads_kv != s.heads_q)
      throw InputError("attention kind '" + kind + "' says one KV head per query head, but Hq " +
                       std::to_string(s.heads_q) + " != Hkv " + std::to_string(s.heads_kv));
    else if (t != "gqa" && t != "mqa" && t != "mha")
      throw InputError("unknown token '" + t + "' in attention kind '" + kind + "' (" + expected + ")");
  }
}

Workload attention(const nlohmann::json& r, bool backward) {
  std::string kind = text(r, "kind");
  AttentionShape s;
  s.batch = need_int(r, "B");
  s.heads_q = need_int(r, "Hq");
  s.heads_kv = r.contains("Hkv") ? need_int(r, "Hkv") : s.heads_q;
  s.seq_q = r.contains("Sq") ? need_int(r, "Sq") : 1;
  s.seq_kv = need_int(r, "Skv");
  s.head_dim = need_int(r, "D");
  if (s.heads_q % s.heads_kv) throw InputError("Hq must be a multiple of Hkv");
  apply_attention_kind(kind, r, s);
  DType dt = dtype_of(r);
  double eb = dtype_bytes(dt);
  double q = double(s.batch) * s.heads_q * s.seq_q * s.head_dim * eb;
  double kv = double(s.batch) * s.heads_kv * s.seq_kv * s.head_dim * eb;
  Workload w;
  w.name = "attention";
  w.ops.push_back(single("attn", OpKind::attention, dt, s, {{"Q", q}, {"K", kv}, {"V", kv}}, {"O", q}));
  if (backward) {
    AttentionShape b = s;
    b.backward = true;
    Op op = single("attn_bwd", OpKind::attention, dt, b, {{"Q", q}, {"K", kv}, {"V", kv}, {"O", q}, {"dO", q}},
                   {"dQ", q});
    op.writes.push_back({"dK", kv});
    op.writes.push_back({"dV", kv});
    op.deps = {0};
    w.ops.push_back(op);
    w.backward_start = 1;
  }
  return w;
}

Workload elementwise(const nlohmann::json& r) {
  std::string name = text(r, "op");
  int64_t rows = need_int(r, "rows"), cols = need_int(r, "cols");
  DType dt = dtype_of(r);
  double n = double(rows) * cols, b = n * dtype_bytes(dt);
  Workload w;
  w.name = "elementwise";
  auto ew = [&](const std::string& op_name, const std::string& variant, int inputs, double flops,
                std::vector<TensorRef> reads, const std::string& out) {
    Op op = single(op_name, OpKind::elementwise, dt, ElementwiseShape{rows * cols, inputs, flops}, std::move(reads),
                   {out, b});
    op.variant = variant;
    if (!w.ops.empty()) op.deps = {w.ops.size() - 1};
    w.ops.push_back(op);
  };
  // FLOPs per element follow the usual expansions (gelu tanh form ~8, silu = x / (1 + exp(-x)) ~4).
  if (name == "copy") ew("copy", "copy", 1, 0, {{"x", b}}, "y");
  else if (name == "add" || name == "mul" || name == "sub" || name == "div") ew(name, name, 2, 1, {{"x", b}, {"z", b}}, "y");
  else if (name == "gelu") ew("gelu", "gelu", 1, 8, {{"x", b}}, "y");
  else if (name == "silu") ew("silu", "silu", 1, 4, {{"x", b}}, "y");
  else if (name == "relu") ew("relu", "relu", 1, 1, {{"x", b}}, "y");
  else if (name == "sigmoid") ew("sigmoid", "sigmoid", 1, 4, {{"x", b}}, "y");
  else if (name == "tanh") ew("tanh", "tanh", 1, 4, {{"x", b}}, "y");
  else if (name == "silu_mul") {  // eager F.silu(a) * b: two kernels
    ew("silu", "silu", 1, 4, {{"a", b}}, "t");
    ew("mul", "mul", 2, 1, {{"t", b}, {"b", b}}, "y");
  } else if (name == "layernorm" || name == "rmsnorm" || name == "softmax") {
    OpKind kind = name == "softmax" ? OpKind::softmax : OpKind::norm;
    std::vector<TensorRef> reads = {{"x", b}};
    if (kind == OpKind::norm) reads.push_back({"w", cols * dtype_bytes(dt)});
    Op op = single(name, kind, dt, RowShape{rows, cols}, reads, {"y", b});
    op.variant = name;
    w.ops.push_back(op);
  } else {
    throw InputError("unknown elementwise op '" + name +
                     "' (known: copy, add, mul, sub, div, gelu, silu, relu, sigmoid, tanh, silu_mul, layernorm, "
                     "rmsnorm, softmax)");
  }
  return w;
}

Workload embedding(const nlohmann::json& r) {
  std::string mode = text(r, "mode", "sum");
  if (mode != "sum" && mode != "mean") throw InputError("embedding_bag mode '" + mode + "' is not modelled");
  EmbeddingBagShape s{1, need_int(r, "rows"), need_int(r, "dim"), need_int(r, "batch"), need_int(r, "pooling")};
  DType dt = dtype_of(r, "dtype", "float32");
  double eb = dtype_bytes(dt);
  // The bytes an embedding bag reads are the gathered rows, not the whole table (the mapper sizes the table itself).
  Op op = single("embedding_bag", OpKind::embedding_bag, dt, s, {{"table", double(s.batch) * s.pooling * s.dim * eb}},
                 {"bags", double(s.batch) * s.dim * eb});
  return single_op("embedding_bag", op);
}

Workload from_generator(const std::string& yaml, const std::string& name) {
  return parse_workload(parse_yaml(yaml, "calibration row " + name), "calibration row " + name, {});
}

Workload model(const nlohmann::json& r) {
  std::string name = text(r, "name", "model");
  std::string mode = text(r, "mode", "prefill");
  bool dlrm = r.contains("model") ? text(r, "model").rfind("dlrm", 0) == 0 : name.rfind("dlrm", 0) == 0;
  if (dlrm) {
    // A training row is simulated as training (fwd + bwd as the harness ran it), never as a forward pass.
    std::string dlrm_mode = mode == "prefill" ? "forward" : mode;
    if (dlrm_mode == "training" || dlrm_mode == "fwd_bwd" || dlrm_mode == "train_step") dlrm_mode = "train";
    if (dlrm_mode != "forward" && dlrm_mode != "train")
      throw InputError("DLRM mode '" + mode + "' is not modelled (forward and train are)");
    std::string y = "name: " + name + "\ngenerator: dlrm\nparams: {batch: " + std::to_string(need_int(r, "batch")) +
                    ", dim: " + std::to_string(need_int(r, "dim")) + ", dtype: " +
                    dtype_name(dtype_of(r, "dtype", "float32")) +
                    (r.contains("row_cap") ? ", row_cap: " + std::to_string(need_int(r, "row_cap")) : "") +
                    ", mode: " + dlrm_mode + "}\n";
    return from_generator(y, name);
  }
  if (mode == "training" || mode == "fwd_bwd" || mode == "train_step") mode = "train";
  if (mode != "prefill" && mode != "decode" && mode != "train")
    throw InputError("model mode '" + mode + "' is not modelled (prefill, decode and train are)");
  std::string train_opts;
  if (mode == "train") {
    bool opt = !r.contains("optimizer") || (r["optimizer"].is_boolean() ? r["optimizer"].get<bool>()
                                                                        : text(r, "optimizer") != "none");
    bool recompute = r.contains("recompute") && r["recompute"].is_boolean() && r["recompute"].get<bool>();
    train_opts = std::string(", optimizer: ") + (opt ? "adamw" : "none") + ", recompute: " + (recompute ? "true" : "false");
  }
  // The calibration harness's block (see its Kineto traces): LayerNorm, fused qkv, SDPA, fused gate+up, eager silu
  // and mul, no embedding or lm_head.
  int64_t d = need_int(r, "d"), heads = need_int(r, "heads");
  int64_t kvh = r.contains("kv_heads") ? need_int(r, "kv_heads") : heads;
  int64_t kv = r.contains("KV") && r["KV"].is_number() ? int64_t(r["KV"].get<double>()) : 0;
  std::string y = "name: " + name + "\ngenerator: transformer\nparams: {d_model: " + std::to_string(d) +
                  ", heads: " + std::to_string(heads) + ", kv_heads: " + std::to_string(kvh) +
                  ", ffn: " + std::to_string(need_int(r, "ffn")) + ", layers: " + std::to_string(need_int(r, "layers")) +
                  ", vocab: 32000, arch: llama, norm: layernorm, rope: false, fuse_qkv: true, fuse_gate_up: true," +
                  " embed: false, lm_head: false, dtype: " + dtype_name(dtype_of(r)) + ", mode: " + mode +
                  ", batch: " + std::to_string(need_int(r, "B")) +
                  (mode == "decode" ? ", kv: " + std::to_string(kv)
                                    : ", seq: " + std::to_string(need_int(r, "S")) +
                                          (mode == "prefill" ? ", prefix: " + std::to_string(kv) : "")) +
                  train_opts + "}\n";
  return from_generator(y, name);
}

}  // namespace

Workload case_workload(const std::string& section, const nlohmann::json& row) {
  if (!row.is_object()) throw InputError("a row must be a JSON object");
  if (section == "gemm") return gemm(row);
  if (section == "attention") return attention(row, false);
  if (section == "elementwise") return elementwise(row);
  if (section == "embedding_bag") return embedding(row);
  if (section == "models") return model(row);
  throw InputError("unknown section '" + section + "'");
}

Workload attention_fwd_bwd_workload(const nlohmann::json& row) { return attention(row, true); }

}  // namespace xpu
