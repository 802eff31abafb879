#include "sim/validate/calibrate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <sstream>

#include "sim/config/hardware.h"
#include "sim/config/registry.h"
#include "sim/report/progress.h"
#include "sim/validate/validate.h"

namespace xpu {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<std::string> split_path(const std::string& p) {
  std::vector<std::string> parts;
  std::stringstream ss(p);
  for (std::string s; std::getline(ss, s, '.');) parts.push_back(s);
  return parts;
}

// Finds `path` in the loaded config and reads its value and range. Unknown paths name the config's file and line.
FitConstant resolve(const HardwareConfig& hw, const std::string& path) {
  auto parts = split_path(path);
  if (!parts.empty() && parts[0] == "components") parts.erase(parts.begin());
  const SourceMark file_mark{hw.file, 0, 0};
  const std::string what = "--fit " + path + ": ";
  if (parts.size() < 2 || parts.size() > 3)
    throw InputError(file_mark, what + "expected component.parameter or component.parameter.key");
  int ci = hw.index_of(parts[0]);
  if (ci < 0) {
    std::vector<std::string> names;
    for (const auto& c : hw.components) names.push_back(c.name);
    std::string hint = closest_match(parts[0], names);
    throw InputError(file_mark, what + "no component '" + parts[0] + "'" +
                                    (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
  }
  const ComponentSpec& comp = hw.components[size_t(ci)];
  const ComponentKind* kind = Registry::instance().find(comp.type);
  const ParamSpec* spec = nullptr;
  std::vector<std::string> names;
  for (const auto& s : kind->params) {
    names.push_back(s.name);
    if (s.name == parts[1]) spec = &s;
  }
  if (!spec) {
    std::string hint = closest_match(parts[1], names);
    throw InputError(comp.mark, what + "component '" + comp.name + "' (" + comp.type + ") has no parameter '" +
                                    parts[1] + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
  }
  FitConstant c;
  c.path = path;
  const ParamValue& v = comp.params.at(spec->name);
  const bool is_map = spec->kind == ParamKind::DtypeMap;
  if (is_map != (parts.size() == 3))
    throw InputError(comp.mark, what + (is_map ? "'" + spec->name + "' is a map: name one entry (" + path +
                                                     ".KEY)"
                                               : "'" + spec->name + "' is not a map"));
  if (is_map) {
    auto it = v.by_key.find(parts[2]);
    if (it == v.by_key.end())
      throw InputError(v.mark.file.empty() ? comp.mark : v.mark,
                       what + "'" + spec->name + "' has no entry '" + parts[2] + "' to start from");
    c.base = it->second;
    if (spec->map_of_quantity) c.unit = dim_canonical_unit(spec->dim);
  } else if (spec->kind == ParamKind::Real || spec->kind == ParamKind::Quantity) {
    c.base = v.number;
    if (spec->kind == ParamKind::Quantity) c.unit = dim_canonical_unit(spec->dim);
  } else {
    throw InputError(comp.mark, what + "only real numbers and quantities can be fitted, '" + spec->name +
                                    "' is " + spec->type_text());
  }
  if (!(c.base > 0))
    throw InputError(v.mark.file.empty() ? comp.mark : v.mark,
                     what + "its value is " + std::to_string(c.base) +
                         "; constants are fitted in log space from a positive starting value");
  // A physical range: what the parameter's declaration allows, and within a factor of 4 of its documented value.
  const bool ranged = (!is_map && spec->kind == ParamKind::Real) || (is_map && !spec->map_of_quantity);
  c.lo = std::max(ranged ? std::max(spec->min, 1e-300) : 1e-300, c.base / 4);
  c.hi = std::min(ranged ? spec->max : 1e300, c.base * 4);
  c.fitted = c.base;
  return c;
}

std::string value_text(const FitConstant& c, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return c.unit.empty() ? std::string(buf) : std::string(buf) + " " + c.unit;
}

struct Row {
  std::string section;
  size_t index;  // in its section
};

nlohmann::json subset(const nlohmann::json& cases, const std::vector<Row>& rows, const std::vector<size_t>& pick) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [k, v] : cases.items())
    if (!v.is_array()) out[k] = v;
  for (size_t i : pick) {
    const Row& r = rows[i];
    if (!out.contains(r.section)) out[r.section] = nlohmann::json::array();
    nlohmann::json row = cases[r.section][r.index];
    row["_row"] = i;
    out[r.section].push_back(std::move(row));
  }
  return out;
}

struct Scored {
  double loss = kInf;
  std::vector<RowError> errors;  // one per measured figure of each simulated row
  std::vector<size_t> row_of;    // the global row (an index into calibrate's row list) of each error
};

class Fitter {
 public:
  Fitter(const std::string& hw_path, const std::vector<std::string>& overrides, std::vector<FitConstant> consts,
         bool warm, Progress* progress)
      : hw_path_(hw_path), overrides_(overrides), consts_(std::move(consts)), warm_(warm), progress_(progress) {}

  // Predictions of `cases` with the constants at `x` (SI values).
  Scored score(const nlohmann::json& cases, const std::vector<double>& x) {
    std::vector<std::string> ov = overrides_;
    for (size_t i = 0; i < consts_.size(); ++i) ov.push_back(consts_[i].path + "=" + value_text(consts_[i], x[i]));
    HardwareConfig hw = load_hardware(hw_path_, ov);
    ValidateOptions vo;
    vo.warm = warm_;
    nlohmann::json sim = simulate_cases(hw, cases, vo);
    ++evaluations;
    if (progress_) progress_->update(size_t(evaluations));
    Scored s;
    double sum = 0;
    size_t n = 0;
    for (auto& e : row_errors(sim)) {
      s.row_of.push_back(sim[e.section][e.index].value("_row", size_t(0)));
      if (std::isfinite(e.simulated) && e.simulated > 0 && e.measured > 0) {
        double l = std::log(e.simulated / e.measured);
        sum += l * l;
        ++n;
      }
      s.errors.push_back(std::move(e));
    }
    s.loss = n ? sum / double(n) : kInf;
    return s;
  }

  // Nelder-Mead in log space, each constant clamped to its range.
  std::vector<double> fit(const nlohmann::json& cases, int max_evals) {
    const size_t d = consts_.size();
    std::vector<double> lo(d), hi(d), u0(d);
    for (size_t i = 0; i < d; ++i) {
      lo[i] = std::log(consts_[i].lo);
      hi[i] = std::log(consts_[i].hi);
      u0[i] = std::clamp(std::log(consts_[i].base), lo[i], hi[i]);
    }
    auto to_x = [&](const std::vector<double>& u) {
      std::vector<double> x(d);
      for (size_t i = 0; i < d; ++i) x[i] = std::exp(std::clamp(u[i], lo[i], hi[i]));
      return x;
    };
    int evals = 0;
    auto f = [&](const std::vector<double>& u) {
      ++evals;
      return score(cases, to_x(u)).loss;
    };
    std::vector<std::vector<double>> p(d + 1, u0);
    for (size_t i = 0; i < d; ++i) p[i + 1][i] += (u0[i] + 0.15 <= hi[i] ? 0.15 : -0.15);
    std::vector<double> fv(d + 1);
    for (size_t i = 0; i <= d; ++i) fv[i] = f(p[i]);
    while (evals < max_evals) {
      std::vector<size_t> order(d + 1);
      std::iota(order.begin(), order.end(), 0);
      std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return fv[a] < fv[b]; });
      std::vector<std::vector<double>> q;
      std::vector<double> qv;
      for (size_t i : order) { q.push_back(p[i]); qv.push_back(fv[i]); }
      p = q;
      fv = qv;
      double spread = 0;
      for (size_t i = 1; i <= d; ++i)
        for (size_t k = 0; k < d; ++k) spread = std::max(spread, std::fabs(p[i][k] - p[0][k]));
      if (spread < 2e-3) break;
      std::vector<double> c(d, 0.0);
      for (size_t i = 0; i < d; ++i)
        for (size_t k = 0; k < d; ++k) c[k] += p[i][k] / double(d);
      auto along = [&](double t) {
        std::vector<double> r(d);
        for (size_t k = 0; k < d; ++k) r[k] = std::clamp(c[k] + t * (p[d][k] - c[k]), lo[k], hi[k]);
        return r;
      };
      auto r = along(-1);
      double fr = f(r);
      if (fr < fv[0]) {
        auto e = along(-2);
        double fe = f(e);
        if (fe < fr) { p[d] = e; fv[d] = fe; } else { p[d] = r; fv[d] = fr; }
      } else if (fr < fv[d - 1]) {
        p[d] = r;
        fv[d] = fr;
      } else {
        auto k = along(fr < fv[d] ? -0.5 : 0.5);
        double fk = f(k);
        if (fk < std::min(fr, fv[d])) {
          p[d] = k;
          fv[d] = fk;
        } else {
          for (size_t i = 1; i <= d; ++i) {
            for (size_t j = 0; j < d; ++j) p[i][j] = p[0][j] + 0.5 * (p[i][j] - p[0][j]);
            fv[i] = f(p[i]);
          }
        }
      }
    }
    size_t best = size_t(std::min_element(fv.begin(), fv.end()) - fv.begin());
    return to_x(p[best]);
  }

