#include "sim/config/dtype.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace xpu {

const char* dtype_name(DType d) {
  switch (d) {
    case DType::fp32: return "fp32";
    case DType::tf32: return "tf32";
    case DType::fp16: return "fp16";
    case DType::bf16: return "bf16";
    case DType::fp8: return "fp8";
    case DType::int8: return "int8";
  }
  return "?";
}

double dtype_bytes(DType d) {
  switch (d) {
    case DType::fp32:
    case DType::tf32: return 4;
    case DType::fp16:
    case DType::bf16: return 2;
    case DType::fp8:
    case DType::int8: return 1;
  }
  return 4;
}

DType parse_dtype(const std::string& raw) {
  std::string s = raw;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  if (s.rfind("torch.", 0) == 0) s = s.substr(6);
  if (s == "fp32" || s == "float32" || s == "float" || s == "f32") return DType::fp32;
  if (s == "tf32" || s == "float32_tf32") return DType::tf32;
  if (s == "fp16" || s == "float16" || s == "half" || s == "f16") return DType::fp16;
  if (s == "bf16" || s == "bfloat16") return DType::bf16;
  if (s == "fp8" || s == "float8_e4m3fn" || s == "e4m3" || s == "fp8_e4m3" || s == "float8_e5m2") return DType::fp8;
  if (s == "int8" || s == "i8") return DType::int8;
  throw std::invalid_argument("unknown dtype '" + raw + "' (expected fp32, tf32, fp16, bf16, fp8 or int8)");
}

}  // namespace xpu
