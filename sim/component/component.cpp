#include "sim/component/component.h"

#include <cmath>

namespace xpu {

Component::Component(sc_core::sc_module_name name, const std::string& type, const ParamSet& params)
    : sc_core::sc_module(name), type_(type), params_(params) {}

void Component::finish(double sim_seconds) { energy_static_.set(static_power_w() * sim_seconds); }

void Component::read_counters(std::vector<double>& out) {
  for (const Stat* s : stats_.stats()) out.push_back(s->value());
  std::vector<double*> d;
  std::vector<uint64_t*> u;
  extra_counters(d, u);
  for (double* x : d) out.push_back(*x);
  for (uint64_t* x : u) out.push_back(double(*x));
}

void Component::add_counters(const double*& delta) {
  for (Stat* s : stats_.stats())
    if (double v = *delta++; v != 0) *s += v;
  std::vector<double*> d;
  std::vector<uint64_t*> u;
  extra_counters(d, u);
  for (double* x : d) *x += *delta++;
  for (uint64_t* x : u) *x += uint64_t(std::llround(*delta++));
}

}  // namespace xpu