  const std::vector<FitConstant>& constants() const { return consts_; }
  int evaluations = 0;

 private:
  std::string hw_path_;
  std::vector<std::string> overrides_;
  std::vector<FitConstant> consts_;
  bool warm_;
  Progress* progress_;
};

double mape(const std::vector<double>& e) {
  if (e.empty()) return NAN;
  double s = 0;
  for (double x : e) s += x;
  return 100 * s / double(e.size());
}

}  // namespace

// Families that group rows by the file they came from are named with this prefix.
const std::string kSourceFamily = "source ";

std::string source_file(const nlohmann::json& row) {
  if (!row.is_object() || !row.contains("source") || !row["source"].is_string()) return "";
  std::string s = row["source"].get<std::string>();
  const size_t hash = s.rfind('#');
  if (hash != std::string::npos) return s.substr(0, hash);
  const size_t colon = s.rfind(':');
  if (colon != std::string::npos && colon + 1 < s.size() &&
      s.find_first_not_of("0123456789", colon + 1) == std::string::npos)
    return s.substr(0, colon);
  return s;
}

const std::vector<std::string>& default_fit_paths() {
  static const std::vector<std::string> p = {"gpu.matrix_efficiency", "l2.flush_dirty", "hbm.stream_efficiency",
                                             "gpu.tile_overhead", "gpu.kernel_overhead"};
  return p;
}

