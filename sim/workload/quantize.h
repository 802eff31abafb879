#pragma once
// Weight-only quantization: the linear layers' weights stored in fewer bits and dequantized inside each GEMM.
#include <cstdint>

#include "sim/workload/op.h"

namespace xpu {

// Every matmul whose B operand is a weight (shared by the batch and read from memory, not produced by the step) keeps
// it in `bits` (8 or 4) with a 2-byte scale per `group` weights along K (int4: and a zero point; group 0: one per
// output column): its bytes shrink accordingly (the footprint follows) and the GEMM mapper dequantizes it.
void quantize_weights(Workload& w, int bits, int64_t group);

}  // namespace xpu
