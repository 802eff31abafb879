#pragma once
// Number formatting shared by the text summary and the HTML report, so both print a time or an energy alike.
#include <string>

namespace xpu {

// snprintf into a std::string of any length.
std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt_time(double s);    // 12.34 us, 1.234 ms, 1.234 s
std::string fmt_energy(double j);  // uJ, mJ or J with three decimals
std::string fmt_count(double n);   // 950, 12.35k, 4.56M, 7.89G
std::string fmt_si(double v, const char* unit);  // 2.303 TB/s, 806.6 KB/s, 17.27 TFLOP/s: the prefix that fits
inline double ratio(double a, double b) { return b > 0 ? a / b : 0; }

}  // namespace xpu
