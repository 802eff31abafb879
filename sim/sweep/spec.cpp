#include "sim/sweep/spec.h"

#include "sim/serve/serve_run.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <random>

#include "sim/config/config_tree.h"
#include "sim/cost/device_cost.h"

namespace xpu {
namespace {

namespace fs = std::filesystem;

double number_of(const ConfigNode& n, const std::string& what) {
  if (!n.is_scalar()) throw InputError(n.mark, what + ": expected a number");
  try {
    size_t used = 0;
    double v = std::stod(n.scalar, &used);
    if (used != n.scalar.size()) throw std::invalid_argument("trailing");
    return v;
  } catch (const std::exception&) {
    throw InputError(n.mark, what + ": expected a number, got '" + n.scalar + "'");
  }
}

std::string format_value(double v, const std::string& unit) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return unit.empty() ? std::string(buf) : std::string(buf) + " " + unit;
}

constexpr double kMaxValues = 1e6;  // per parameter

// A list of scalars, {range: [lo, hi], step: s} or {log: [lo, hi], points: n}, with an optional unit.
std::vector<std::string> values_of(const ConfigNode& n, const std::string& path) {
  std::vector<std::string> out;
  if (n.is_list()) {
    for (const auto& v : n.list) {
      if (!v.is_scalar()) throw InputError(v.mark, "parameter '" + path + "': list items must be scalars");
      out.push_back(v.scalar);
    }
  } else if (n.is_map()) {
    std::string unit;
    if (const ConfigNode* u = n.find("unit")) unit = u->scalar;
    for (const auto& [k, v] : n.map)
      if (k != "range" && k != "log" && k != "step" && k != "points" && k != "unit")
        throw InputError(v.key_mark, "parameter '" + path + "': unknown key '" + k +
                                         "' (expected range+step or log+points, and unit)");
    const ConfigNode* r = n.find("range");
    const ConfigNode* l = n.find("log");
    if ((r != nullptr) == (l != nullptr))
      throw InputError(n.mark, "parameter '" + path + "': expected either range: [lo, hi] with step, or log: [lo, hi] "
                                                      "with points");
    const ConfigNode& b = r ? *r : *l;
    if (!b.is_list() || b.list.size() != 2) throw InputError(b.mark, "parameter '" + path + "': expected [lo, hi]");
    const double lo = number_of(b.list[0], path), hi = number_of(b.list[1], path);
    if (hi < lo) throw InputError(b.mark, "parameter '" + path + "': hi must be >= lo");
    if (r) {
      const ConfigNode* st = n.find("step");
      if (!st) throw InputError(n.mark, "parameter '" + path + "': range needs a step");
      const double step = number_of(*st, path + ".step");
      if (step <= 0) throw InputError(st->mark, "parameter '" + path + "': step must be > 0");
      // Counted before generating: a step too small for the range would otherwise never advance `v`.
      const double count = std::floor((hi - lo) / step * (1 + 1e-12)) + 1;
      if (!(count <= kMaxValues))
        throw InputError(n.mark, "parameter '" + path + "': the range gives more than a million values");
      for (int64_t i = 0; i < int64_t(count); ++i) out.push_back(format_value(lo + double(i) * step, unit));
    } else {
      const ConfigNode* pt = n.find("points");
      if (!pt) throw InputError(n.mark, "parameter '" + path + "': log needs points");
      const double pts = number_of(*pt, path + ".points");
      if (lo <= 0 || pts < 2 || pts != std::floor(pts))
        throw InputError(n.mark, "parameter '" + path + "': log needs lo > 0 and an integer points >= 2");
      if (pts > kMaxValues) throw InputError(pt->mark, "parameter '" + path + "': more than a million values");
      for (int i = 0; i < int(pts); ++i)
        out.push_back(format_value(lo * std::pow(hi / lo, double(i) / (pts - 1)), unit));
    }
  } else if (n.is_scalar()) {
    out.push_back(n.scalar);
  }
  if (out.empty()) throw InputError(n.mark, "parameter '" + path + "': no values");
  if (out.size() > kMaxValues) throw InputError(n.mark, "parameter '" + path + "': more than a million values");
  return out;
}

std::string resolve(const fs::path& base, const std::string& p) {
  fs::path f(p);
  return (f.is_absolute() ? f : base / f).lexically_normal().string();
}

}  // namespace

