#include "sim/workload/tensor_ops.h"

#include <cmath>

namespace xpu {
namespace {

constexpr double kF32 = 4;  // bytes of an fp32 element

TensorRef f32(const std::string& name, double elements) { return {name, elements * kF32}; }

size_t as_fp32(WorkloadBuilder& b, size_t i) {
  b.op(i).dtype = b.op(i).out_dtype = DType::fp32;
  return i;
}

}  // namespace

size_t add_rmsnorm_ops(WorkloadBuilder& b, const std::string& name, int64_t rows, int64_t cols, const std::string& in,
                       const std::string& out) {
  const std::string N = name + ".";
  const double E = double(rows) * double(cols), R = double(rows);
  const int64_t e = rows * cols;
  const size_t first = as_fp32(b, b.add(N + "float", OpKind::elementwise, "copy", ElementwiseShape{e, 1, 0},
                                        {b.t(in, E)}, {f32(N + "xf", E)}));
  as_fp32(b, b.add(N + "square", OpKind::elementwise, "mul", ElementwiseShape{e, 1, 1}, {f32(N + "xf", E)},
                   {f32(N + "sq", E)}));
  // A plain row reduction (torch.mean over the last dimension): one pass, one value per row.
  as_fp32(b, b.add(N + "mean", OpKind::norm, "mean", RowShape{rows, cols}, {f32(N + "sq", E)}, {f32(N + "ms", R)}));
  as_fp32(b, b.add(N + "add_eps", OpKind::elementwise, "add", ElementwiseShape{rows, 1, 1}, {f32(N + "ms", R)},
                   {f32(N + "mse", R)}));
  as_fp32(b, b.add(N + "rsqrt", OpKind::elementwise, "rsqrt", ElementwiseShape{rows, 1, 1}, {f32(N + "mse", R)},
                   {f32(N + "r", R)}));
  as_fp32(b, b.add(N + "scale", OpKind::elementwise, "mul", ElementwiseShape{e, 2, 1},
                   {f32(N + "xf", E), f32(N + "r", R)}, {f32(N + "y", E)}));
  b.add(N + "type_as", OpKind::elementwise, "copy", ElementwiseShape{e, 1, 0}, {f32(N + "y", E)}, {b.t(N + "yb", E)});
  b.add(N + "weight", OpKind::elementwise, "mul", ElementwiseShape{e, 2, 1}, {b.t(N + "yb", E), b.t(N + "w", cols)},
        {b.t(out, E)});
  return first;
}

size_t add_rotary_ops(WorkloadBuilder& b, const std::string& name, int64_t tokens, int64_t width,
                      int64_t head_dim, const std::string& in, const std::string& out) {
  const std::string N = name + ".";
  const int64_t e = tokens * width, h = e / 2;
  const double E = double(e), H = double(h);
  // freqs_cis[input_pos]: (cos, sin) per pair of a head's features, broadcast over the heads.
  const double table = double(tokens) * double(head_dim);
  const size_t first = as_fp32(b, b.add(N + "float", OpKind::elementwise, "copy", ElementwiseShape{e, 1, 0},
                                        {b.t(in, E)}, {f32(N + "xf", E)}));
  // Each product reads one of every pair (x[..., 0] or x[..., 1]): a stride-2 view, the framework's non-vectorized
  // kernel.
  auto product = [&](const std::string& n) {
    as_fp32(b, b.add(N + n, OpKind::elementwise, "mul_strided", ElementwiseShape{h, 2, 1},
                     {f32(N + "xf", H), b.t("freqs_cis", table)}, {f32(N + n, H)}));
  };
  product("x0f0");
  product("x1f1");
  as_fp32(b, b.add(N + "sub", OpKind::elementwise, "sub", ElementwiseShape{h, 2, 1},
                   {f32(N + "x0f0", H), f32(N + "x1f1", H)}, {f32(N + "re", H)}));
  product("x1f0");
  product("x0f1");
  as_fp32(b, b.add(N + "add", OpKind::elementwise, "add", ElementwiseShape{h, 2, 1},
                   {f32(N + "x1f0", H), f32(N + "x0f1", H)}, {f32(N + "im", H)}));
  // torch.stack interleaves the two halves back into pairs: a strided write.
  as_fp32(b, b.add(N + "stack", OpKind::elementwise, "copy_strided", ElementwiseShape{e, 2, 0},
                   {f32(N + "re", H), f32(N + "im", H)}, {f32(N + "xo", E)}));
  b.add(N + "type_as", OpKind::elementwise, "copy", ElementwiseShape{e, 1, 0}, {f32(N + "xo", E)}, {b.t(out, E)});
  return first;
}

size_t add_math_attention(WorkloadBuilder& b, const std::string& name, const AttentionShape& a, const std::string& q,
                          const std::string& k, const std::string& v, const std::string& out) {
  const std::string N = name + ".";
  const double rows = double(a.batch) * a.heads_q * a.seq_q;  // one softmax row per query and head
  const double qe = rows * a.head_dim, ke = double(a.batch) * a.heads_kv * a.seq_kv * a.head_dim;
  const double ge = double(a.batch) * a.heads_q * a.seq_kv * a.head_dim;  // k or v with the query heads
  const double se = rows * a.seq_kv;                                       // scores
  std::string kq = k, vq = v;
  size_t first = SIZE_MAX;
  if (a.heads_q != a.heads_kv) {
    first = b.add(N + "repeat_k", OpKind::elementwise, "copy", ElementwiseShape{int64_t(ge), 1, 0}, {b.t(k, ke)},
                  {b.t(N + "k_rep", ge)});
    b.add(N + "repeat_v", OpKind::elementwise, "copy", ElementwiseShape{int64_t(ge), 1, 0}, {b.t(v, ke)},
          {b.t(N + "v_rep", ge)});
    kq = N + "k_rep";
    vq = N + "v_rep";
  }
  const size_t qs = b.add(N + "scale_q", OpKind::elementwise, "mul", ElementwiseShape{int64_t(qe), 1, 1},
                          {b.t(q, qe)}, {b.t(N + "q", qe)});
  if (first == SIZE_MAX) first = qs;
  b.add(N + "scale_k", OpKind::elementwise, "mul", ElementwiseShape{int64_t(ge), 1, 1}, {b.t(kq, ge)},
        {b.t(N + "kt", ge)});
  const int64_t bh = a.batch * a.heads_q;
  b.matmul(N + "qk", MatmulShape{bh, a.seq_q, a.seq_kv, a.head_dim, false}, N + "q", N + "kt", N + "scores");
  // The boolean mask (a slice of the causal mask, broadcast over batch and heads) becomes an additive one:
  // logical_not, then where(-inf, 0).
  const double me = double(a.seq_q) * a.seq_kv;
  b.add(N + "mask_not", OpKind::elementwise, "logical_not", ElementwiseShape{int64_t(me), 1, 1},
        {{"attn_mask", me}}, {{N + "mask_not", me}});
  b.add(N + "mask_where", OpKind::elementwise, "where", ElementwiseShape{int64_t(me), 1, 1},
        {{N + "mask_not", me}}, {b.t(N + "mask_add", me)});
  b.add(N + "add_mask", OpKind::elementwise, "add", ElementwiseShape{int64_t(se), 2, 1},
        {b.t(N + "scores", se), b.t(N + "mask_add", me)}, {b.t(N + "scores_m", se)});
  b.add(N + "softmax", OpKind::softmax, "softmax", RowShape{int64_t(rows), a.seq_kv}, {b.t(N + "scores_m", se)},
        {b.t(N + "probs", se)});
  b.matmul(N + "pv", MatmulShape{bh, a.seq_q, a.head_dim, a.seq_kv, false}, N + "probs", vq, out);
  return first;
}

size_t add_sampler_ops(WorkloadBuilder& b, int64_t batch, int64_t vocab, const std::string& logits) {
  const double V = double(batch) * double(vocab), B = double(batch);
  const int64_t v = batch * vocab;
  const size_t first = b.add("sample.temperature", OpKind::elementwise, "div", ElementwiseShape{v, 1, 1},
                             {b.t(logits, V)}, {b.t("sample.logits", V)});
  // torch.topk over each row (k = 200 by default): one pass over the row, the k survivors kept.
  b.add("sample.topk", OpKind::norm, "topk", RowShape{batch, vocab}, {b.t("sample.logits", V)},
        {b.t("sample.top", B * 200)});
  b.add("sample.below", OpKind::elementwise, "lt", ElementwiseShape{v, 2, 1},
        {b.t("sample.logits", V), b.t("sample.top", B)}, {{"sample.below", V}});
  b.add("sample.where", OpKind::elementwise, "where", ElementwiseShape{v, 2, 1},
        {{"sample.below", V}, b.t("sample.logits", V)}, {b.t("sample.kept", V)});
  b.add("sample.softmax", OpKind::softmax, "softmax", RowShape{batch, vocab}, {b.t("sample.kept", V)},
        {b.t("sample.probs", V)});
  b.add("sample.exponential", OpKind::elementwise, "exponential", ElementwiseShape{v, 0, 8}, {},
        {b.t("sample.q", V)});
  b.add("sample.div", OpKind::elementwise, "div", ElementwiseShape{v, 2, 1},
        {b.t("sample.probs", V), b.t("sample.q", V)}, {b.t("sample.ratio", V)});
  b.add("sample.argmax", OpKind::norm, "argmax", RowShape{batch, vocab}, {b.t("sample.ratio", V)},
        {{"sample.index", B * 8}});
  b.add("sample.to_int", OpKind::elementwise, "copy", ElementwiseShape{batch, 1, 0}, {{"sample.index", B * 8}},
        {{"sample.token", B * 4}});
  b.add("sample.next_pos", OpKind::elementwise, "add", ElementwiseShape{1, 1, 1}, {{"input_pos", 8}},
        {{"input_pos", 8}});
  b.add("sample.keep_token", OpKind::elementwise, "copy", ElementwiseShape{batch, 1, 0}, {{"sample.token", B * 4}},
        {{"tokens.out", B * 4}});
  b.add("sample.keep_prob", OpKind::elementwise, "copy", ElementwiseShape{v, 1, 0}, {b.t("sample.probs", V)},
        {b.t("probs.out", V)});
  return first;
}

}  // namespace xpu