CalibrationReport calibrate(const std::string& hw_path, const std::vector<std::string>& overrides,
                            const nlohmann::json& cases, const CalibrateOptions& opt) {
  HardwareConfig hw = load_hardware(hw_path, overrides);
  std::vector<std::string> paths = opt.fit;
  if (paths.empty()) {
    if (const ConfigNode* c = hw.tree.find("calibration"); c && c->find("fitted") && c->find("fitted")->is_map())
      for (const auto& [k, v] : c->find("fitted")->map) paths.push_back(k);
  }
  if (paths.empty()) paths = default_fit_paths();
  std::vector<FitConstant> consts;
  for (const auto& p : paths) {
    for (const auto& c : consts)
      if (c.path == p) throw InputError(SourceMark{hw.file, 0, 0}, "--fit " + p + " is named twice");
    consts.push_back(resolve(hw, p));
  }

  // Every row of every section, in order; folds are a seeded shuffle of them.
  if (!cases.is_object()) throw InputError("the cases must be a JSON object with sections");
  std::vector<Row> rows;
  for (const auto& s : case_sections())
    if (cases.contains(s) && cases[s].is_array())
      for (size_t i = 0; i < cases[s].size(); ++i) rows.push_back({s, i});
  if (rows.empty())
    throw InputError("no calibration rows in the cases (expected gemm, attention, elementwise, embedding_bag or "
                     "models sections)");
  if (opt.folds == 1 || opt.folds < 0 || size_t(opt.folds) > rows.size())
    throw InputError("--cv/--folds must be 0 (none) or from 2 to the number of rows (" +
                     std::to_string(rows.size()) + ")");
  // Each row's source file, and (leaving sources out) the fold it belongs to.
  std::vector<std::string> row_source;
  std::vector<std::string> sources;
  for (const Row& r : rows) {
    row_source.push_back(source_file(cases[r.section][r.index]));
    if (std::find(sources.begin(), sources.end(), row_source.back()) == sources.end())
      sources.push_back(row_source.back());
  }
  if (opt.by_source && sources.size() < 2)
    throw InputError("leaving one source out needs rows from at least two sources (--cases files, or rows whose "
                     "`source` names different files); these rows come from " +
                     (sources.empty() || sources[0].empty() ? std::string("one unnamed source") : sources[0]));
  std::vector<size_t> all(rows.size());
  std::iota(all.begin(), all.end(), 0);

  const int max_evals = opt.max_evals > 0 ? opt.max_evals : int(25 * consts.size());
  std::unique_ptr<Progress> progress;
  if (!opt.quiet) progress = std::make_unique<Progress>("calibrating (evaluations)", 0);
  Fitter fitter(hw_path, overrides, consts, opt.warm, progress.get());

  const nlohmann::json all_cases = subset(cases, rows, all);
  std::vector<double> base(consts.size());
  for (size_t i = 0; i < consts.size(); ++i) base[i] = consts[i].base;
  Scored base_s = fitter.score(all_cases, base);
  std::vector<double> x = fitter.fit(all_cases, max_evals);
  Scored fit_s = fitter.score(all_cases, x);

  // Cross-validation: each fold's rows predicted by the constants fitted on the other folds.
  std::map<std::pair<size_t, std::string>, double> cv_sim;  // (row, metric) -> prediction
  if (opt.folds >= 2 || opt.by_source) {
    std::vector<size_t> order = all;
    std::mt19937 rng(opt.seed);
    std::shuffle(order.begin(), order.end(), rng);
    const int folds = opt.by_source ? int(sources.size()) : opt.folds;
    auto fold_of = [&](size_t i) {
      if (!opt.by_source) return int(i % size_t(folds));
      return int(std::find(sources.begin(), sources.end(), row_source[order[i]]) - sources.begin());
    };
    for (int k = 0; k < folds; ++k) {
      std::vector<size_t> train, test;
      for (size_t i = 0; i < order.size(); ++i) (fold_of(i) == k ? test : train).push_back(order[i]);
      std::sort(train.begin(), train.end());
      std::sort(test.begin(), test.end());
      std::vector<double> xk = fitter.fit(subset(cases, rows, train), max_evals);
      Scored t = fitter.score(subset(cases, rows, test), xk);
      for (size_t j = 0; j < t.errors.size(); ++j) cv_sim[{t.row_of[j], t.errors[j].metric}] = t.errors[j].simulated;
    }
  }
  if (progress) progress->finish();

  CalibrationReport rep;
  rep.constants = consts;
  for (size_t i = 0; i < consts.size(); ++i) rep.constants[i].fitted = x[i];
  rep.evaluations = fitter.evaluations;
  if (opt.by_source) rep.cross_validation = "leave one source out (" + std::to_string(sources.size()) + " sources)";
  else if (opt.folds >= 2) rep.cross_validation = std::to_string(opt.folds) + "-fold, seed " + std::to_string(opt.seed);
  std::map<std::string, std::vector<double>> eb, ef, ec;
  std::map<std::string, size_t> nrows;
  auto rel = [](double sim, double meas) { return std::fabs(sim - meas) / meas; };
  for (size_t j = 0; j < fit_s.errors.size(); ++j) {
    const RowError& e = fit_s.errors[j];
    const RowError& b = base_s.errors[j];
    std::vector<std::string> fams = {e.family, "all"};
    if (sources.size() > 1) {
      const std::string& src = row_source[fit_s.row_of[j]];
      const std::string name = src.empty() ? std::string("(unnamed)") : std::filesystem::path(src).filename().string();
      fams.push_back(kSourceFamily + name);
    }
    for (const std::string& fam : fams) {
      ++nrows[fam];
      if (!(e.measured > 0)) continue;
      if (std::isfinite(b.simulated)) eb[fam].push_back(rel(b.simulated, b.measured));
      if (std::isfinite(e.simulated)) ef[fam].push_back(rel(e.simulated, e.measured));
      auto it = cv_sim.find({fit_s.row_of[j], e.metric});
      if (it != cv_sim.end() && std::isfinite(it->second)) ec[fam].push_back(rel(it->second, e.measured));
    }
    ++rep.rows;
    if (!std::isfinite(e.simulated)) ++rep.failed;
  }
  // Shape families, then each source, then all.
  for (bool per_source : {false, true})
    for (const auto& [fam, n] : nrows) {
      if (fam == "all" || (fam.rfind(kSourceFamily, 0) == 0) != per_source) continue;
      rep.families.push_back({fam, n, mape(eb[fam]), mape(ef[fam]), mape(ec[fam])});
    }
  rep.families.push_back({"all", nrows["all"], mape(eb["all"]), mape(ef["all"]), mape(ec["all"])});
  return rep;
}

