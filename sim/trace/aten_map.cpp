#include "sim/trace/aten_map.h"

#include <charconv>
#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>

namespace xpu {

int64_t TensorArg::numel() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= std::max<int64_t>(d, 0);
  return n;
}

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// "aten::_fused_rms_norm" -> "fused_rms_norm"; "aten::add_" -> "add" with inplace set.
std::string base_name(const std::string& full, bool* inplace = nullptr) {
  std::string s = full;
  if (auto p = s.rfind("::"); p != std::string::npos) s = s.substr(p + 2);
  if (auto p = s.find('.'); p != std::string::npos) s = s.substr(0, p);  // overload name (aten::add.Tensor)
  bool ip = s.size() > 1 && s.back() == '_';
  if (ip) s.pop_back();
  while (!s.empty() && s.front() == '_') s.erase(s.begin());
  if (inplace) *inplace = ip;
  return s;
}

const TensorArg* tensor(const AtenCall& c, size_t arg) {
  return arg < c.args.size() && c.args[arg].tensors.size() == 1 ? &c.args[arg].tensors[0] : nullptr;
}

// The dtype of the first floating-point tensor argument, else a dtype of the same width as the first tensor.
DType call_dtype(const AtenCall& c) {
  for (const auto& a : c.args)
    if (!a.tensors.empty())
      if (auto d = torch_dtype(a.type)) return *d;
  for (const auto& a : c.args)
    for (const auto& t : a.tensors) {
      if (t.elem_bytes == 1) return DType::int8;
      if (t.elem_bytes == 2) return DType::bf16;
      if (t.elem_bytes >= 4) return DType::fp32;
    }
  return DType::fp32;
}

double bytes_of(const TensorArg& t, DType d) { return double(t.numel()) * (t.elem_bytes > 0 ? t.elem_bytes : dtype_bytes(d)); }

std::optional<bool> as_bool(const std::string& v) {
  std::string s = lower(v);
  if (s == "true" || s == "1") return true;
  if (s == "false" || s == "0") return false;
  return std::nullopt;
}

std::optional<int64_t> as_int(const std::string& v) {
  if (v.empty()) return std::nullopt;
  char* end = nullptr;
  long long x = std::strtoll(v.c_str(), &end, 10);
  if (end == v.c_str() || *end) return std::nullopt;
  return x;
}

// "[4096]" or "[2, 4096]" (Kineto concrete inputs, ET int lists) -> product; nullopt if not a list of ints.
std::optional<int64_t> list_product(const std::string& v) {
  if (v.size() < 2 || v.front() != '[') return std::nullopt;
  int64_t p = 1;
  bool any = false;
  std::string num;
  for (char ch : v.substr(1)) {
    if (std::isdigit(static_cast<unsigned char>(ch)) || ch == '-') {
      num += ch;
    } else if (ch == ',' || ch == ']') {
      if (!num.empty()) {
        // A malformed or huge entry makes the list unusable rather than the trace unreadable.
        int64_t x = 0;
        auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), x);
        if (ec != std::errc() || end != num.data() + num.size() || __builtin_mul_overflow(p, x, &p))
          return std::nullopt;
        any = true;
      }
      num.clear();
    } else if (ch != ' ') {
      return std::nullopt;
    }
  }
  return any ? std::optional<int64_t>(p) : std::nullopt;
}

std::string arg_value(const AtenCall& c, size_t i) { return i < c.args.size() ? c.args[i].value : ""; }

struct Builder {
  const AtenCall& c;
  MappedOp m;
  Builder(const AtenCall& call, OpKind kind, const std::string& variant, OpShape shape) : c(call) {
    m.op.name = call.name;
    m.op.kind = kind;
    m.op.variant = variant;
    m.op.dtype = m.op.out_dtype = call_dtype(call);
    m.op.shape = std::move(shape);
  }
  void read(int arg, int t = 0) {
    const TensorArg& x = c.args[size_t(arg)].tensors[size_t(t)];
    m.op.reads.push_back({"", bytes_of(x, m.op.dtype)});
    m.read_from.push_back({arg, t});
  }
  void read_bytes(double b) {
    m.op.reads.push_back({"", b});
    m.read_from.push_back({});
  }
  void write(double elements) { m.op.writes.push_back({"", elements * dtype_bytes(m.op.out_dtype)}); }
  MapResult done() { return MapResult{std::move(m), ""}; }
};

