#include "sim/cli/sweep_command.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <filesystem>
#include <thread>

#include "sim/config/errors.h"
#include <sstream>

#include "sim/sweep/report.h"
#include "sim/sweep/results_db.h"
#include "sim/sweep/slurm.h"
#include "sim/sweep/runner.h"
#include "sim/sweep/spec.h"

namespace xpu {

SweepCommands add_sweep_command(CLI::App& app, SweepArgs& a) {
  SweepCommands c;
  c.sweep = app.add_subcommand("sweep", "run a design-space sweep (SPEC.yaml), or export / report on one (DIR)");
  c.sweep->add_option("spec", a.spec, "sweep spec YAML")->check(CLI::ExistingFile);
  c.sweep->add_option("-j,--jobs", a.jobs, "simulations at once (default: one per core)")->check(CLI::Range(1, 4096));
  c.sweep->add_option("--out", a.out, "output folder (default: out/sweeps/<spec name>)");
  c.sweep->add_flag("-q,--quiet", a.quiet, "no progress line on stderr");
  c.sweep->add_flag("--dry-run", a.dry_run,
                    "check the spec (every parameter has a value the config or workload takes; every metric and "
                    "constraint names a number of a run's result, by running the first point) and stop");
  c.sweep->add_option("--backend", a.backend, "local (processes here) or slurm (a job array and a collect job)")
      ->check(CLI::IsMember({"local", "slurm"}));
  c.sweep->add_option("--partition", a.partition, "slurm: partition");
  c.sweep->add_option("--time", a.time_limit, "slurm: time limit per array task")->capture_default_str();
  c.sweep->add_option("--account", a.account, "slurm: account");
  c.sweep->add_option("--per-task", a.per_task, "slurm: runs per array task")->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  c.sweep->add_option("--throttle", a.throttle, "slurm: array tasks running at once")->check(CLI::Range(1, 100000))
      ->capture_default_str();
  c.sweep->add_flag("--wait", a.wait, "slurm: return when the collect job has finished");
  // What an array task runs; not for people.
  c.sweep->add_option("--shard-db", a.shard_db, "")->group("");
  c.sweep->add_option("--tasks-file", a.tasks_file, "")->group("");
  c.exp = c.sweep->add_subcommand("export", "write a sweep's results table as CSV");
  c.exp->add_option("dir", a.dir, "sweep output folder")->required()->check(CLI::ExistingDirectory);
  c.exp->add_option("--csv", a.csv, "CSV file to write ('-': standard output)")->required();
  c.status = c.sweep->add_subcommand("status", "how many of a sweep's runs are done, failed or missing");
  c.status->add_option("dir", a.dir, "sweep output folder")->required()->check(CLI::ExistingDirectory);
  c.report = c.sweep->add_subcommand("report", "Pareto front, parameters ranked by effect, and plots (DIR/report/)");
  c.report->add_option("dir", a.dir, "sweep output folder")->required()->check(CLI::ExistingDirectory);
  c.report->add_option("--pareto", a.pareto, "metrics of the front, comma-separated; max:NAME to maximize")
      ->capture_default_str();
  c.report->add_flag("--no-plots", a.no_plots, "skip the gnuplot SVGs");
  c.report->add_flag("--all", a.all, "include points that break the spec's constraints");
  c.collect = c.sweep->add_subcommand("collect", "merge the results of Slurm array tasks into DIR/results.sqlite");
  c.collect->add_option("dir", a.dir, "sweep output folder")->required()->check(CLI::ExistingDirectory);
  c.sweep->require_subcommand(0, 1);
  return c;
}

int cmd_sweep(const SweepCommands& c, const SweepArgs& a) {
  namespace fs = std::filesystem;
  if (c.exp->parsed()) {
    export_sweep_csv(a.dir, a.csv);
    return 0;
  }
  if (c.report->parsed()) {
    SweepReportOptions ro;
    ro.dir = a.dir;
    ro.objectives.clear();
    std::stringstream ss(a.pareto);
    for (std::string m; std::getline(ss, m, ',');)
      if (!m.empty()) ro.objectives.push_back(m);
    if (ro.objectives.empty()) throw InputError("sweep report: --pareto needs at least one metric");
    ro.plots = !a.no_plots;
    ro.include_infeasible = a.all;
    std::fputs(sweep_report(ro).c_str(), stdout);
    return 0;
  }
  if (c.collect->parsed()) {
    std::printf("merged %zu rows into %s\n", collect_sweep(a.dir), (fs::path(a.dir) / "results.sqlite").c_str());
    return 0;
  }
  if (c.status->parsed()) {
    const fs::path db_path = fs::path(a.dir) / "results.sqlite";
    if (!fs::exists(db_path)) throw InputError(SourceMark{a.dir, 0, 0}, "no results.sqlite in this folder");
    ResultsDb db(db_path.string());
    size_t ok = 0, failed = 0;
    const auto cols = db.columns();
    size_t status_col = 0;
    while (status_col < cols.size() && cols[status_col] != "status") ++status_col;
    for (const auto& r : db.rows()) (r[status_col] == "ok" ? ok : failed)++;
    const std::string total = db.meta("tasks");
    const size_t n = total.empty() ? ok + failed : std::stoul(total);
    std::printf("%s: %zu of %zu runs done, %zu failed, %zu missing\n", db.meta("name").c_str(), ok, n, failed,
                n > ok + failed ? n - ok - failed : 0);
    // Runs that Slurm array tasks finished but the collect job has not merged yet, and the jobs still queued.
    size_t pending = 0;
    if (fs::exists(fs::path(a.dir) / "shards"))
      for (const auto& e : fs::directory_iterator(fs::path(a.dir) / "shards"))
        if (e.path().extension() == ".sqlite") pending += ResultsDb(e.path().string()).rows().size();
    if (pending) std::printf("  %zu more finished in array tasks, not yet collected (xpusim sweep collect)\n", pending);
    const std::string jobs = db.meta("slurm_jobs");
    if (!jobs.empty()) {
      std::string ids = jobs;
      std::replace(ids.begin(), ids.end(), ' ', ',');
      FILE* q = popen(("squeue -h -j " + ids + " -o '%T' 2>/dev/null").c_str(), "r");
      std::map<std::string, int> states;
      char line[128];
      while (q && std::fgets(line, sizeof line, q)) {
        std::string st(line);
        while (!st.empty() && (st.back() == '\n' || st.back() == ' ')) st.pop_back();
        if (!st.empty()) ++states[st];
      }
      if (q) pclose(q);
      std::printf("  slurm jobs %s:", jobs.c_str());
      if (states.empty()) std::printf(" none queued");
      for (const auto& [st, k] : states) std::printf(" %d %s", k, st.c_str());
      std::printf("\n");
    }
    return 0;
  }
  if (a.spec.empty()) throw InputError("sweep: expected a spec file, or export/status with a folder");
  SweepSpec spec = load_sweep_spec(a.spec);
  SweepOptions opt;
  opt.out = a.out.empty() ? (fs::path("out/sweeps") / spec.name).string() : a.out;
  opt.jobs = a.jobs > 0 ? a.jobs : int(std::max(1u, std::thread::hardware_concurrency()));
  opt.quiet = a.quiet;
  // A shard of a cluster sweep runs what was checked at submission.
  if (a.tasks_file.empty()) {
    const std::string first = check_sweep_spec(spec, a.quiet);
    if (a.dry_run) {
      std::printf("%s: spec checked (parameters%s)\n", spec.name.c_str(),
                  first.empty() ? "" : (", metrics and constraints on its first point, " + first).c_str());
      return 0;
    }
  }
  if (a.backend == "slurm") {
    SlurmOptions so;
    so.partition = a.partition;
    so.time_limit = a.time_limit;
    so.account = a.account;
    so.per_task = a.per_task;
    so.throttle = a.throttle;
    so.wait = a.wait;
    std::printf("%s\n", submit_sweep_slurm(spec, opt, so).c_str());
    return 0;
  }
  if (!a.tasks_file.empty()) {
    // One Slurm array task: its shard of runs, into its own database; failed runs are rows, not a failed task.
    opt.only = read_shard_tasks(a.tasks_file, &opt.expected);
    opt.db = a.shard_db;
    opt.jobs = 1;
    SweepSummary s = run_sweep(spec, opt);
    std::printf("%zu runs: %zu done, %zu failed, %zu already done\n", s.tasks, s.ok, s.failed, s.skipped);
    return 0;
  }
  SweepSummary s = run_sweep(spec, opt);
  if (s.failed > 0) {
    std::fprintf(stderr, "sweep: %zu of %zu runs failed; the first:\n", s.failed, s.tasks);
    for (const auto& e : s.first_errors) std::fprintf(stderr, "  %s\n", e.c_str());
  }
  std::printf("%s: %zu runs (%zu points x %zu workloads): %zu done now, %zu failed, %zu already done; results in %s\n",
              spec.name.c_str(), s.tasks, spec.workloads.empty() ? 0 : s.tasks / spec.workloads.size(),
              spec.workloads.size(), s.ok, s.failed, s.skipped,
              (fs::path(opt.out) / "results.sqlite").string().c_str());
  return s.failed > 0 ? 1 : 0;
}

}  // namespace xpu
