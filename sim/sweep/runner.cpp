#include "sim/sweep/runner.h"

#include "sim/serve/serve_run.h"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sim/config/config_tree.h"
#include "sim/config/hardware.h"
#include "sim/report/progress.h"
#include "sim/report/json.h"
#include "sim/engine/isolated_run.h"
#include "sim/engine/simulation.h"
#include "sim/sweep/results_db.h"
#include "sim/workload/loader.h"

namespace xpu {
namespace {

namespace fs = std::filesystem;

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) { h ^= c; h *= 1099511628211ull; }
  return h;
}

struct Task {
  size_t point = 0, workload = 0;
  std::string id;
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<std::string> sets;  // the workload's own sets, then the point's wl.* values
  const HardwareConfig* hw = nullptr;
  std::string error;              // the point's config was refused before any run
};

// A number at a dotted path of the run's JSON ("components.cim.stats.reprograms"), or the derived per-item metrics.
bool metric_of(const nlohmann::json& r, const std::string& path, double& out) {
  const double items = r.contains("workload") ? r["workload"].value("items", 0.0) : 0.0;
  if (path == "energy_per_item_j" || path == "time_per_item_s") {
    if (items <= 0) return false;
    out = r[path == "energy_per_item_j" ? "energy_j" : "total_time_s"].get<double>() / items;
    return true;
  }
  const nlohmann::json* n = &r;
  std::stringstream ss(path);
  std::string part;
  while (std::getline(ss, part, '.')) {
    if (!n->is_object() || !n->contains(part)) return false;
    n = &(*n)[part];
  }
  if (!n->is_number()) return false;
  out = n->get<double>();
  return true;
}

// One point: a step of the workload (`run`), or a serving run when the spec's workload has `serve:` options.
nlohmann::json run_point(const SweepSpec& spec, const Task& t) {
  const SweepWorkload& w = spec.workloads[t.workload];
  if (!w.serve.empty()) {
    ServeArgs a = parse_serve_options(w.serve, w.serve_mark);
    a.workload = w.file;
    a.sets = t.sets;
    return serve_run(*t.hw, a, false);
  }
  Workload wl = load_workload(w.file, t.sets);
  RunOptions ro;
  ro.tco = parse_tco_options(spec.tco);
  return result_to_json(simulate(*t.hw, wl, ro));
}

}  // namespace

std::string sweep_point_id(const std::string& yaml, const std::vector<std::string>& sets) {
  std::string key = yaml;
  for (const auto& s : sets) key += "\n" + s;
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)fnv1a(key));
  return buf;
}

namespace {

// Every point's hardware is built here, once: a value the config refuses is that point's error, not the sweep's.
std::vector<Task> build_tasks(const SweepSpec& spec, std::vector<HardwareConfig>& hws) {
  std::vector<std::pair<const SweepVariant*, std::vector<size_t>>> points;
  for (const auto& v : spec.variants)
    for (auto& idx : plan_points(spec, v.params)) points.push_back({&v, std::move(idx)});
  hws.assign(points.size(), HardwareConfig{});
  const bool named = !spec.columns().empty() && spec.columns()[0] == "variant";
  std::vector<Task> tasks;
  for (size_t pi = 0; pi < points.size(); ++pi) {
    const SweepVariant& var = *points[pi].first;
    std::vector<std::string> overrides, wl_sets;
    std::vector<std::pair<std::string, std::string>> params;
    if (named) params.push_back({"variant", var.name});
    for (size_t i = 0; i < var.params.size(); ++i) {
      const auto& p = var.params[i];
      const std::string& v = p.values[points[pi].second[i]];
      params.push_back({p.path, v});
      (p.hardware ? overrides : wl_sets).push_back(p.key + "=" + v);
    }
    std::string error, yaml;
    try {
      hws[pi] = load_hardware(var.hardware, overrides);
      yaml = to_yaml(hws[pi].tree);
    } catch (const InputError& e) {
      error = e.what();
      yaml = var.hardware + "\n";
      for (const auto& o : overrides) yaml += o + "\n";
    }
    for (size_t wi = 0; wi < spec.workloads.size(); ++wi) {
      Task t;
      t.point = pi;
      t.workload = wi;
      t.params = params;
      t.sets = spec.workloads[wi].sets;
      t.sets.insert(t.sets.end(), wl_sets.begin(), wl_sets.end());
      // The TCO assumptions change the cost metrics: a spec that changes them reruns its points.
      std::vector<std::string> id_sets = wl_sets;
      if (!spec.tco.empty()) id_sets.push_back("tco=" + spec.tco);
      // So do a serving workload's options (its stream, scheduler, SLO).
      if (!spec.workloads[wi].serve.empty()) id_sets.push_back("serve=" + spec.workloads[wi].serve);
      t.id = sweep_point_id(yaml, id_sets);
      t.hw = &hws[pi];
      t.error = error;
      tasks.push_back(std::move(t));
    }
  }
  return tasks;
}

// Tasks not yet finished in `done`, each distinct (point, workload) once, among `only` when given.
std::vector<size_t> todo_tasks(const SweepSpec& spec, const std::vector<Task>& tasks,
                               const std::set<std::pair<std::string, std::string>>& done,
                               const std::vector<size_t>& only, size_t* skipped) {
  std::vector<size_t> todo;
  std::set<std::pair<std::string, std::string>> seen;
  std::set<size_t> wanted(only.begin(), only.end());
  for (size_t i = 0; i < tasks.size(); ++i) {
    if (!only.empty() && !wanted.count(i)) continue;
    const auto key = std::make_pair(tasks[i].id, spec.workloads[tasks[i].workload].name);
    if (done.count(key) || !seen.insert(key).second) {  // finished, or a repeated point
      if (skipped) ++*skipped;
      continue;
    }
    todo.push_back(i);
  }
  return todo;
}

void prepare_db(ResultsDb& db, const SweepSpec& spec) {
  std::vector<std::string> pcols;
  std::string plist;
  for (const auto& c : spec.columns()) { pcols.push_back(c); plist += c + "\n"; }
  db.ensure_columns(pcols, spec.metrics);
  db.set_meta("spec", fs::absolute(spec.file).string());
  db.set_meta("name", spec.name);
  db.set_meta("params", plist);
}

}  // namespace