MapResult fail(const AtenCall& c, const std::string& why) { return MapResult{std::nullopt, c.name + ": " + why}; }

// ---- matmul family ---------------------------------------------------------------------------------------------

MapResult matmul_2d(const AtenCall& c, size_t a, size_t b, int bias) {
  const TensorArg *A = tensor(c, a), *B = tensor(c, b);
  if (!A || !B || A->dims.size() != 2 || B->dims.size() != 2 || A->dims[1] != B->dims[0])
    return fail(c, "expected two matrices [M,K] and [K,N] among the input dims");
  Builder bld(c, OpKind::matmul, "", MatmulShape{1, A->dims[0], B->dims[1], A->dims[1], true});
  bld.read(int(a));
  bld.read(int(b));
  if (bias >= 0 && tensor(c, size_t(bias))) bld.read(bias);
  bld.write(double(A->dims[0]) * B->dims[1]);
  return bld.done();
}

MapResult matmul_batched(const AtenCall& c, size_t a, size_t b, int bias) {
  const TensorArg *A = tensor(c, a), *B = tensor(c, b);
  if (!A || !B || A->dims.size() != 3 || B->dims.size() != 3 || A->dims[2] != B->dims[1] || A->dims[0] != B->dims[0])
    return fail(c, "expected two batches of matrices [B,M,K] and [B,K,N] among the input dims");
  Builder bld(c, OpKind::matmul, "batched", MatmulShape{A->dims[0], A->dims[1], B->dims[2], A->dims[2], false});
  bld.read(int(a));
  bld.read(int(b));
  if (bias >= 0 && tensor(c, size_t(bias))) bld.read(bias);
  bld.write(double(A->dims[0]) * A->dims[1] * B->dims[2]);
  return bld.done();
}

// torch.matmul's broadcasting rules, reduced to what the kernels see: a 2-D right operand is a weight shared by
// every row of the left one (one big GEMM), equal leading dims are a batched GEMM.
MapResult matmul_general(const AtenCall& c) {
  const TensorArg *A = tensor(c, 0), *B = tensor(c, 1);
  if (!A || !B || A->dims.empty() || B->dims.empty()) return fail(c, "expected two tensors among the input dims");
  auto lead = [](const std::vector<int64_t>& d, size_t keep) {
    int64_t p = 1;
    for (size_t i = 0; i + keep < d.size(); ++i) p *= d[i];
    return p;
  };
  int64_t k = A->dims.back();
  int64_t m = A->dims.size() >= 2 ? A->dims[A->dims.size() - 2] : 1;
  int64_t kb = B->dims.size() >= 2 ? B->dims[B->dims.size() - 2] : B->dims[0];
  int64_t n = B->dims.size() >= 2 ? B->dims.back() : 1;
  if (k != kb) return fail(c, "inner dimensions of the input dims do not match");
  MatmulShape s{1, m, n, k, true};
  if (B->dims.size() <= 2) {
    s.m = lead(A->dims, 1);
  } else {
    s.batch = std::max(lead(A->dims, 2), lead(B->dims, 2));
    s.b_shared = false;
  }
  Builder bld(c, OpKind::matmul, s.batch > 1 ? "batched" : "", s);
  bld.read(0);
  bld.read(1);
  bld.write(double(s.batch) * s.m * s.n);
  return bld.done();
}

// linear(x, W, bias): W is [out_features, in_features].
MapResult linear(const AtenCall& c) {
  const TensorArg *X = tensor(c, 0), *W = tensor(c, 1);
  if (!X || !W || X->dims.empty() || W->dims.size() != 2 || X->dims.back() != W->dims[1])
    return fail(c, "expected input [..., in] and weight [out, in] among the input dims");
  int64_t m = X->numel() / std::max<int64_t>(1, X->dims.back());
  Builder bld(c, OpKind::matmul, "", MatmulShape{1, m, W->dims[0], W->dims[1], true});
  bld.read(0);
  bld.read(1);
  if (tensor(c, 2)) bld.read(2);
  bld.write(double(m) * W->dims[0]);
  return bld.done();
}

