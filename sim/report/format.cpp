#include "sim/report/format.h"

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <vector>

namespace xpu {

std::string fmt(const char* f, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, f);
  int n = std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  if (n < 0) return {};
  if (size_t(n) < sizeof buf) return std::string(buf, size_t(n));
  std::vector<char> big(size_t(n) + 1);  // long SVG elements and table rows
  va_start(ap, f);
  std::vsnprintf(big.data(), big.size(), f, ap);
  va_end(ap);
  return std::string(big.data(), size_t(n));
}

std::string fmt_time(double s) {
  if (s < 1e-3) return fmt("%.2f us", s * 1e6);
  if (s < 1) return fmt("%.3f ms", s * 1e3);
  return fmt("%.3f s", s);
}

std::string fmt_si(double v, const char* unit) {
  static const char* const prefix[] = {"", "K", "M", "G", "T", "P", "E"};
  int i = 0;
  while (i < 6 && std::abs(v) >= 1000) { v /= 1000; ++i; }
  return fmt("%.4g %s%s", v, prefix[i], unit);
}

std::string fmt_count(double n) {
  if (n >= 1e9) return fmt("%.2fG", n / 1e9);
  if (n >= 1e6) return fmt("%.2fM", n / 1e6);
  if (n >= 1e3) return fmt("%.2fk", n / 1e3);
  return fmt("%.0f", n);
}

std::string fmt_energy(double j) {
  if (j != 0 && j < 1e-3) return fmt("%.3f uJ", j * 1e6);
  if (j != 0 && j < 1) return fmt("%.3f mJ", j * 1e3);
  return fmt("%.3f J", j);
}

}  // namespace xpu