void print_calibration(const CalibrationReport& r, std::ostream& out) {
  char line[256];
  std::snprintf(line, sizeof line, "%-36s %12s %12s   %s\n", "constant", "base", "fitted", "range searched");
  out << line;
  for (const auto& c : r.constants) {
    std::snprintf(line, sizeof line, "%-36s %12.5g %12.5g   [%.4g, %.4g]%s%s\n", c.path.c_str(), c.base, c.fitted, c.lo,
                  c.hi, c.unit.empty() ? "" : " ", c.unit.c_str());
    out << line;
  }
  out << "\n";
  std::snprintf(line, sizeof line, "%-40s %6s | %10s %10s %16s\n", "family", "rows", "base MAPE", "fitted",
                "cross-validated");
  out << line;
  auto pc = [](double v) {
    char b[32];
    if (std::isnan(v)) return std::string("-");
    std::snprintf(b, sizeof b, "%.1f%%", v);
    return std::string(b);
  };
  bool first_source = true;
  for (const auto& f : r.families) {
    const bool by_source = f.family.rfind(kSourceFamily, 0) == 0;
    if (f.family == "all" || (first_source && by_source)) out << "\n";
    if (by_source) first_source = false;
    std::snprintf(line, sizeof line, "%-40s %6zu | %10s %10s %16s\n", f.family.c_str(), f.rows, pc(f.base_mape).c_str(),
                  pc(f.fitted_mape).c_str(), pc(f.cv_mape).c_str());
    out << line;
  }
  std::snprintf(line, sizeof line, "(%zu rows, %zu not simulated; %d evaluations of every row of a fit)\n", r.rows,
                r.failed, r.evaluations);
  out << line;
}