// fp8 GEMM: operands e4m3/e5m2, the output type is an argument (bf16 in practice).
MapResult scaled_mm(const AtenCall& c) {
  MapResult r = matmul_2d(c, 0, 1, -1);
  if (r.op) {
    r.op->op.dtype = DType::fp8;
    r.op->op.out_dtype = DType::bf16;
    r.op->op.writes[0].bytes = double(std::get<MatmulShape>(r.op->op.shape).m) *
                               std::get<MatmulShape>(r.op->op.shape).n * dtype_bytes(DType::bf16);
  }
  return r;
}

// ---- attention ------------------------------------------------------------------------------------------------

struct AttentionSignature {
  int q = 0;            // argument index of the query (backward ops take grad_out first)
  bool bshd = false;    // [B, S, H, D] (the _flash/_efficient_attention_* internals) instead of [B, H, S, D]
  int causal = -1;      // argument index of is_causal (or custom_mask_type), -1 unknown
  bool mask_type = false;  // the index names custom_mask_type (0 none, 1/2 causal) rather than a bool
  bool backward = false;
};

// Positions from the native_functions.yaml signatures of each SDPA entry point and backend.
const std::map<std::string, AttentionSignature>& attention_signatures() {
  static const std::map<std::string, AttentionSignature> t = {
      {"scaled_dot_product_attention", {0, false, 5, false, false}},
      {"scaled_dot_product_attention_math", {0, false, 5, false, false}},
      {"scaled_dot_product_flash_attention", {0, false, 4, false, false}},
      {"scaled_dot_product_efficient_attention", {0, false, 6, false, false}},
      {"scaled_dot_product_cudnn_attention", {0, false, 6, false, false}},
      {"scaled_dot_product_fused_attention_overrideable", {0, false, 5, false, false}},
      {"cudnn_attention_forward", {0, false, 10, false, false}},
      {"flash_attention_forward", {0, true, 8, false, false}},
      {"efficient_attention_forward", {0, true, 9, true, false}},
      {"scaled_dot_product_flash_attention_backward", {1, false, 11, false, true}},
      {"scaled_dot_product_efficient_attention_backward", {1, false, 11, false, true}},
      {"scaled_dot_product_cudnn_attention_backward", {1, false, 14, false, true}},
      {"flash_attention_backward", {1, true, 11, false, true}},
      {"efficient_attention_backward", {1, true, 14, true, true}},
  };
  return t;
}

bool is_attention_name(const std::string& b) {
  return attention_signatures().count(b) || b.find("scaled_dot_product") != std::string::npos ||
         b.find("flash_attn") != std::string::npos || b.find("flash_attention") != std::string::npos ||
         b.find("efficient_attention") != std::string::npos || b.find("cudnn_attention") != std::string::npos;
}

MapResult attention(const AtenCall& c, const std::string& b) {
  AttentionSignature sig;
  if (auto it = attention_signatures().find(b); it != attention_signatures().end()) sig = it->second;
  else sig.backward = b.find("backward") != std::string::npos, sig.q = sig.backward ? 1 : 0;
  const TensorArg *Q = tensor(c, size_t(sig.q)), *K = tensor(c, size_t(sig.q + 1)), *V = tensor(c, size_t(sig.q + 2));
  if (!Q || !K || !V || Q->dims.size() != 4 || K->dims.size() != 4 || Q->dims[0] != K->dims[0] ||
      Q->dims[3] != K->dims[3])
    return fail(c, "expected query, key and value of 4 dims [B,H,S,D] among the input dims");
  AttentionShape s;
  int hi = sig.bshd ? 2 : 1, si = sig.bshd ? 1 : 2;
  s.batch = Q->dims[0];
  s.heads_q = Q->dims[size_t(hi)];
  s.heads_kv = K->dims[size_t(hi)];
  s.seq_q = Q->dims[size_t(si)];
  s.seq_kv = K->dims[size_t(si)];
  s.head_dim = Q->dims[3];
  s.backward = sig.backward;
  if (s.heads_kv <= 0 || s.heads_q % s.heads_kv) return fail(c, "query heads are not a multiple of key/value heads");
  // Causal when the is_causal argument or the kernel's name says so; with neither recorded, prefill (Sq == Skv)
  // is taken as causal: decoder-only models, the common case in traces, mask every prefill.
  std::optional<bool> causal;
  if (sig.causal >= 0) {
    std::string v = arg_value(c, size_t(sig.causal));
    if (sig.mask_type) {
      if (auto i = as_int(v)) causal = *i != 0;
    } else {
      causal = as_bool(v);
    }
  }
  if (lower(c.kernel).find("causal") != std::string::npos) causal = true;
  s.causal = causal ? *causal : s.seq_q == s.seq_kv;
  Builder bld(c, OpKind::attention, sig.backward ? "backward" : (s.causal ? "causal" : ""), s);
  bld.read(sig.q);
  bld.read(sig.q + 1);
  bld.read(sig.q + 2);
  double q_elems = double(s.batch) * s.heads_q * s.seq_q * s.head_dim;
  bld.write(q_elems);
  if (sig.backward) {  // dK and dV
    double kv_elems = double(s.batch) * s.heads_kv * s.seq_kv * s.head_dim;
    bld.write(kv_elems);
    bld.write(kv_elems);
  }
  return bld.done();
}

