#pragma once
// The transformer generator's entry for engines that build many forward passes of one model: a serving iteration
// whose requests differ (decodes with their own cached lengths, prefill chunks of their own size).
#include <string>
#include <vector>

#include "sim/config/params.h"
#include "sim/workload/op.h"

namespace xpu {

// Requests that run as one attention kernel: `batch` sequences of `seq_q` new tokens each, attending to `seq_kv`
// tokens (those cached before plus the new ones).
struct AttentionGroup {
  int64_t batch = 1, seq_q = 1, seq_kv = 1;
};

// One forward pass over the groups' tokens together: the matmuls see all tokens at once (continuous batching), each
// group gets its own attention kernel, the lm_head one row per sequence. `p` are the transformer generator's
// validated parameters (batch, seq, kv, prefix and mode are ignored). With `stages` > 1, the part of pipeline stage
// `stage`: layers / stages of the layers, the embedding on the first, the lm_head on the last, and a send of the
// activations to the next stage at the end of every stage but the last.
Workload build_transformer_iteration(const ParamSet& p, const std::vector<AttentionGroup>& groups,
                                     const std::string& name, int stage = 0, int stages = 1);

}  // namespace xpu