bool SweepConstraint::holds(double v) const {
  if (op == "<=") return v <= value;
  if (op == "<") return v < value;
  if (op == ">=") return v >= value;
  return v > value;
}

const std::vector<std::string>& default_sweep_metrics() {
  static const std::vector<std::string> m = {"total_time_s", "energy_j", "energy_per_item_j", "time_per_item_s",
                                             "average_power_w", "area_mm2", "achieved_tflops"};
  return m;
}

SweepSpec load_sweep_spec(const std::string& path) {
  ConfigNode root = load_yaml_file(path);
  if (!root.is_map()) throw InputError(root.mark, "a sweep spec must be a mapping");
  SweepSpec s;
  s.file = path;
  const fs::path base = fs::path(path).parent_path();
  static const std::vector<std::string> keys = {"name", "description", "hardware", "workloads", "parameters",
                                                "plan", "constraints", "metrics", "variants", "tco"};
  for (const auto& [k, v] : root.map)
    if (std::find(keys.begin(), keys.end(), k) == keys.end())
      throw InputError(v.key_mark, "unknown sweep key '" + k +
                                       "' (expected name, description, hardware, workloads, parameters, plan, "
                                       "constraints, metrics, variants, tco)");
  auto need = [&](const char* k) -> const ConfigNode& {
    const ConfigNode* n = root.find(k);
    if (!n) throw InputError(root.mark, std::string("sweep spec: missing '") + k + "'");
    return *n;
  };
  s.name = root.find("name") ? root.find("name")->scalar : fs::path(path).stem().string();
  const ConfigNode* variants = root.find("variants");
  auto hardware_file = [&](const ConfigNode& hw) {
    std::string f = resolve(base, hw.scalar);
    std::error_code ec;  // a name too long for the OS makes the throwing overload raise filesystem_error
    if (!hw.is_scalar() || !fs::exists(f, ec)) throw InputError(hw.mark, "hardware config '" + f + "' does not exist");
    return f;
  };
  if (!variants) s.hardware = hardware_file(need("hardware"));

  const ConfigNode& wls = need("workloads");
  if (!wls.is_list() || wls.list.empty()) throw InputError(wls.mark, "workloads: expected a list of {name, file, set}");
  for (const auto& w : wls.list) {
    if (!w.is_map() || !w.find("file")) throw InputError(w.mark, "a workload needs at least file:");
    SweepWorkload sw;
    sw.file = resolve(base, w.find("file")->scalar);
    std::error_code ec;
    if (!fs::exists(sw.file, ec)) throw InputError(w.find("file")->mark, "workload '" + sw.file + "' does not exist");
    sw.name = w.find("name") ? w.find("name")->scalar : fs::path(sw.file).stem().string();
    for (const auto& [k, v] : w.map) {
      if (k == "set") {
        if (!v.is_map()) throw InputError(v.mark, "set: expected a mapping of workload parameters");
        for (const auto& [sk, sv] : v.map) sw.sets.push_back(sk + "=" + sv.scalar);
      } else if (k == "serve") {
        if (!v.is_scalar() || v.scalar.empty())
          throw InputError(v.mark, "serve: expected the options of `xpusim serve` as one string, e.g. \"--arrivals "
                                   "poisson:5 --count 400 --prompt-tokens 512 --output-tokens 128 --slo ttft=1s "
                                   "--find-max-rate\"");
        sw.serve = v.scalar;
        sw.serve_mark = v.mark;
        parse_serve_options(sw.serve, sw.serve_mark);  // refused here, at its line, not point by point
      } else if (k != "name" && k != "file") {
        throw InputError(v.key_mark, "unknown workload key '" + k + "' (expected name, file, set, serve)");
      }
    }
    for (const auto& o : s.workloads)
      if (o.name == sw.name) throw InputError(w.mark, "two workloads named '" + sw.name + "'");
    s.workloads.push_back(std::move(sw));
  }

  auto parse_params = [&](const ConfigNode& ps, std::vector<SweepParam>& into) {
    if (!ps.is_map() || ps.map.empty()) throw InputError(ps.mark, "parameters: expected a mapping of path: values");
    for (const auto& [k, v] : ps.map) {
      SweepParam p;
      p.path = k;
      p.mark = v.key_mark;
      if (k.rfind("hw.", 0) == 0) p.hardware = true;
      else if (k.rfind("wl.", 0) == 0) p.hardware = false;
      else throw InputError(v.key_mark, "parameter '" + k + "': the path must start with hw. (hardware) or wl. (workload)");
      p.key = k.substr(3);
      if (p.key.empty()) throw InputError(v.key_mark, "parameter '" + k + "': empty path");
      p.values = values_of(v, k);
      into.push_back(std::move(p));
    }
  };
  if (const ConfigNode* ps = root.find("parameters")) parse_params(*ps, s.params);
  else if (!variants) need("parameters");
  if (variants) {
    if (root.find("hardware")) throw InputError(root.find("hardware")->key_mark, "with variants:, each variant names its hardware");
    if (!variants->is_list() || variants->list.empty())
      throw InputError(variants->mark, "variants: expected a list of {name, hardware, parameters}");
    for (const auto& v : variants->list) {
      if (!v.is_map() || !v.find("name") || !v.find("hardware"))
        throw InputError(v.mark, "a variant needs name: and hardware: (and parameters:)");
      SweepVariant sv;
      sv.name = v.find("name")->scalar;
      sv.hardware = hardware_file(*v.find("hardware"));
      sv.params = s.params;  // shared parameters first
      for (const auto& [k, x] : v.map)
        if (k != "name" && k != "hardware" && k != "parameters")
          throw InputError(x.key_mark, "unknown variant key '" + k + "' (expected name, hardware, parameters)");
      if (const ConfigNode* ps = v.find("parameters")) parse_params(*ps, sv.params);
      for (const auto& o : s.variants)
        if (o.name == sv.name) throw InputError(v.mark, "two variants named '" + sv.name + "'");
      s.variants.push_back(std::move(sv));
    }
  } else {
    s.variants.push_back({"", s.hardware, s.params});
  }

  if (const ConfigNode* plan = root.find("plan")) {
    if (plan->is_scalar()) {
      s.plan = plan->scalar;
    } else if (plan->is_map()) {
      for (const auto& [k, v] : plan->map) {
        if (k == "kind") s.plan = v.scalar;
        else if (k == "points") s.points = int64_t(number_of(v, "plan.points"));
        else if (k == "seed") s.seed = uint64_t(number_of(v, "plan.seed"));
        else throw InputError(v.key_mark, "unknown plan key '" + k + "' (expected kind, points, seed)");
      }
    }
    if (s.plan != "grid" && s.plan != "random" && s.plan != "lhs")
      throw InputError(plan->mark, "plan: expected grid, random or lhs, got '" + s.plan + "'");
    if (s.plan != "grid" && s.points <= 0) throw InputError(plan->mark, "plan: " + s.plan + " needs points: N > 0");
  }

  if (const ConfigNode* t = root.find("tco")) {
    if (!t->is_scalar())
      throw InputError(t->mark, "tco: expected the assumptions as `run --tco` takes them, e.g. \"years=5,pue=1.2\"");
    try {
      parse_tco_options(t->scalar);
    } catch (const std::invalid_argument& e) {
      throw InputError(t->mark, std::string("tco: ") + e.what());
    }
    s.tco = t->scalar;
  }

  if (const ConfigNode* cs = root.find("constraints")) {
    if (!cs->is_list()) throw InputError(cs->mark, "constraints: expected a list like [\"average_power_w <= 700\"]");
    for (const auto& c : cs->list) {
      SweepConstraint k;
      k.mark = c.mark;
      char metric[128], op[3];
      double value = 0;
      if (!c.is_scalar() || std::sscanf(c.scalar.c_str(), "%127s %2s %lf", metric, op, &value) != 3 ||
          (std::string(op) != "<=" && std::string(op) != "<" && std::string(op) != ">=" && std::string(op) != ">"))
        throw InputError(c.mark, "constraint: expected 'metric <= number' (or <, >=, >), got '" + c.scalar + "'");
      k.metric = metric;
      k.op = op;
      k.value = value;
      s.constraints.push_back(k);
    }
  }
  s.metrics = default_sweep_metrics();
  if (const ConfigNode* ms = root.find("metrics")) {
    if (!ms->is_list()) throw InputError(ms->mark, "metrics: expected a list of result fields");
    for (const auto& m : ms->list) {
      if (std::find(s.metrics.begin(), s.metrics.end(), m.scalar) == s.metrics.end()) s.metrics.push_back(m.scalar);
      s.metric_marks.push_back({m.scalar, m.mark});
    }
  }
  for (const auto& c : s.constraints) {
    if (std::find(s.metrics.begin(), s.metrics.end(), c.metric) == s.metrics.end()) s.metrics.push_back(c.metric);
    s.metric_marks.push_back({c.metric, c.mark});
  }
  return s;
}

