#pragma once
// Number formats: named by hardware configs (rates and energies per dtype), by workloads and by traces alike, so the
// vocabulary sits in the configuration base rather than in the op IR.
#include <string>

namespace xpu {

enum class DType { fp32, tf32, fp16, bf16, fp8, int8 };
const char* dtype_name(DType d);
// Storage bytes of one element (tf32 is stored as fp32).
double dtype_bytes(DType d);
// Throws std::invalid_argument for an unknown name; accepts torch spellings (bfloat16, float16, float32, ...).
DType parse_dtype(const std::string& s);

}  // namespace xpu