// ---- rows: norms and softmax ----------------------------------------------------------------------------------

MapResult rows(const AtenCall& c, OpKind kind, const std::string& variant, int x_arg, int extra_read) {
  const TensorArg* X = tensor(c, size_t(x_arg));
  if (!X || X->dims.empty()) return fail(c, "expected the input tensor among the input dims");
  int64_t n = X->numel(), cols = X->dims.back();
  if (kind == OpKind::softmax) {
    // softmax(x, dim): the reduced dimension, negative from the end.
    if (auto d = as_int(arg_value(c, size_t(x_arg + 1)))) {
      int64_t i = *d < 0 ? int64_t(X->dims.size()) + *d : *d;
      if (i >= 0 && i < int64_t(X->dims.size())) cols = X->dims[size_t(i)];
    }
  } else if (variant.rfind("batchnorm", 0) == 0) {
    cols = X->dims.size() >= 2 ? n / std::max<int64_t>(1, X->dims[1]) : n;  // statistics per channel
  } else if (auto p = list_product(arg_value(c, size_t(x_arg + 1)))) {
    cols = *p;  // layer_norm(x, normalized_shape, ...)
  }
  if (cols <= 0 || n % cols) return fail(c, "normalized size does not divide the input");
  Builder bld(c, kind, variant, RowShape{n / cols, cols});
  bld.read(x_arg);
  if (extra_read >= 0 && tensor(c, size_t(extra_read))) bld.read(extra_read);
  bld.write(double(n));
  return bld.done();
}

// ---- convolutions and pooling -----------------------------------------------------------------------------------

// The integers of a list argument ("[2, 2]" -> {2, 2}); a single integer repeated (PyTorch broadcasts it).
std::vector<int64_t> int_list(const std::string& v, size_t n, int64_t def) {
  std::vector<int64_t> out;
  std::string num;
  for (char ch : v + ",") {
    if ((ch >= '0' && ch <= '9') || ch == '-') {
      num += ch;
    } else if (!num.empty()) {
      int64_t x = 0;
      auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), x);
      if (ec != std::errc() || end != num.data() + num.size()) return std::vector<int64_t>(n, def);  // not a list
      out.push_back(x);
      num.clear();
    }
  }
  if (out.size() == 1) out.assign(n, out[0]);
  if (out.size() != n) out.assign(n, def);
  return out;
}

