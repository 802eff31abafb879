#include "sim/config/area_estimate.h"

namespace xpu {

double mac_area_factor(const std::string& d) {
  // Significand bits (with the hidden bit) squared, against bf16's 8, plus the accumulator and staging that every
  // dtype keeps (40 % of a bf16 MAC): fp16/tf32 11 bits, fp8 (e4m3) 4, int8 8 (no exponent logic: 0.8 of bf16's
  // multiplier), int4 4, fp32 24.
  auto f = [](double bits, double mult = 1.0) { return 0.4 + 0.6 * mult * (bits / 8) * (bits / 8); };
  if (d == "bf16") return 1.0;
  if (d == "fp16" || d == "tf32") return f(11);
  if (d == "fp8") return f(4);
  if (d == "int8") return f(8, 0.8);
  if (d == "int4") return f(4, 0.8);
  if (d == "fp32") return f(24);
  if (d == "fp64") return f(53);
  return 1.0;
}

}  // namespace xpu