// An output directory that can be made, or a clear refusal (a path that is a file, a read-only place).
static void make_output_dir(const std::string& dir, const char* flag) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    throw InputError(SourceMark{dir, 0, 0}, std::string(flag) + ": exists and is not a directory");
  fs::create_directories(dir, ec);
  if (ec) throw InputError(SourceMark{dir, 0, 0}, std::string(flag) + ": cannot create the directory: " + ec.message());
}

SweepSummary run_sweep(const SweepSpec& spec, const SweepOptions& opt) {
  make_output_dir(opt.out, "--out");
  const fs::path tmp = fs::path(opt.out) / "tmp";
  make_output_dir(tmp.string(), "--out");
  // A local sweep owns its directory: results that a killed run left behind are stale (a shard of a cluster sweep
  // shares tmp/ with the others, so it leaves it alone).
  if (opt.db.empty()) {
    std::error_code ec;
    size_t stale = 0;
    for (const auto& e : fs::directory_iterator(tmp, ec))
      if (e.is_regular_file(ec) && fs::remove(e.path(), ec)) ++stale;
    if (stale && !opt.quiet)
      std::fprintf(stderr, "sweep: removed %zu result files an interrupted run left in %s\n", stale,
                   tmp.string().c_str());
  }
  const std::string db_path = opt.db.empty() ? (fs::path(opt.out) / "results.sqlite").string() : opt.db;
  if (!opt.db.empty() && !fs::path(opt.db).parent_path().empty())
    make_output_dir(fs::path(opt.db).parent_path().string(), "--db");
  ResultsDb db(db_path);
  prepare_db(db, spec);
  std::vector<HardwareConfig> hws;
  const std::vector<Task> tasks = build_tasks(spec, hws);
  if (opt.db.empty()) db.set_meta("tasks", std::to_string(tasks.size()));
  SweepSummary sum;
  sum.tasks = opt.only.empty() ? tasks.size() : opt.only.size();
  auto done = db.done();
  if (!opt.db.empty() && fs::exists(fs::path(opt.out) / "results.sqlite")) {
    ResultsDb main_db((fs::path(opt.out) / "results.sqlite").string());
    for (const auto& d : main_db.done()) done.insert(d);
  }
  for (size_t k = 0; k < opt.expected.size() && k < opt.only.size(); ++k) {
    const size_t i = opt.only[k];
    if (i >= tasks.size() || tasks[i].id + " " + spec.workloads[tasks[i].workload].name != opt.expected[k])
      throw InputError(SourceMark{spec.file, 0, 0},
                       "the sweep spec or its configs changed since the runs were submitted (task " + std::to_string(i) +
                           " is not '" + opt.expected[k] + "'); resubmit");
  }
  const std::vector<size_t> todo = todo_tasks(spec, tasks, done, opt.only, &sum.skipped);

  auto record = [&](const Task& t, const nlohmann::json* r, const std::string& error, double wall) {
    ResultRow row;
    row.point_id = t.id;
    row.workload = spec.workloads[t.workload].name;
    row.params = t.params;
    row.wall_s = wall;
    if (!r) {
      row.status = "error";
      row.error = error;
      row.feasible = 0;
      ++sum.failed;
      if (sum.first_errors.size() < 3) sum.first_errors.push_back(t.id + " " + row.workload + ": " + error);
    } else {
      row.status = "ok";
      for (const auto& m : spec.metrics) {
        double v = 0;
        if (metric_of(*r, m, v)) row.metrics.push_back({m, v});
      }
      for (const auto& c : spec.constraints) {
        double v = 0;
        if (!metric_of(*r, c.metric, v) || !c.holds(v)) row.feasible = 0;
      }
      ++sum.ok;
    }
    db.put(row);
  };

  std::unique_ptr<Progress> bar;
  if (!opt.quiet) bar = std::make_unique<Progress>("sweep " + spec.name, todo.size());
  std::map<pid_t, std::pair<size_t, std::chrono::steady_clock::time_point>> running;
  size_t next = 0, finished = 0;
  const int jobs = std::max(1, opt.jobs);
  while (next < todo.size() || !running.empty()) {
    while (next < todo.size() && int(running.size()) < jobs) {
      const size_t ti = todo[next++];
      const Task& t = tasks[ti];
      if (!t.error.empty()) {
        record(t, nullptr, t.error, 0);
        if (bar) bar->update(++finished);
        continue;
      }
      std::fflush(nullptr);
      const pid_t pid = fork();
      if (pid < 0) throw std::runtime_error("fork failed");
      if (pid == 0) {
        // Child: one simulation, its JSON (or its error) into a file the parent reads once we exit.
        nlohmann::json out;
        try {
          out = run_point(spec, t);
        } catch (const InputError& e) {
          out = {{"error", e.what()}};
        } catch (const std::exception& e) {
          out = {{"error", std::string("internal error: ") + e.what()}};
        }
        const std::string p = (tmp / (std::to_string(getpid()) + ".json")).string();
        std::ofstream(p + ".part") << out.dump();
        std::rename((p + ".part").c_str(), p.c_str());
        std::fflush(nullptr);
        _exit(0);
      }
      running[pid] = {ti, std::chrono::steady_clock::now()};
    }
    if (running.empty()) continue;
    int status = 0;
    const pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) throw std::runtime_error("waitpid failed");
    auto it = running.find(pid);
    if (it == running.end()) continue;
    const Task& t = tasks[it->second.first];
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - it->second.second).count();
    running.erase(it);
    const fs::path p = tmp / (std::to_string(pid) + ".json");
    std::string error;
    nlohmann::json r;
    if (WIFSIGNALED(status)) {
      error = "the simulation crashed (signal " + std::to_string(WTERMSIG(status)) + ")";
    } else {
      std::ifstream in(p);
      r = nlohmann::json::parse(in, nullptr, false);
      if (r.is_discarded()) error = "the simulation left no result (exit status " + std::to_string(WEXITSTATUS(status)) + ")";
      else if (r.contains("error")) error = r["error"].get<std::string>();
    }
    std::error_code ec;
    fs::remove(p, ec);
    record(t, error.empty() ? &r : nullptr, error, wall);
    if (bar) bar->update(++finished);
  }
  return sum;
}