// cuDNN runs a 2-D convolution as an implicit GEMM: forward M = N·P·Q output pixels, N = K output channels,
// K = C·R·S / groups; the data gradient the same size (M = N·H·W, N = C, K = K·R·S), the weight gradient
// M = K, N = C·R·S, K = N·P·Q. Each is lowered to the GEMM mapper's tiles and waves; the input's reuse across the
// R·S taps comes from the cache, so the A operand is the activation, not its im2col expansion.
// conv2d/convolution/_convolution/cudnn_convolution(input, weight, bias?, stride, padding, dilation, [transposed,
// output_padding,] groups); convolution_backward(grad_out, input, weight, bias_sizes, stride, padding, dilation,
// transposed, output_padding, groups, output_mask).
MapResult convolution(const AtenCall& c, bool backward, bool cudnn) {
  // cudnn_convolution(input, weight, padding, stride, dilation, groups, ...); cudnn_convolution_backward(input,
  // grad_out, weight, padding, stride, dilation, groups, ..., output_mask).
  const size_t xi = backward && !cudnn ? 1 : 0, wi = 2 - (backward ? 0 : 1), gi = cudnn ? 1 : 0;
  const TensorArg *X = tensor(c, xi), *W = tensor(c, wi);
  if (!X || !W || X->dims.size() != 4 || W->dims.size() != 4)
    return fail(c, "expected a 4-D input [N,C,H,W] and weight [K,C/g,R,S] among the input dims");
  const int64_t N = X->dims[0], C = X->dims[1], H = X->dims[2], Wd = X->dims[3];
  const int64_t K = W->dims[0], Cg = W->dims[1], R = W->dims[2], S = W->dims[3];
  // Where stride, padding and dilation sit: after the bias (sizes) in aten's order, padding first in cuDNN's.
  const size_t first = backward ? 3 : 2;
  const size_t pi = cudnn ? first : first + 2, si = cudnn ? first + 1 : first + 1, di = first + (cudnn ? 2 : 3);
  auto stride = int_list(arg_value(c, si), 2, 1), pad = int_list(arg_value(c, pi), 2, 0),
       dil = int_list(arg_value(c, di), 2, 1);
  const int64_t P = (H + 2 * pad[0] - dil[0] * (R - 1) - 1) / std::max<int64_t>(1, stride[0]) + 1;
  const int64_t Q = (Wd + 2 * pad[1] - dil[1] * (S - 1) - 1) / std::max<int64_t>(1, stride[1]) + 1;
  if (N <= 0 || C <= 0 || K <= 0 || P <= 0 || Q <= 0 || Cg <= 0 || C % Cg)
    return fail(c, "convolution dimensions do not fit together");
  const int64_t groups = C / Cg;
  if (!backward) {
    Builder bld(c, OpKind::matmul, "conv_fprop", MatmulShape{groups, N * P * Q, K / groups, Cg * R * S, true});
    bld.read(int(xi));
    bld.read(int(wi));
    bld.write(double(N) * K * P * Q);
    return bld.done();
  }
  // output_mask [input, weight, bias]: the first layer needs no data gradient.
  std::string mask = c.args.empty() ? "" : c.args.back().value;
  const bool dgrad = mask.empty() || mask.rfind("[True", 0) == 0 || mask.rfind("[true", 0) == 0 || mask.rfind("[1", 0) == 0;
  // Both gradients move the same MACs (N·P·Q·K·C·R·S / groups): one GEMM of the data gradient's shape per gradient
  // computed, as a batch.
  Builder bld(c, OpKind::matmul, dgrad ? "conv_dgrad_wgrad" : "conv_wgrad",
              MatmulShape{groups * (dgrad ? 2 : 1), N * P * Q, Cg * R * S, K / groups, false});
  bld.read(int(gi));
  bld.read(int(xi));
  bld.read(int(wi));
  bld.write(double(K) * Cg * R * S + (dgrad ? double(N) * C * H * Wd : 0));
  return bld.done();
}

// Max/average pooling and their backward: a pass over the larger of input and output.
MapResult pooling(const AtenCall& c, const std::string& variant, bool backward) {
  const TensorArg* X = tensor(c, backward ? 1 : 0);
  const TensorArg* G = backward ? tensor(c, 0) : nullptr;
  if (!X || X->dims.empty()) return fail(c, "expected the input tensor among the input dims");
  const int64_t n = X->numel();
  Builder bld(c, OpKind::elementwise, variant, ElementwiseShape{n, backward ? 2 : 1, 1});
  bld.read(backward ? 1 : 0);
  if (G) bld.read(0);
  bld.write(double(n));
  return bld.done();
}

// ---- embedding, concat ----------------------------------------------------------------------------------------

