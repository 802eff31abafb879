#pragma once
// A small, valid design point built from arbitrary bytes: an H100-based config with its main rates, sizes and power
// cap moved within wide bounds, and an explicit workload of one to six ops of any kind, shapes bounded so that one
// simulation takes milliseconds. The simulation fuzzer (fuzz/fuzz_simulation.cpp) runs one per input; the property
// test (tests/test_properties.cpp) runs a seeded series. Both hold every result to check_invariants().
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace xpu::fuzz {

// Reads bounded choices from bytes; past the end, every choice is its lowest value.
class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint32_t u32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | (pos_ < size_ ? data_[pos_++] : 0);
    return v;
  }
  int64_t integer(int64_t lo, int64_t hi) { return lo + int64_t(u32() % uint64_t(hi - lo + 1)); }
  // Log-uniform over [lo, hi]: sizes and rates span decades.
  double log_range(double lo, double hi) {
    const double u = double(u32()) / 4294967295.0;
    return lo * std::pow(hi / lo, u);
  }
  int64_t log_int(int64_t lo, int64_t hi) {
    return std::max(lo, std::min(hi, int64_t(std::llround(log_range(double(lo), double(hi))))));
  }
  bool flag() { return u32() & 1; }

 private:
  const uint8_t* data_;
  size_t size_, pos_ = 0;
};

struct SimCase {
  std::string hw_yaml, wl_yaml;  // the config extends `base` (an absolute path to configs/h100.yaml)
};

inline std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

inline SimCase make_sim_case(ByteReader& in, const std::string& base) {
  SimCase c;
  c.hw_yaml = "extends: " + base + "\ncomponents:\n";
  c.hw_yaml += "  gpu: {units: " + std::to_string(in.log_int(1, 264)) + ", clock: " + num(in.log_range(0.2, 3)) +
               " GHz, max_tiles_per_unit: " + std::to_string(in.integer(1, 4)) +
               ", tdp: " + (in.flag() ? std::string("0 W") : num(in.log_range(120, 2000)) + " W") + "}\n";
  c.hw_yaml += "  hbm: {bandwidth: " + num(in.log_range(0.05, 20)) + " TB/s, stream_efficiency: " +
               num(in.log_range(0.3, 1)) + "}\n";
  c.hw_yaml += "  l2: {capacity: " + (in.flag() ? std::string("0 B") : num(in.log_range(0.5, 256)) + " MiB") +
               ", bandwidth: " + num(in.log_range(0.5, 40)) + " TB/s}\n";
  c.hw_yaml += "  host: {launch_latency: " + num(in.log_range(0.1, 30)) + " us}\n";

  static const char* const dtypes[] = {"bf16", "fp16", "fp32", "fp8"};
  const int n = int(in.integer(1, 6));
  c.wl_yaml = "name: fuzz\nops:\n";
  for (int i = 0; i < n; ++i) {
    const std::string name = "op" + std::to_string(i);
    const std::string dt = dtypes[in.integer(0, 3)];
    std::string op = "  - {name: " + name + ", ";
    switch (in.integer(0, 6)) {
      case 0:
        op += "kind: matmul, dtype: " + dt + ", batch: " + std::to_string(in.log_int(1, 8)) +
              ", m: " + std::to_string(in.log_int(1, 4096)) + ", n: " + std::to_string(in.log_int(1, 4096)) +
              ", k: " + std::to_string(in.log_int(1, 8192));
        break;
      case 1: {
        const int64_t hkv = in.log_int(1, 16), group = in.log_int(1, 8);
        const int64_t sq = in.flag() ? 1 : in.log_int(1, 2048);
        op += "kind: attention, dtype: " + std::string(dt == "fp32" || dt == "fp8" ? "bf16" : dt) +
              ", batch: " + std::to_string(in.log_int(1, 8)) + ", heads_q: " + std::to_string(hkv * group) +
              ", heads_kv: " + std::to_string(hkv) + ", seq_q: " + std::to_string(sq) +
              ", seq_kv: " + std::to_string(sq + in.log_int(0, 4096)) + ", head_dim: " +
              std::to_string(in.flag() ? 64 : 128) + ", causal: " + (in.flag() ? "true" : "false");
        break;
      }
      case 2:
        op += "kind: elementwise, variant: add, dtype: " + dt + ", elements: " + std::to_string(in.log_int(1, 1 << 24)) +
              ", flops_per_element: " + num(in.log_range(0.5, 16));
        break;
      case 3:
        op += "kind: norm, variant: rmsnorm, dtype: " + dt + ", rows: " + std::to_string(in.log_int(1, 16384)) +
              ", cols: " + std::to_string(in.log_int(1, 16384));
        break;
      case 4:
        op += "kind: softmax, dtype: " + dt + ", rows: " + std::to_string(in.log_int(1, 16384)) +
              ", cols: " + std::to_string(in.log_int(1, 16384));
        break;
      case 5:
        op += "kind: embedding_bag, dtype: fp32, tables: " + std::to_string(in.log_int(1, 8)) +
              ", rows: " + std::to_string(in.log_int(1, 1000000)) + ", dim: " + std::to_string(in.log_int(1, 256)) +
              ", batch: " + std::to_string(in.log_int(1, 4096)) + ", pooling: " + std::to_string(in.log_int(1, 64));
        break;
      default:
        op += "kind: interaction, dtype: " + dt + ", batch: " + std::to_string(in.log_int(1, 4096)) +
              ", features: " + std::to_string(in.log_int(1, 32)) + ", dim: " + std::to_string(in.log_int(1, 256));
        break;
    }
    // Sometimes the op depends on an earlier one only, not on the one above: streams may then overlap.
    if (i >= 2 && in.flag()) op += ", after: [op" + std::to_string(in.integer(0, i - 2)) + "]";
    c.wl_yaml += op + "}\n";
  }
  return c;
}