std::vector<std::string> SweepSpec::columns() const {
  std::vector<std::string> out;
  if (variants.size() > 1 || (!variants.empty() && !variants[0].name.empty())) out.push_back("variant");
  for (const auto& v : variants)
    for (const auto& p : v.params)
      if (std::find(out.begin(), out.end(), p.path) == out.end()) out.push_back(p.path);
  return out;
}

std::vector<std::vector<size_t>> plan_points(const SweepSpec& s, const std::vector<SweepParam>& params) {
  std::vector<std::vector<size_t>> out;
  const size_t n = params.size();
  if (s.plan == "grid") {
    double total = 1;
    for (const auto& p : params) total *= double(p.values.size());
    if (total > 1e7) throw InputError(SourceMark{s.file, 0, 0}, "the grid has more than 10 million points");
    std::vector<size_t> idx(n, 0);
    for (size_t k = 0; k < size_t(total); ++k) {
      out.push_back(idx);
      for (size_t i = n; i-- > 0;) {  // the last parameter varies fastest
        if (++idx[i] < params[i].values.size()) break;
        idx[i] = 0;
      }
    }
    return out;
  }
  std::mt19937_64 rng(s.seed);
  const size_t pts = size_t(s.points);
  out.assign(pts, std::vector<size_t>(n, 0));
  for (size_t i = 0; i < n; ++i) {
    const size_t m = params[i].values.size();
    if (s.plan == "random") {
      std::uniform_int_distribution<size_t> d(0, m - 1);
      for (size_t k = 0; k < pts; ++k) out[k][i] = d(rng);
    } else {
      // Latin hypercube: each of `pts` equal strata of the parameter's range holds exactly one point.
      std::vector<size_t> perm(pts);
      std::iota(perm.begin(), perm.end(), 0);
      std::shuffle(perm.begin(), perm.end(), rng);
      std::uniform_real_distribution<double> u(0, 1);
      for (size_t k = 0; k < pts; ++k)
        out[k][i] = std::min(m - 1, size_t((double(perm[k]) + u(rng)) / double(pts) * double(m)));
    }
  }
  return out;
}

}  // namespace xpu