MapResult embedding_bag(const AtenCall& c) {
  const TensorArg *W = tensor(c, 0), *I = tensor(c, 1), *O = tensor(c, 2);
  if (!W || !I || W->dims.size() != 2 || I->dims.empty()) return fail(c, "expected weight [rows,dim] and indices");
  int64_t lookups = I->numel(), bags;
  if (I->dims.size() == 2) {
    bags = I->dims[0];  // fixed-length bags, no offsets
  } else {
    if (!O || O->dims.size() != 1) return fail(c, "expected 1-D offsets with 1-D indices");
    bags = O->dims[0];
    if (as_bool(arg_value(c, 7)).value_or(false)) bags -= 1;  // include_last_offset
  }
  if (bags <= 0) return fail(c, "no bags");
  std::string mode = arg_value(c, 4) == "1" ? "mean" : arg_value(c, 4) == "2" ? "max" : "sum";
  EmbeddingBagShape s{1, W->dims[0], W->dims[1], bags, std::max<int64_t>(1, lookups / bags)};
  Builder bld(c, OpKind::embedding_bag, mode, s);
  bld.read(0);  // the table: the mapper gathers `pooling` rows of it per bag
  bld.write(double(bags) * s.dim);
  return bld.done();
}

MapResult embedding(const AtenCall& c) {
  const TensorArg *W = tensor(c, 0), *I = tensor(c, 1);
  if (!W || !I || W->dims.size() != 2) return fail(c, "expected weight [rows,dim] and indices");
  EmbeddingBagShape s{1, W->dims[0], W->dims[1], std::max<int64_t>(1, I->numel()), 1};
  Builder bld(c, OpKind::embedding_bag, "lookup", s);
  bld.read(0);
  bld.write(double(s.batch) * s.dim);
  return bld.done();
}

// cat(tensors, dim): `features` pieces per sample, averaged to one width (the IR's concat is uniform).
MapResult concat(const AtenCall& c) {
  if (c.args.empty() || c.args[0].tensors.empty()) return fail(c, "expected a tensor list among the input dims");
  const auto& ts = c.args[0].tensors;
  int64_t total = 0;
  for (const auto& t : ts) total += t.numel();
  int64_t dim = as_int(arg_value(c, 1)).value_or(0);
  const auto& d0 = ts[0].dims;
  int64_t batch = (dim != 0 && d0.size() >= 2) ? d0[0] : 1;
  int64_t features = int64_t(ts.size());
  int64_t width = std::max<int64_t>(1, total / std::max<int64_t>(1, batch * features));
  Builder bld(c, OpKind::concat, "cat", FeatureShape{batch, features, width});
  for (size_t i = 0; i < ts.size(); ++i) bld.read(0, int(i));
  bld.write(double(total));
  return bld.done();
}

// ---- elementwise ----------------------------------------------------------------------------------------------

// FLOPs per output element (transcendentals ~4, gelu's tanh form ~8); 0 for pure data movement.
const std::map<std::string, double>& elementwise_flops() {
  static const std::map<std::string, double> t = {
      {"add", 1}, {"sub", 1}, {"rsub", 1}, {"mul", 1}, {"div", 1}, {"neg", 1}, {"abs", 1}, {"reciprocal", 1},
      {"relu", 1}, {"clamp", 1}, {"clamp_min", 1}, {"clamp_max", 1}, {"threshold", 1}, {"leaky_relu", 1},
      {"hardtanh", 1}, {"maximum", 1}, {"minimum", 1}, {"where", 1}, {"masked_fill", 1}, {"eq", 1}, {"ne", 1},
      {"lt", 1}, {"le", 1}, {"gt", 1}, {"ge", 1}, {"sqrt", 1}, {"rsqrt", 1}, {"pow", 2}, {"square", 1},
      {"addcmul", 2}, {"addcdiv", 2}, {"lerp", 2}, {"exp", 4}, {"log", 4}, {"sin", 4}, {"cos", 4}, {"erf", 4},
      {"sigmoid", 4}, {"tanh", 4}, {"silu", 4}, {"gelu", 8}, {"mish", 8}, {"softplus", 4},
      {"threshold_backward", 1}, {"sigmoid_backward", 2}, {"tanh_backward", 2}, {"silu_backward", 6},
      {"gelu_backward", 12}, {"native_dropout", 2}, {"dropout", 2}, {"native_dropout_backward", 1},
      {"copy", 0}, {"to_copy", 0}, {"clone", 0}, {"fill", 0}, {"zero", 0}, {"zeros_like", 0}, {"ones_like", 0},
      {"masked_scatter", 0}, {"index_select", 0}, {"gather", 0}, {"triu", 0}, {"tril", 0}, {"cumsum", 1},
      {"sum", 1}, {"mean", 1}, {"amax", 1}, {"max", 1}, {"min", 1}, {"argmax", 1}, {"norm", 2},
  };
  return t;
}

