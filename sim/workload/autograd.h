#pragma once
// Training steps for any generated forward graph: appends the backward pass that eager autograd would run (two
// GEMMs per matmul, attention backward, norm and activation backward, gradient accumulation where a tensor feeds
// several ops), optional activation recomputation, and an AdamW update of the weights with fp32 master copies.
#include "sim/workload/op.h"

namespace xpu {

struct TrainingOptions {
  bool recompute = false;   // re-run each layer's forward just before its backward (activation checkpointing)
  bool optimizer = true;    // AdamW over every weight that received a gradient
  int64_t tp = 1;           // tensor parallel group: all-reduce after the data gradient of column-parallel matmuls
  int64_t dp = 1;           // data parallel group: all-reduce of each layer's weight gradients before the update
};

// Whether `op` produces a weight's gradient (wgrad GEMMs, norm weight gradients, embedding backward).
bool is_weight_grad(const Op& op);

// `w` holds a forward pass in issue order; the loss's backward kernel writes the gradient of its last op's output.
void append_training_step(Workload& w, const TrainingOptions& opt);

// The end of a training step: per layer, the data-parallel all-reduce of the weight gradients (dp > 1) and the AdamW
// update (when `adamw`). Weight gradients are found by the ops that produce them (wgrad GEMMs, norm weight gradients,
// embedding backward), so it also serves several micro-batches that accumulate into the same gradients.
void append_weight_update(Workload& w, int64_t dp, bool adamw);

}  // namespace xpu
