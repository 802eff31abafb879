#include "sim/trace/replay_compare.h"

#include <cstdio>

#include "sim/trace/trace_names.h"

namespace xpu {
namespace {
const std::vector<std::string>& class_names() {
  static const std::vector<std::string> n = {"GEMM", "convolution", "attention", "elementwise", "norm", "collective", "other", "unmodelled"};
  return n;
}
}  // namespace

const char* kernel_class(const Op& op) {
  if (is_unmodelled(op)) return "unmodelled";
  switch (op.kind) {
    case OpKind::matmul: return op.variant.rfind("conv", 0) == 0 ? "convolution" : "GEMM";
    case OpKind::attention: return "attention";
    case OpKind::elementwise: return "elementwise";
    case OpKind::norm:
    case OpKind::softmax: return "norm";
    case OpKind::collective: return "collective";
    default: return "other";
  }
}

Comparison compare_with_trace(const Workload& w, const RunResult& r) { return compare_with_traces({&w}, r); }

Comparison compare_with_traces(const std::vector<const Workload*>& ranks, const RunResult& r) {
  Comparison c;
  for (const auto& n : class_names()) c.classes.push_back({n});
  for (const OpRecord& rec : r.ops) {
    const size_t rank = rec.rank < 0 ? 0 : size_t(rec.rank);
    if (rank >= ranks.size() || rec.index >= ranks[rank]->ops.size()) continue;
    const Op& op = ranks[rank]->ops[rec.index];
    if (op.measured_us < 0) continue;
    std::string cls = kernel_class(op);
    for (auto& k : c.classes)
      if (k.name == cls) {
        ++k.count;
        k.measured_us += op.measured_us;
        k.sim_us += rec.duration_s() * 1e6;
      }
    ++c.measured_ops;
    c.measured_us += op.measured_us;
    c.sim_us += rec.duration_s() * 1e6;
  }
  return c;
}

void print_comparison(std::ostream& out, const Comparison& c) {
  char line[160];
  out << "\nMeasured (trace) vs simulated, per kernel class\n";
  if (!c.measured_ops) {
    out << "  the trace records no kernel durations: nothing to compare\n";
    return;
  }
  std::snprintf(line, sizeof line, "  %-12s %7s %14s %14s %9s\n", "class", "kernels", "measured us", "simulated us",
                "sim/meas");
  out << line;
  auto row = [&](const std::string& name, size_t n, double m, double s) {
    if (m > 0) std::snprintf(line, sizeof line, "  %-12s %7zu %14.2f %14.2f %9.3f\n", name.c_str(), n, m, s, s / m);
    else std::snprintf(line, sizeof line, "  %-12s %7zu %14.2f %14.2f %9s\n", name.c_str(), n, m, s, "-");
    out << line;
  };
  for (const auto& k : c.classes)
    if (k.count) row(k.name, k.count, k.measured_us, k.sim_us);
  row("total", c.measured_ops, c.measured_us, c.sim_us);
  double kept = 0;
  for (const auto& k : c.classes)
    if (k.name == "unmodelled") kept = k.measured_us;
  std::snprintf(line, sizeof line,
                "  re-timed by xpusim's models: %.1f%% of the measured GPU time; kept at its measured duration: %.1f%%\n",
                c.measured_us > 0 ? 100 * (c.measured_us - kept) / c.measured_us : 0,
                c.measured_us > 0 ? 100 * kept / c.measured_us : 0);
  out << line;
}

nlohmann::json comparison_to_json(const Comparison& c) {
  nlohmann::json j = nlohmann::json::object();
  double kept = 0;
  for (const auto& k : c.classes) {
    j[k.name] = {{"kernels", k.count}, {"measured_us", k.measured_us}, {"sim_us", k.sim_us}};
    if (k.name == "unmodelled") kept = k.measured_us;
  }
  j["retimed_share"] = c.measured_us > 0 ? (c.measured_us - kept) / c.measured_us : 0.0;
  return j;
}

}  // namespace xpu