namespace {

// Leaf paths of a run's JSON that hold numbers (ops and the effective config left out), for "did you mean".
void numeric_paths(const nlohmann::json& j, const std::string& prefix, std::vector<std::string>& out, int depth) {
  if (depth > 6 || out.size() > 20000) return;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (prefix.empty() && (it.key() == "ops" || it.key() == "effective_config" || it.key() == "analysis")) continue;
    const std::string p = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (it->is_number()) out.push_back(p);
    else if (it->is_object()) numeric_paths(*it, p, out, depth + 1);
  }
}

std::string strip_error(const std::string& m) {
  const auto at = m.find("error: ");
  return at == std::string::npos ? m : m.substr(at + 7);
}

}  // namespace

std::string check_sweep_spec(const SweepSpec& spec, bool quiet) {
  for (const auto& var : spec.variants) plan_points(spec, var.params);  // a plan too large to enumerate stops first
  // TCO assumptions price a step's run; a serving point reports its devices' price (system_cost_usd), not a TCO.
  for (const auto& w : spec.workloads)
    if (!w.serve.empty() && !spec.tco.empty())
      std::fprintf(stderr, "sweep: warning: %s: `tco:` applies to step workloads; serving workload '%s' reports the "
                           "devices' price (system_cost_usd, max_rate_per_kusd), not a TCO\n",
                   spec.file.c_str(), w.name.c_str());
  // 1. Each parameter alone, value by value: one that no value of passes is the spec's error, not its points'.
  for (const auto& var : spec.variants) {
    for (const auto& p : var.params) {
      std::string first_error;
      bool any = false;
      for (const auto& v : p.values) {
        try {
          if (p.hardware) {
            load_hardware(var.hardware, {p.key + "=" + v});
          } else {
            for (const auto& w : spec.workloads) {
              std::vector<std::string> sets = w.sets;
              sets.push_back(p.key + "=" + v);
              load_workload(w.file, sets);
            }
          }
          any = true;
          break;
        } catch (const InputError& e) {
          if (first_error.empty()) first_error = strip_error(e.what());
        }
      }
      if (!any)
        throw InputError(p.mark, p.path + ": no value of this parameter is accepted, so every point would fail: " +
                                     first_error);
    }
  }
  // 2. The first point that builds, simulated once: every metric and constraint must name a number in its result.
  // The built-in metrics always do: a spec that names no other needs no run.
  if (spec.metric_marks.empty()) return "";
  std::vector<HardwareConfig> hws;
  const std::vector<Task> tasks = build_tasks(spec, hws);
  int tried = 0;
  for (const Task& t : tasks) {
    if (!t.error.empty()) continue;
    if (++tried > 3) break;  // points that fail to run say so as rows; the check does not run the whole sweep
    if (!quiet) std::fprintf(stderr, "sweep: checking the spec's metrics on point %s\n", t.id.c_str());
    nlohmann::json r;
    try {
      r = run_in_child([&] { return run_point(spec, t); });
    } catch (const InputError&) {
      continue;  // this point cannot run (it will be a failed row): the metrics are checked on one that does
    }
    std::vector<std::string> known;
    numeric_paths(r, "", known, 0);
    known.push_back("energy_per_item_j");
    known.push_back("time_per_item_s");
    for (const auto& [m, mark] : spec.metric_marks) {
      double v = 0;
      if (metric_of(r, m, v)) continue;
      const std::string hint = closest_match(m, known);
      throw InputError(mark, "'" + m + "' names no number in a run's result" +
                                 (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                                 "; metrics are dotted paths into `xpusim run --json` output, e.g. "
                                 "components.hbm.stats.bytes_read");
    }
    return t.id;
  }
  std::fprintf(stderr, "sweep: warning: no point of the first %d ran, so the metrics and constraints the spec names "
                       "are not checked before the runs\n", tried > 3 ? 3 : tried);
  return "";
}

std::vector<std::pair<size_t, std::string>> missing_sweep_tasks(const SweepSpec& spec, const std::string& dir) {
  make_output_dir(dir, "--out");
  ResultsDb db((fs::path(dir) / "results.sqlite").string());
  prepare_db(db, spec);
  std::vector<HardwareConfig> hws;
  const std::vector<Task> tasks = build_tasks(spec, hws);
  db.set_meta("tasks", std::to_string(tasks.size()));
  std::vector<std::pair<size_t, std::string>> out;
  for (size_t i : todo_tasks(spec, tasks, db.done(), {}, nullptr))
    out.push_back({i, tasks[i].id + " " + spec.workloads[tasks[i].workload].name});
  return out;
}

void export_sweep_csv(const std::string& dir, const std::string& csv_path) {
  const fs::path db_path = fs::path(dir) / "results.sqlite";
  if (!fs::exists(db_path)) throw InputError(SourceMark{dir, 0, 0}, "no results.sqlite in this folder (run xpusim sweep first)");
  ResultsDb db(db_path.string());
  std::ofstream f;
  std::ostream* out = &std::cout;
  if (csv_path != "-") {
    make_parent_dirs(csv_path);
    f.open(csv_path);
    if (!f) throw InputError(SourceMark{csv_path, 0, 0}, "cannot write file");
    out = &f;
  }
  auto cell = [](const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  const auto cols = db.columns();
  for (size_t i = 0; i < cols.size(); ++i) *out << (i ? "," : "") << cell(cols[i]);
  *out << "\n";
  for (const auto& row : db.rows()) {
    for (size_t i = 0; i < row.size(); ++i) *out << (i ? "," : "") << cell(row[i]);
    *out << "\n";
  }
}

}  // namespace xpu
