#include "sim/validate/validate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "sim/engine/isolated_run.h"
#include "sim/validate/case_workload.h"

namespace xpu {
namespace {

// Measured ceilings of the cases file; where one is missing, the config's datasheet figure.
struct Ceilings {
  std::map<DType, double> flops;  // FLOP/s
  double bytes_per_s = 0;
  double rate(DType d) const {
    auto it = flops.find(d);
    if (it != flops.end()) return it->second;
    if (d == DType::fp8 || d == DType::int8) {  // twice the 16-bit rate on tensor-core machines
      auto b = flops.find(DType::bf16);
      if (b != flops.end()) return 2 * b->second;
    }
    return flops.empty() ? 1e15 : flops.begin()->second;
  }
};

Ceilings ceilings(const HardwareConfig& hw, const nlohmann::json& cases) {
  Ceilings c;
  for (const auto& comp : hw.components) {
    if (comp.type == "compute_core") {
      double per_unit_clk = comp.params.count("units") * comp.params.qty("clock");
      for (const auto& [k, v] : comp.params.dmap("matrix_flops_per_clk")) c.flops[parse_dtype(k)] = v * per_unit_clk;
      for (const auto& [k, v] : comp.params.dmap("vector_flops_per_clk"))
        if (!c.flops.count(parse_dtype(k))) c.flops[parse_dtype(k)] = v * per_unit_clk;
    }
    if (comp.type == "hbm") c.bytes_per_s = comp.params.qty("bandwidth");
  }
  if (cases.contains("ceilings") && cases["ceilings"].is_object()) {
    for (const auto& [k, v] : cases["ceilings"].items()) {
      if (!v.is_number()) continue;
      const std::string pre = "gemm8192_", post = "_TFLOPs";
      if (k.rfind(pre, 0) == 0 && k.size() > pre.size() + post.size() && k.substr(k.size() - post.size()) == post) {
        try {
          c.flops[parse_dtype(k.substr(pre.size(), k.size() - pre.size() - post.size()))] = v.get<double>() * 1e12;
        } catch (const std::invalid_argument&) {
        }
      }
      if (k == "d2d_copy_GBps_rw") c.bytes_per_s = v.get<double>() * 1e9;
    }
  }
  return c;
}

double roofline_s(const Workload& w, const Ceilings& c) {
  double t = 0;
  for (const auto& op : w.ops) t += std::max(op.flops() / c.rate(op.dtype), op.min_bytes() / c.bytes_per_s);
  return t;
}

struct Errors {
  std::vector<double> sim, roof;
  size_t rows = 0, failed = 0;
};

double pct(const std::vector<double>& v, const char* what) {
  if (v.empty()) return NAN;
  std::vector<double> s = v;
  std::sort(s.begin(), s.end());
  if (std::string(what) == "median") return 100 * s[s.size() / 2];
  if (std::string(what) == "worst") return 100 * s.back();
  double sum = 0;
  for (double x : s) sum += x;
  return 100 * sum / s.size();
}

nlohmann::json stats_json(const Errors& e) {
  auto num = [](double x) { return std::isnan(x) ? nlohmann::json(nullptr) : nlohmann::json(x); };
  return {{"rows", e.rows},
          {"simulated", e.sim.size()},
          {"failed", e.failed},
          {"mape_pct", num(pct(e.sim, "mape"))},
          {"median_pct", num(pct(e.sim, "median"))},
          {"worst_pct", num(pct(e.sim, "worst"))},
          {"roofline_mape_pct", num(pct(e.roof, "mape"))},
          {"roofline_median_pct", num(pct(e.roof, "median"))},
          {"roofline_worst_pct", num(pct(e.roof, "worst"))}};
}

double host_qty(const HardwareConfig& hw, const char* key) {
  for (const auto& c : hw.components)
    if (c.type == "host") return c.params.qty(key);
  return 0;
}

// Device time of a micro benchmark: from the first kernel's start to the last one's end, plus one kernel gap for the
// events that bracket it in the measurement.
double span_s(const nlohmann::json& r, double gap) {
  double a = 1e300, b = 0;
  for (const auto& op : r["ops"]) {
    a = std::min(a, op["start_s"].get<double>());
    b = std::max(b, op["end_s"].get<double>());
  }
  return r["ops"].empty() ? 0 : b - a + gap;
}

}  // namespace

const std::vector<std::string>& case_sections() {
  static const std::vector<std::string> s = {"gemm", "attention", "elementwise", "embedding_bag", "models"};
  return s;
}

std::string measured_key(const std::string& section, const nlohmann::json& row, bool warm) {
  if (section == "models") return "";
  if (warm) return "ms_warm";
  // A row measured only warm (a profiler's loop, e.g. Vidur's) is compared warm.
  return row.contains("ms_cold") || !row.contains("ms_warm") ? "ms_cold" : "ms_warm";
}

nlohmann::json simulate_cases(const HardwareConfig& hw, const nlohmann::json& cases, const ValidateOptions& opt) {
  if (!cases.is_object()) throw InputError("a cases file must be a JSON object with sections");
  bool any = false;
  for (const auto& s : case_sections()) any = any || cases.contains(s);
  if (!any)
    throw InputError("no calibration section in the cases (expected one of gemm, attention, elementwise, "
                     "embedding_bag, models)");
  const Ceilings ceil = ceilings(hw, cases);
  // A cold row's call is bracketed by events in a stream; a warm row is one call of a CUDA-graph replay (the
  // schema's ms_warm), whose nodes follow each other with the graph's gap.
  const double gap = host_qty(hw, "kernel_gap"), graph_gap = host_qty(hw, "graph_kernel_gap");

  nlohmann::json result = cases;
  size_t total = 0, done = 0;
  for (const auto& s : case_sections())
    if (cases.contains(s) && cases[s].is_array()) total += cases[s].size();

  for (const auto& s : case_sections()) {
    if (!cases.contains(s)) continue;
    if (!cases[s].is_array()) throw InputError("section '" + s + "' must be a list of rows");
    for (size_t i = 0; i < cases[s].size(); ++i) {
      nlohmann::json& row = result[s][i];
      const std::string key = row.is_object() ? measured_key(s, row, opt.warm) : "";
      if (!key.empty()) row["compared_with"] = key;
      // `cache: evicted`: a profiler's loop over a whole layer, where the other ops' data evicts this op's
      // operands between calls but nothing flushes the cache (no flush penalty, operands start in memory).
      const bool evicted = row.is_object() && row.value("cache", "") == "evicted";
      const bool warm = key == "ms_warm" && !evicted;
      // Kernel time (a profiler's sum of kernel durations) rather than the span between the events around it.
      const bool kernel_time = row.is_object() && row.value("timing", "") == "kernel";
      try {
        Workload w = case_workload(s, cases[s][i]);
        // A warm row is a CUDA-graph replay: its kernels launch from the graph, not one by one from the host.
        if (warm && s != "models") w.stack = "graphs";
        RunOptions ro;
        // The benchmark flushes the L2 once per call: a multi-kernel row (silu then mul) runs its second kernel on
        // what the first left in the cache.
        ro.cold_start = s != "models" && !warm && !evicted;
        ro.warm_inputs = s != "models" && warm;
        nlohmann::json r = simulate_in_child(hw, w, ro);
        double roof = roofline_s(w, ceil);
        if (s == "models") {
          row["sim_gpu_busy_us"] = r["gpu_busy_s"].get<double>() * 1e6;
          row["sim_ms_per_iter"] = r["total_time_s"].get<double>() * 1e3;
          row["roofline_gpu_busy_us"] = roof * 1e6;
          row["roofline_ms_per_iter"] = roof * 1e3;
        } else {
          row["sim_ms"] = (kernel_time ? r["gpu_busy_s"].get<double>() : span_s(r, warm ? graph_gap : gap)) * 1e3;
          row["roofline_ms"] = roof * 1e3;
          // How the row's kernels were lowered and at what clock: why a row lands where it does.
          std::string how;
          for (const auto& op : r["ops"]) {
            if (!how.empty()) how += "; ";
            const std::string mapping = op.value("mapping", std::string());
            how += mapping.empty() ? op.value("name", std::string("op")) + " (no lowering recorded)" : mapping;
            if (op.value("clock_hz", 0.0) > 0) {
              char c[32];
              std::snprintf(c, sizeof c, " at %.2f GHz", op["clock_hz"].get<double>() * 1e-9);
              how += c;
            }
          }
          row["sim_mapping"] = how;
        }
        if (s == "attention" && cases[s][i].contains("ms_fwd_bwd_cold")) {
          Workload fb = attention_fwd_bwd_workload(cases[s][i]);
          row["sim_ms_fwd_bwd"] = span_s(simulate_in_child(hw, fb, ro), gap) * 1e3;
          row["roofline_ms_fwd_bwd"] = roofline_s(fb, ceil) * 1e3;
        }
      } catch (const InputError& e) {
        std::string msg = e.what();
        if (msg.rfind("error: ", 0) == 0) msg = msg.substr(7);
        row["sim_error"] = msg;
      }
      if (opt.progress) opt.progress(++done, total);
    }
  }
  return result;
}

const std::vector<CaseMetric>& case_metrics() {
  static const std::vector<CaseMetric> m = {
      {"gemm", "ms_cold", "sim_ms", "roofline_ms"},
      {"gemm", "ms_warm", "sim_ms", "roofline_ms"},
      {"attention", "ms_cold", "sim_ms", "roofline_ms"},
      {"attention", "ms_warm", "sim_ms", "roofline_ms"},
      {"attention", "ms_fwd_bwd_cold", "sim_ms_fwd_bwd", "roofline_ms_fwd_bwd"},
      {"elementwise", "ms_cold", "sim_ms", "roofline_ms"},
      {"elementwise", "ms_warm", "sim_ms", "roofline_ms"},
      {"embedding_bag", "ms_cold", "sim_ms", "roofline_ms"},
      {"embedding_bag", "ms_warm", "sim_ms", "roofline_ms"},
      {"models", "gpu_busy_us", "sim_gpu_busy_us", "roofline_gpu_busy_us"},
      {"models", "ms_per_iter_events", "sim_ms_per_iter", "roofline_ms_per_iter"},
  };
  return m;
}

bool row_measures(const nlohmann::json& row, const CaseMetric& m) {
  if (!row.is_object() || !row.contains(m.measured) || !row[m.measured].is_number()) return false;
  // A micro row is compared on the one time it was simulated for (cold or warm).
  if (m.predicted == "sim_ms" && row.value("compared_with", m.measured) != m.measured) return false;
  return true;
}

std::string case_family(const std::string& section, const nlohmann::json& row) {
  auto str = [&](const char* k, const char* def) {
    return row.contains(k) ? (row[k].is_string() ? row[k].get<std::string>() : row[k].dump()) : std::string(def);
  };
  if (section == "gemm") {
    const double m = row.value("M", 0.0), n = row.value("N", 0.0), k = row.value("K", 0.0);
    // Weight streaming (a few rows against a large matrix), compute-heavy, or small enough for start-up to matter.
    const char* shape = m <= 32 ? "stream" : 2 * m * n * k >= 2e11 ? "large" : "small";
    return "gemm/" + str("dtype", "bfloat16") + "/" + shape;
  }
  if (section == "attention") return "attention/" + str("kind", "?");
  if (section == "elementwise") return "elementwise/" + str("op", "?");
  if (section == "embedding_bag") return "embedding_bag/" + str("dtype", "float32");
  return "models/" + str("mode", "?");
}

std::vector<RowError> row_errors(const nlohmann::json& result) {
  std::vector<RowError> out;
  for (const auto& m : case_metrics()) {
    if (!result.contains(m.section) || !result[m.section].is_array()) continue;
    for (size_t i = 0; i < result[m.section].size(); ++i) {
      const nlohmann::json& row = result[m.section][i];
      if (!row_measures(row, m)) continue;
      RowError e;
      e.section = m.section;
      e.index = i;
      e.metric = m.section + "." + m.measured;
      e.family = case_family(m.section, row) + (m.section == "models" || m.measured == "ms_fwd_bwd_cold"
                                                     ? "." + m.measured : "");
      e.measured = row[m.measured].get<double>();
      e.simulated = row.contains(m.predicted) ? row[m.predicted].get<double>() : NAN;
      e.source = row.value("source", "");
      out.push_back(std::move(e));
    }
  }
  return out;
}

nlohmann::json run_validation(const HardwareConfig& hw, const nlohmann::json& cases, const ValidateOptions& opt,
                              std::ostream& out) {
  nlohmann::json result = simulate_cases(hw, cases, opt);
  const auto& metrics = case_metrics();
  char line[512];
  if (opt.rows) {
    for (const auto& m : metrics) {
      if (!result.contains(m.section)) continue;
      for (const auto& row : result[m.section]) {
        if (!row_measures(row, m)) continue;
        std::string shape;
        for (const auto& [k, v] : row.items()) {
          bool measured_or_sim = k.rfind("ms", 0) == 0 || k.rfind("sim_", 0) == 0 || k.rfind("roofline", 0) == 0 ||
                                 k.find("TFLOPs") != std::string::npos || k.find("GBps") != std::string::npos ||
                                 k.find("bytes") != std::string::npos || k.find("_us") != std::string::npos ||
                                 k == "kernels" || k == "source" || k == "compared_with" || k == "timing" || k == "cache" ||
                                 k == "gemm_schedule";
          if (!measured_or_sim) shape += k + "=" + (v.is_string() ? v.get<std::string>() : v.dump()) + " ";
        }
        if (row.contains("sim_error")) {
          out << m.section << " " << shape << " sim_error: " << row["sim_error"].get<std::string>() << "\n";
          continue;
        }
        if (!row.contains(m.predicted)) continue;
        double meas = row[m.measured].get<double>(), sim = row[m.predicted].get<double>();
        std::snprintf(line, sizeof line, "%-14s %-18s meas %10.4f sim %10.4f err %+7.1f%%  %s", m.section.c_str(),
                      m.measured.c_str(), meas, sim, 100 * (sim - meas) / meas, shape.c_str());
        out << line;
        if (row.contains("sim_mapping") && m.predicted == "sim_ms")
          out << " [" << row["sim_mapping"].get<std::string>() << "]";
        out << "\n";
      }
    }
    out << "\n";
  }
  // Errors per metric, and the table.
  nlohmann::json summary = nlohmann::json::object();
  std::snprintf(line, sizeof line, "%-14s %-18s %5s | %-28s | %-28s\n", "section", "metric", "rows",
                "xpusim  MAPE  median   worst", "roofline  MAPE  median  worst");
  out << line;
  for (const auto& m : metrics) {
    if (!result.contains(m.section)) continue;
    Errors e;
    for (const auto& row : result[m.section]) {
      if (!row_measures(row, m)) continue;
      ++e.rows;
      double meas = row[m.measured].get<double>();
      if (!row.contains(m.predicted) || meas <= 0) { ++e.failed; continue; }
      e.sim.push_back(std::fabs(row[m.predicted].get<double>() - meas) / meas);
      e.roof.push_back(std::fabs(row[m.roofline].get<double>() - meas) / meas);
    }
    if (!e.rows) continue;
    summary[m.section + "." + m.measured] = stats_json(e);
    std::snprintf(line, sizeof line, "%-14s %-18s %5zu |       %6.1f%% %6.1f%% %6.1f%% |        %6.1f%% %6.1f%% %6.1f%%%s\n",
                  m.section.c_str(), m.measured.c_str(), e.rows, pct(e.sim, "mape"), pct(e.sim, "median"),
                  pct(e.sim, "worst"), pct(e.roof, "mape"), pct(e.roof, "median"), pct(e.roof, "worst"),
                  e.failed ? ("  (" + std::to_string(e.failed) + " not simulated)").c_str() : "");
    out << line;
  }
  result["validation"] = {{"hardware", hw.file}, {"assumption", opt.warm ? "warm" : "cold"}, {"metrics", summary}};
  return result;
}

}  // namespace xpu