// What every result must satisfy; returns the first violation, empty when none.
inline std::string check_invariants(const nlohmann::json& r) {
  auto finite_nonneg = [](double v) { return std::isfinite(v) && v >= 0; };
  const double t = r.value("total_time_s", -1.0), e = r.value("energy_j", -1.0);
  if (!std::isfinite(t) || t <= 0) return "total_time_s is " + num(t);
  if (!finite_nonneg(e) || e <= 0) return "energy_j is " + num(e);
  const double active = r.value("gpu_active_s", -1.0), busy = r.value("gpu_busy_s", -1.0);
  if (!finite_nonneg(active) || active > t * (1 + 1e-9)) return "gpu_active_s " + num(active) + " of " + num(t);
  if (!finite_nonneg(busy) || busy + 1e-15 < active * (1 - 1e-9)) return "gpu_busy_s " + num(busy) + " < active";
  const auto& en = r["energy"];
  const double parts = en.value("compute_j", 0.0) + en.value("data_movement_j", 0.0) + en.value("static_j", 0.0);
  if (std::abs(parts - e) > 1e-9 * std::max(1.0, e)) return "energy parts " + num(parts) + " != total " + num(e);
  double sum = 0;
  for (const auto& [name, c] : r["components"].items()) {
    const double u = c.value("utilization", 0.0);
    if (!std::isfinite(u) || u < 0 || u > 1 + 1e-6) return "component " + name + " busy share " + num(u);
    const double ce = c.value("energy_dynamic_j", 0.0) + c.value("energy_static_j", 0.0);
    if (!finite_nonneg(ce)) return "component " + name + " energy " + num(ce);
    sum += ce * c.value("copies", 1.0);
  }
  if (std::abs(sum - e) > 1e-6 * std::max(1e-12, e)) return "components sum to " + num(sum) + " J, total " + num(e);
  const double items = r["workload"].value("items", 0.0), thr = r.value("throughput_items_per_s", 0.0);
  if (items > 0 && std::abs(thr * t - items) > 1e-9 * items) return "throughput x time != items";
  for (const auto& op : r["ops"]) {
    const double s = op.value("start_s", -1.0), d = op.value("duration_s", -1.0);
    if (!finite_nonneg(s) || !finite_nonneg(d) || s + d > t * (1 + 1e-9)) return "op " + op.value("name", "?") + " times";
    if (!finite_nonneg(op.value("energy_j", 0.0))) return "op " + op.value("name", "?") + " energy";
  }
  return "";
}

}  // namespace xpu::fuzz