MapResult elementwise(const AtenCall& c, const std::string& b, bool foreach) {
  // The output is as large as the largest (broadcast) operand; reductions (sum, mean, ...) are bounded by
  // their input, which this reads in full too.
  std::vector<ReadSource> srcs;
  int64_t elements = 0;
  bool no_inputs = b == "fill" || b == "zero" || b == "zeros_like" || b == "ones_like";
  for (size_t a = 0; a < c.args.size(); ++a) {
    if (b == "copy" && a == 0) {  // copy_(self, src): self is overwritten, not read
      if (tensor(c, 0)) elements = std::max(elements, tensor(c, 0)->numel());
      continue;
    }
    for (size_t t = 0; t < c.args[a].tensors.size(); ++t) {
      int64_t n = c.args[a].tensors[t].numel();
      if (foreach) elements += a == 0 ? n : 0;
      else elements = std::max(elements, n);
      if (!no_inputs) srcs.push_back({int(a), int(t)});
    }
  }
  if (elements <= 0) return fail(c, "expected at least one tensor among the input dims");
  double flops = elementwise_flops().count(b) ? elementwise_flops().at(b) : 1;
  ElementwiseShape s{elements, int64_t(srcs.size()), flops};
  Builder bld(c, OpKind::elementwise, b == "to_copy" || b == "clone" ? "copy" : b, s);
  if (b == "copy" && tensor(c, 0))
    if (auto d = torch_dtype(c.args[0].type)) bld.m.op.out_dtype = *d;
  for (const auto& r : srcs) bld.read(r.arg, r.tensor);
  bld.write(double(elements));
  return bld.done();
}

// ---- collectives ----------------------------------------------------------------------------------------------

// record_param_comms(tensors, seq, pg, rank, collective name, in splits, out splits, ..., world size): the name is
// its one string argument and the group size its last integer in the recorded versions.
MapResult comms(const AtenCall& c) {
  CollectiveShape s;
  s.op.clear();
  double bytes = 0;
  size_t name_at = 0;
  for (size_t i = 0; i < c.args.size(); ++i) {
    const auto& a = c.args[i];
    if (a.tensors.empty() && s.op.empty() && !(s.op = collective_name(a.value)).empty()) name_at = i;
    for (const auto& t : a.tensors) bytes += bytes_of(t, DType::fp32);
  }
  if (s.op.empty()) return fail(c, "no collective name among the arguments");
  // (..., seq, pg, rank, name): the process group identifies which ranks' collectives match.
  if (name_at >= 2)
    if (auto pg = as_int(c.args[name_at - 2].value)) s.pg = std::to_string(*pg);
  for (auto it = c.args.rbegin(); it != c.args.rend(); ++it)
    if (auto g = as_int(it->value); g && it->tensors.empty() && lower(it->type).find("int") != std::string::npos) {
      s.group = std::max<int64_t>(1, *g);
      break;
    }
  s.bytes = int64_t(bytes);
  Builder bld(c, OpKind::collective, s.op, s);
  for (size_t a = 0; a < c.args.size(); ++a)
    for (size_t t = 0; t < c.args[a].tensors.size(); ++t) bld.read(int(a), int(t));
  bld.m.op.writes.push_back({"", bytes});
  return bld.done();
}

const std::set<std::string>& no_kernel_ops() {
  static const std::set<std::string> t = {
      "empty", "empty_like", "empty_strided", "view", "reshape", "unsafe_view", "as_strided", "t", "transpose",
      "permute", "expand", "expand_as", "slice", "select", "narrow", "split", "split_with_sizes", "chunk",
      "unbind", "unsqueeze", "squeeze", "flatten", "unflatten", "detach", "lift_fresh", "alias", "is_same_size",
      "size", "stride", "numel", "dim", "contiguous", "to", "type_as", "resolve_conj", "resolve_neg", "set",
      "view_as", "reshape_as", "lift", "item", "local_scalar_dense", "result_type", "record_stream",
      "is_nonzero", "unsafe_split", "movedim", "as_strided_", "new_empty", "new_empty_strided", "record_param_comms",
      "conj", "real", "imag", "broadcast_tensors", "meshgrid", "autograd_not_implemented", "profiler"};
  return t;
}

}  // namespace