std::string calibration_overlay(const CalibrationReport& r, const std::string& base_path, const std::string& out_path,
                                const std::vector<std::string>& case_files) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path out_dir = fs::absolute(out_path, ec).parent_path();
  fs::path rel = fs::relative(fs::absolute(base_path, ec), out_dir, ec);
  std::string base = ec || rel.empty() ? fs::absolute(base_path).string() : rel.string();
  std::ostringstream y;
  auto q = [](const std::string& s) { return nlohmann::json(s).dump(); };  // a JSON string is a YAML string
  auto num = [](double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.6g", v);
    return std::string(b);
  };
  y << "# Fitted by `xpusim calibrate` on " << r.rows << " measured rows; the values below replace those of the base\n"
       "# config, and `calibration:` records where they came from and how well they predict rows they did not see.\n";
  y << "extends: " << q(base) << "\n";
  y << "calibration:\n  cases: [";
  for (size_t i = 0; i < case_files.size(); ++i) y << (i ? ", " : "") << q(case_files[i]);
  y << "]\n  rows: " << r.rows << "\n";
  if (!r.cross_validation.empty()) y << "  cross_validation: " << q(r.cross_validation) << "\n";
  y << "  fitted:\n";
  for (const auto& c : r.constants)
    y << "    " << c.path << ": {base: " << num(c.base) << ", value: " << num(c.fitted) << ", range: [" << num(c.lo)
      << ", " << num(c.hi) << "]" << (c.unit.empty() ? "" : ", unit: " + q(c.unit)) << "}\n";
  y << "  mape_pct:\n";
  for (const auto& f : r.families) {
    y << "    " << q(f.family) << ": {rows: " << f.rows;
    if (!std::isnan(f.base_mape)) y << ", base: " << num(f.base_mape);
    if (!std::isnan(f.fitted_mape)) y << ", fitted: " << num(f.fitted_mape);
    if (!std::isnan(f.cv_mape)) y << ", cross_validated: " << num(f.cv_mape);
    y << "}\n";
  }
  // The values, as component overrides.
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> by_comp;
  for (const auto& c : r.constants) {
    auto parts = split_path(c.path);
    if (parts[0] == "components") parts.erase(parts.begin());
    std::string key = parts[1] + (parts.size() == 3 ? "." + parts[2] : "");
    by_comp[parts[0]].push_back({key, value_text(c, c.fitted)});
  }
  y << "components:\n";
  for (const auto& [comp, kv] : by_comp) {
    y << "  " << comp << ":\n";
    std::map<std::string, std::vector<std::pair<std::string, std::string>>> maps;
    for (const auto& [k, v] : kv) {
      auto dot = k.find('.');
      if (dot == std::string::npos) y << "    " << k << ": " << v << "\n";
      else maps[k.substr(0, dot)].push_back({k.substr(dot + 1), v});
    }
    for (const auto& [m, entries] : maps) {
      y << "    " << m << ": {";
      for (size_t i = 0; i < entries.size(); ++i) y << (i ? ", " : "") << entries[i].first << ": " << entries[i].second;
      y << "}\n";
    }
  }
  return y.str();
}

}  // namespace xpu
