#pragma once
// The software stack that runs a workload, as a rewrite of its op graph and a way of launching it:
//  - eager: PyTorch eager mode, one kernel per framework op, each dispatched by the host (the calibrated default);
//  - compiled: torch.compile (Inductor): chains of pointwise ops, and pointwise ops around one reduction (a norm or
//    softmax with the residual add before it, an activation after it), become one kernel each, and a GEMM takes the
//    pointwise ops on its output into its epilogue, so the tensors between them never go to memory; attention,
//    collectives and weight-only quantized matmuls stay library calls; the host launches each kernel from generated
//    code;
//  - graphs: compiled, and the whole step replayed as one CUDA graph: one host launch per step, device-side gaps only.
#include <string>

#include "sim/workload/op.h"

namespace xpu {

enum class Stack { eager, compiled, graphs };
const char* stack_name(Stack s);
Stack parse_stack(const std::string& s);  // throws std::invalid_argument naming the choices

// Rewrites `w` for `s` and records it in w.stack, w.eager_kernels and w.fused_bytes.
void apply_stack(Workload& w, Stack s);

}  // namespace xpu
