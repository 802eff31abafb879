#include "sim/sweep/slurm.h"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "sim/config/errors.h"
#include "sim/sweep/results_db.h"

namespace xpu {
namespace {

namespace fs = std::filesystem;

std::string shell_quote(const std::string& s) {
  std::string o = "'";
  for (char c : s) o += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return o + "'";
}

// Runs a command, returns its standard output; a failure is the user's to see (sbatch refusing a partition, say).
std::string run_command(const std::string& cmd) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) throw InputError("cannot run: " + cmd);
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int rc = pclose(p);
  if (rc != 0) throw InputError("'" + cmd + "' failed: " + out);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

std::string self_exe() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("xpusim") : p.string();
}

}  // namespace

std::vector<size_t> read_shard_tasks(const std::string& path, std::vector<std::string>* expected) {
  std::ifstream in(path);
  if (!in) throw InputError(SourceMark{path, 0, 0}, "cannot read the shard's task list");
  std::vector<size_t> out;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::istringstream ls(line);
    size_t idx = 0;
    std::string id, wl;
    if (!(ls >> idx >> id >> wl)) throw InputError(SourceMark{path, n, 1}, "expected 'index point_id workload'");
    out.push_back(idx);
    if (expected) expected->push_back(id + " " + wl);
  }
  return out;
}

size_t collect_sweep(const std::string& dir) {
  const fs::path shards = fs::path(dir) / "shards";
  const std::string main_path = (fs::path(dir) / "results.sqlite").string();
  size_t merged = 0;
  if (!fs::exists(shards)) return 0;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(shards))
    if (e.path().extension() == ".sqlite") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  ResultsDb main_db(main_path);
  for (const auto& f : files) {
    merged += main_db.merge_from(f.string());
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::error_code ec;
      fs::remove(f.string() + suffix, ec);
    }
  }
  return merged;
}

std::string submit_sweep_slurm(const SweepSpec& spec, const SweepOptions& opt, const SlurmOptions& so) {
  const fs::path out = fs::absolute(opt.out);
  fs::create_directories(out / "slurm" / "logs");
  fs::create_directories(out / "shards");
  collect_sweep(out.string());  // rows of an earlier submission count as done
  std::vector<std::pair<size_t, std::string>> missing = missing_sweep_tasks(spec, out.string());
  if (missing.empty()) return "nothing to submit: every run of " + spec.name + " is in " + (out / "results.sqlite").string();
  const size_t per = std::max<size_t>(1, so.per_task);
  const size_t shards = (missing.size() + per - 1) / per;
  // Each submission gets its own shard lists, so a resubmission never rewrites what a running array reads.
  const std::string stamp = std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  const fs::path lists = out / "slurm" / ("tasks-" + stamp);
  fs::create_directories(lists);
  for (size_t s = 0; s < shards; ++s) {
    std::ofstream f(lists / ("shard-" + std::to_string(s) + ".txt"));
    for (size_t k = s * per; k < std::min(missing.size(), (s + 1) * per); ++k)
      f << missing[k].first << " " << missing[k].second << "\n";
  }
  const std::string exe = self_exe();
  const std::string spec_abs = fs::absolute(spec.file).string();
  auto header = [&](const std::string& name) {
    std::string h = "#!/bin/bash\n#SBATCH --job-name=" + name + "\n#SBATCH --cpus-per-task=1\n#SBATCH --time=" +
                    so.time_limit + "\n";
    if (!so.partition.empty()) h += "#SBATCH --partition=" + so.partition + "\n";
    if (!so.account.empty()) h += "#SBATCH --account=" + so.account + "\n";
    return h;
  };
  const fs::path array_sh = out / "slurm" / "array.sh", collect_sh = out / "slurm" / "collect.sh";
  {
    std::ofstream a(array_sh);
    a << header("xpusim-" + spec.name) << "#SBATCH --output=" << (out / "slurm" / "logs" / "%A_%a.out").string()
      << "\nset -euo pipefail\nexec " << shell_quote(exe) << " sweep " << shell_quote(spec_abs) << " --out "
      << shell_quote(out.string()) << " --shard-db " << shell_quote((out / "shards").string())
      << "/task-${SLURM_ARRAY_JOB_ID}-${SLURM_ARRAY_TASK_ID}.sqlite --tasks-file " << shell_quote(lists.string())
      << "/shard-${SLURM_ARRAY_TASK_ID}.txt -j 1 -q\n";
    std::ofstream c(collect_sh);
    c << header("xpusim-" + spec.name + "-collect") << "#SBATCH --output="
      << (out / "slurm" / "logs" / "collect_%j.out").string() << "\nset -euo pipefail\nexec " << shell_quote(exe)
      << " sweep collect " << shell_quote(out.string()) << "\n";
  }
  const std::string array_id =
      run_command("sbatch --parsable --array=0-" + std::to_string(shards - 1) + "%" +
                  std::to_string(std::max<size_t>(1, so.throttle)) + " " + shell_quote(array_sh.string()));
  // Array tasks exit 0 when their runs end, failed runs included (those are rows with their error), so the collect
  // job waits for all of them (afterok); a task killed by Slurm leaves its runs missing for a resubmission.
  const std::string collect_id = run_command("sbatch --parsable --dependency=afterok:" + array_id + " " +
                                             shell_quote(collect_sh.string()));
  {
    ResultsDb db((out / "results.sqlite").string());
    db.set_meta("slurm_jobs", array_id + " " + collect_id);
  }
  std::string msg = "submitted " + std::to_string(missing.size()) + " runs of " + spec.name + " as job array " +
                    array_id + " (" + std::to_string(shards) + " tasks of up to " + std::to_string(per) +
                    ") and collect job " + collect_id;
  if (so.wait) {
    // Poll until neither job is known to the queue any more.
    for (;;) {
      const std::string q = run_command("squeue -h -j " + array_id + "," + collect_id + " -o %i");
      if (q.empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    msg += "; finished";
  }
  return msg;
}

}  // namespace xpu
