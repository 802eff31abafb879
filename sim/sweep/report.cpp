#include "sim/sweep/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "sim/config/errors.h"
#include "sim/sweep/results_db.h"

namespace xpu {
namespace {

namespace fs = std::filesystem;

const std::set<std::string> kFixed = {"point_id", "workload", "status", "error", "feasible", "wall_s"};

std::string fmt(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4g", v);
  return b;
}

std::string safe(const std::string& s) {
  std::string o;
  for (char c : s) o += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return o;
}

// Share of the variance of `y` explained by grouping on `x` (the main effect of one parameter).
double main_effect(const std::vector<std::string>& x, const std::vector<double>& y) {
  if (y.size() < 2) return 0;
  double mean = 0;
  for (double v : y) mean += v;
  mean /= double(y.size());
  double total = 0;
  for (double v : y) total += (v - mean) * (v - mean);
  if (total <= 0) return 0;
  std::map<std::string, std::pair<double, double>> g;  // value -> (sum, count)
  for (size_t i = 0; i < y.size(); ++i) { g[x[i]].first += y[i]; g[x[i]].second += 1; }
  double between = 0;
  for (const auto& [k, sc] : g) {
    const double m = sc.first / sc.second;
    between += sc.second * (m - mean) * (m - mean);
  }
  return between / total;
}

}  // namespace

std::vector<size_t> pareto_front(const std::vector<std::vector<double>>& v) {
  std::vector<size_t> front;
  for (size_t i = 0; i < v.size(); ++i) {
    bool dominated = false;
    for (size_t j = 0; j < v.size() && !dominated; ++j) {
      if (i == j) continue;
      bool no_worse = true, better = false;
      for (size_t k = 0; k < v[i].size(); ++k) {
        if (v[j][k] > v[i][k]) no_worse = false;
        if (v[j][k] < v[i][k]) better = true;
      }
      // Exact ties keep the first of the equals on the front.
      dominated = no_worse && (better || j < i);
    }
    if (!dominated) front.push_back(i);
  }
  return front;
}

std::string sweep_report(const SweepReportOptions& opt) {
  const fs::path db_path = fs::path(opt.dir) / "results.sqlite";
  if (!fs::exists(db_path)) throw InputError(SourceMark{opt.dir, 0, 0}, "no results.sqlite in this folder");
  ResultsDb db(db_path.string());
  const auto cols = db.columns();
  auto col = [&](const std::string& name) -> int {
    for (size_t i = 0; i < cols.size(); ++i)
      if (cols[i] == name) return int(i);
    return -1;
  };
  struct Objective { std::string name; int col; double sign; };
  std::vector<Objective> objs;
  for (const auto& o : opt.objectives) {
    const bool max = o.rfind("max:", 0) == 0;
    const std::string name = max ? o.substr(4) : o;
    const int c = col(name);
    if (c < 0 || kFixed.count(name))
      throw InputError("sweep report: no metric column '" + name + "' in " + db_path.string());
    objs.push_back({name, c, max ? -1.0 : 1.0});
  }
  // Parameters are the columns that are neither fixed nor metrics (metrics hold numbers, parameters text).
  std::vector<int> params;
  const std::string spec_params = db.meta("params");
  std::set<std::string> pset;
  std::stringstream ss(spec_params);
  for (std::string p; std::getline(ss, p, '\n');) if (!p.empty()) pset.insert(p);
  for (size_t i = 0; i < cols.size(); ++i)
    if (pset.count(cols[i])) params.push_back(int(i));

  const auto rows = db.rows();
  std::map<std::string, std::vector<size_t>> by_workload;
  for (size_t r = 0; r < rows.size(); ++r) {
    const auto& row = rows[r];
    if (row[col("status")] != "ok") continue;
    if (!opt.include_infeasible && row[col("feasible")] == "0") continue;
    bool complete = true;
    for (const auto& o : objs) complete &= !row[o.col].empty();
    if (complete) by_workload[row[col("workload")]].push_back(r);
  }
  const fs::path out_dir = fs::path(opt.dir) / "report";
  fs::create_directories(out_dir);
  std::ostringstream md;
  md << "# Sweep report: " << db.meta("name") << "\n\n";
  if (by_workload.empty()) md << "No finished, feasible runs with every objective yet.\n";
  for (const auto& [wl, idx] : by_workload) {
    std::vector<std::vector<double>> vals;
    for (size_t r : idx) {
      std::vector<double> v;
      for (const auto& o : objs) v.push_back(o.sign * std::stod(rows[r][o.col]));
      vals.push_back(v);
    }
    auto front = pareto_front(vals);
    std::sort(front.begin(), front.end(), [&](size_t a, size_t b) { return vals[a] < vals[b]; });
    md << "## " << wl << " (" << idx.size() << " runs, " << front.size() << " on the Pareto front)\n\n";
    md << "Pareto front over";
    for (const auto& o : objs) md << " " << (o.sign < 0 ? "max " : "min ") << o.name;
    md << ":\n\n|";
    for (int p : params) md << " " << cols[size_t(p)] << " |";
    for (const auto& o : objs) md << " " << o.name << " |";
    md << "\n|";
    for (size_t i = 0; i < params.size() + objs.size(); ++i) md << "---|";
    md << "\n";
    for (size_t f : front) {
      md << "|";
      for (int p : params) md << " " << rows[idx[f]][size_t(p)] << " |";
      for (const auto& o : objs) md << " " << fmt(std::stod(rows[idx[f]][o.col])) << " |";
      md << "\n";
    }
    md << "\nParameters ranked by main effect (share of each metric's variance explained by that parameter alone):\n\n";
    md << "| parameter |";
    for (const auto& o : objs) md << " " << o.name << " |";
    md << "\n|---|";
    for (size_t i = 0; i < objs.size(); ++i) md << "---|";
    md << "\n";
    std::vector<std::pair<double, std::string>> ranked;
    std::map<std::string, std::vector<double>> effects;
    for (int p : params) {
      std::vector<std::string> x;
      for (size_t r : idx) x.push_back(rows[r][size_t(p)]);
      double sum = 0;
      for (const auto& o : objs) {
        std::vector<double> y;
        for (size_t r : idx) y.push_back(std::stod(rows[r][o.col]));
        effects[cols[size_t(p)]].push_back(main_effect(x, y));
        sum += effects[cols[size_t(p)]].back();
      }
      ranked.push_back({-sum, cols[size_t(p)]});
    }
    std::sort(ranked.begin(), ranked.end());
    for (const auto& [neg, name] : ranked) {
      md << "| " << name << " |";
      for (double e : effects[name]) md << " " << fmt(100 * e) << "% |";
      md << "\n";
    }
    md << "\n";
    if (opt.plots && objs.size() >= 2) {
      const std::string base = safe(wl);
      std::ofstream all(out_dir / (base + ".all.dat")), pf(out_dir / (base + ".front.dat"));
      for (size_t i = 0; i < idx.size(); ++i)
        all << rows[idx[i]][objs[0].col] << " " << rows[idx[i]][objs[1].col] << "\n";
      for (size_t f : front) pf << rows[idx[f]][objs[0].col] << " " << rows[idx[f]][objs[1].col] << "\n";
      all.close();
      pf.close();
      const fs::path gp = out_dir / (base + ".gp"), svg = out_dir / (base + ".pareto.svg");
      std::ofstream g(gp);
      g << "set terminal svg size 720,480 dynamic background rgb 'white'\nset output '" << svg.string() << "'\n"
        << "set title '" << wl << ": " << objs[1].name << " vs " << objs[0].name << "' noenhanced\n"
        << "set xlabel '" << objs[0].name << "' noenhanced\nset ylabel '" << objs[1].name << "' noenhanced\n"
        << "set grid\nset key top right\n"
        << "plot '" << (out_dir / (base + ".all.dat")).string() << "' with points pt 7 ps 0.5 lc rgb '#9aa0a6' "
        << "title 'design points', '" << (out_dir / (base + ".front.dat")).string()
        << "' with linespoints pt 7 ps 0.9 lc rgb '#d93025' title 'Pareto front'\n";
      g.close();
      const std::string cmd = "gnuplot '" + gp.string() + "' 2>'" + (out_dir / "gnuplot.log").string() + "'";
      if (std::system(cmd.c_str()) != 0)
        throw InputError("sweep report: gnuplot failed (see " + (out_dir / "gnuplot.log").string() +
                         "; scripts/setup installs gnuplot-nox, or pass --no-plots)");
      md << "Plot: " << svg.filename().string() << "\n\n";
    }
  }
  const std::string text = md.str();
  std::ofstream(out_dir / "report.md") << text;
  return text;
}

}  // namespace xpu