MapResult map_aten(const AtenCall& c) {
  bool inplace = false;
  std::string b = base_name(c.name, &inplace);
  // ET records each tensor's device: an op whose tensors all live on the CPU is host work, not a kernel.
  bool any_tensor = false, all_host = true, any_host = false;
  for (const auto& a : c.args)
    for (const auto& t : a.tensors) {
      any_tensor = true;
      bool host = t.device.rfind("cpu", 0) == 0;
      all_host &= host;
      any_host |= host;
    }
  if (b == "record_param_comms") return comms(c);
  if (any_tensor && all_host) return fail(c, "runs on the host (all tensors on the CPU)");
  if (any_host && (b == "copy" || b == "to_copy")) return fail(c, "host-device copy (not modelled)");
  if (b == "mm") return matmul_2d(c, 0, 1, -1);
  if (b == "addmm") return matmul_2d(c, 1, 2, 0);
  if (b == "bmm") return matmul_batched(c, 0, 1, -1);
  if (b == "baddbmm") return matmul_batched(c, 1, 2, 0);
  if (b == "matmul") return matmul_general(c);
  if (b == "linear") return linear(c);
  if (b == "scaled_mm") return scaled_mm(c);
  if (is_attention_name(b)) return attention(c, b);
  if (b == "layer_norm" || b == "native_layer_norm") return rows(c, OpKind::norm, "layernorm", 0, 2);
  if (b == "rms_norm" || b == "fused_rms_norm") return rows(c, OpKind::norm, "rmsnorm", 0, 2);
  if (b == "native_layer_norm_backward") return rows(c, OpKind::norm, "layernorm_bwd", 1, 0);
  if (b == "fused_rms_norm_backward") return rows(c, OpKind::norm, "rmsnorm_bwd", 1, 0);
  if (b == "group_norm" || b == "native_group_norm") return rows(c, OpKind::norm, "groupnorm", 0, -1);
  if (b == "batch_norm" || b == "native_batch_norm" || b == "cudnn_batch_norm")
    return rows(c, OpKind::norm, "batchnorm", 0, -1);
  if (b == "native_batch_norm_backward" || b == "cudnn_batch_norm_backward" || b == "batch_norm_backward")
    return rows(c, OpKind::norm, "batchnorm_bwd", 1, 0);
  if (b == "conv2d" || b == "convolution" || b == "_convolution" || b == "cudnn_convolution") {
    // A kernel of conv2d may carry the inner cudnn_convolution's arguments (padding where the bias would be).
    const bool cudnn = b == "cudnn_convolution" || (c.args.size() > 2 && c.args[2].tensors.empty() &&
                                                    c.args[2].value.rfind("[", 0) == 0);
    return convolution(c, false, cudnn);
  }
  if (b == "convolution_backward") return convolution(c, true, false);
  if (b == "cudnn_convolution_backward") return convolution(c, true, true);
  if (b == "max_pool2d" || b == "max_pool2d_with_indices" || b == "avg_pool2d" || b == "adaptive_avg_pool2d")
    return pooling(c, "pool", false);
  if (b == "max_pool2d_with_indices_backward" || b == "avg_pool2d_backward" || b == "adaptive_avg_pool2d_backward")
    return pooling(c, "pool_bwd", true);
  if (b == "softmax" || b == "log_softmax" || b == "safe_softmax") return rows(c, OpKind::softmax, "softmax", 0, -1);
  if (b == "softmax_backward_data" || b == "log_softmax_backward_data")
    return rows(c, OpKind::softmax, "softmax_bwd", 0, 1);
  if (b == "embedding_bag" || b == "embedding_bag_forward_only") return embedding_bag(c);
  if (b == "embedding") return embedding(c);
  if (b == "cat" || b == "concat" || b == "concatenate") return concat(c);
  if (b.rfind("foreach_", 0) == 0) {
    std::string inner = b.substr(8);
    if (elementwise_flops().count(inner)) return elementwise(c, inner, true);
  }
  if (elementwise_flops().count(b)) return elementwise(c, b, false);
  return fail(c, "no mapping to the op IR");
}

bool launches_no_kernel(const std::string& name) { return no_kernel_ops().count(base_name(name)) > 0; }

}  // namespace xpu
