#pragma once
// The software stack that runs a workload, as a rewrite of its op graph and a way of launching it:
//  - eager: PyTorch eager mode, one kernel per framework op, each dispatched by the host (the calibrated default);
//  - compiled: torch.compile (Inductor, default mode): chains of pointwise ops, and pointwise ops around one
//    reduction (a norm or softmax with the residual add before it, an activation after it), become one kernel each, so
//    the tensors between them never go to memory; GEMMs, attention and collectives stay library calls, as Inductor
//    leaves them by default (no epilogue fusion into cuBLAS); the host launches each kernel from generated code;
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
