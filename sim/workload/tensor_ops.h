#pragma once
// Model code written as tensor expressions (gpt-fast's model.py and generate.py), where eager PyTorch launches one
// kernel per expression: RMSNorm as eight ops, the rotary embedding as nine, attention by SDPA's math fallback, the
// sampler of a decode loop. The library form of each (one fused kernel) is in transformer.cpp; `stack: compiled`
// fuses these chains back (sim/workload/stack.cpp), so the two forms differ in eager only.
#include <string>

#include "sim/workload/builder.h"

namespace xpu {

// x * rsqrt(mean(x.float()^2) + eps), cast back, times the weight, over `rows` of `cols`: reads `in`, writes `out`.
// Returns the index of its first op.
size_t add_rmsnorm_ops(WorkloadBuilder& b, const std::string& name, int64_t rows, int64_t cols, const std::string& in,
                       const std::string& out);

// apply_rotary_emb on `width` features of each of `tokens` rows: the pairs (x0, x1) become
// (x0 f0 - x1 f1, x1 f0 + x0 f1) in fp32, stacked back and cast. Reads `in` (and the rotary table), writes `out`.
size_t add_rotary_ops(WorkloadBuilder& b, const std::string& name, int64_t tokens, int64_t width,
                      int64_t head_dim, const std::string& in, const std::string& out);

// F.scaled_dot_product_attention by the math fallback with a boolean mask: q and k each scaled by sqrt(scale), a
// batched q k^T, the mask turned into an additive one and added, softmax, a batched product with v. Grouped heads
// are first repeated to the query heads (repeat_interleave: a copy of the cache when heads_q > heads_kv).
size_t add_math_attention(WorkloadBuilder& b, const std::string& name, const AttentionShape& a, const std::string& q,
                          const std::string& k, const std::string& v, const std::string& out);

// One token of gpt-fast's decode loop after the logits: temperature, top-k and its threshold, softmax, the
// exponential race that replaces multinomial sampling, argmax and the cast (logits_to_probs, sample), then the loop's
// own ops (the position increment, the copies of the token and its probability kept for the caller).
size_t add_sampler_ops(WorkloadBuilder& b, int64_t batch, int64_t vocab, const std::string& logits);

}  // namespace xpu
