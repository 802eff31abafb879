// Design-space sweeps: points in their own processes, results in SQLite, reruns skip what is done, failures are
// recorded, a killed sweep loses nothing, plans are reproducible, bad specs are refused at their line.
#include <signal.h>
#include <sqlite3.h>

#include <algorithm>
#include <map>
#include <set>

#include "sim/sweep/report.h"
#include "sim/sweep/spec.h"
#include "test_support.h"

using namespace xpu;
using namespace xpu::test;

namespace {

// Rows of the results table as column -> text, as SQLite prints it; with `exact`, typed and exact instead: reals as
// "real:%.17g" (bit for bit: values that differ in the 16th digit differ here, where SQLite's text would print them
// alike), integers as "int:", text as "text:...", so a real stored as text differs too.
std::vector<std::map<std::string, std::string>> rows_of(const fs::path& db_path, bool exact = false) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT * FROM results", -1, &st, nullptr) == SQLITE_OK);
  std::vector<std::map<std::string, std::string>> out;
  while (sqlite3_step(st) == SQLITE_ROW) {
    std::map<std::string, std::string> r;
    for (int i = 0; i < sqlite3_column_count(st); ++i) {
      const int type = sqlite3_column_type(st, i);
      char buf[48] = "";
      if (exact && type == SQLITE_FLOAT) std::snprintf(buf, sizeof buf, "real:%.17g", sqlite3_column_double(st, i));
      if (exact && type == SQLITE_INTEGER) std::snprintf(buf, sizeof buf, "int:%lld", sqlite3_column_int64(st, i));
      const unsigned char* t = sqlite3_column_text(st, i);
      const std::string text = t ? reinterpret_cast<const char*>(t) : "";
      r[sqlite3_column_name(st, i)] = !exact ? text
                                      : buf[0] ? std::string(buf)
                                      : type == SQLITE_NULL ? std::string("null") : "text:" + text;
    }
    out.push_back(r);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

std::string spec_text(const std::string& params, const std::string& plan = "grid") {
  const std::string root = fs::current_path().string();
  return "name: t\nhardware: " + root + "/configs/h100.yaml\nworkloads:\n"
         "  - {name: dec, file: " + root + "/workloads/llama2-7b.yaml, set: {mode: decode, batch: 4, kv: 256, layers: 2}}\n"
         "parameters:\n" + params + "plan: " + plan + "\n";
}

}  // namespace

TEST_CASE("sweep: the 24-point smoke spec fills the results table and a rerun skips every point", "[sweep]") {
  TempDir dir;
  const std::string out = (dir.path / "s").string();
  Run r = xpusim("sweep configs/sweeps/hbm-cores-l2.yaml -j 2 -q --out '" + out + "'", dir);
  INFO(r.output);
  REQUIRE(r.status == 0);
  auto rows = rows_of(fs::path(out) / "results.sqlite");
  REQUIRE(rows.size() == 24);
  std::set<std::string> ids, combos;
  for (const auto& row : rows) {
    CHECK(row.at("status") == "ok");
    CHECK(std::stod(row.at("total_time_s")) > 0);
    CHECK(std::stod(row.at("energy_per_item_j")) > 0);
    ids.insert(row.at("point_id"));
    combos.insert(row.at("hw.hbm.bandwidth") + "|" + row.at("hw.gpu.units") + "|" + row.at("hw.l2.capacity"));
  }
  CHECK(ids.size() == 24);
  CHECK(combos.size() == 24);
  // More HBM bandwidth never makes memory-bound decode slower.
  std::map<std::string, double> by_bw;
  for (const auto& row : rows)
    if (row.at("hw.gpu.units") == "132" && row.at("hw.l2.capacity") == "50 MiB")
      by_bw[row.at("hw.hbm.bandwidth")] = std::stod(row.at("total_time_s"));
  CHECK(by_bw.at("2 TB/s") > by_bw.at("3.35 TB/s"));
  CHECK(by_bw.at("3.35 TB/s") > by_bw.at("8 TB/s"));
  Run again = xpusim("sweep configs/sweeps/hbm-cores-l2.yaml -j 2 -q --out '" + out + "'", dir);
  CHECK(again.output.find("0 done now, 0 failed, 24 already done") != std::string::npos);
  Run csv = xpusim("sweep export '" + out + "' --csv '" + (dir.path / "r.csv").string() + "'", dir);
  CHECK(csv.status == 0);
  const std::string text = read_file(dir.path / "r.csv");
  CHECK(std::count(text.begin(), text.end(), '\n') == 25);
  CHECK(text.find("hw.hbm.bandwidth") != std::string::npos);
  Run st = xpusim("sweep status '" + out + "'", dir);
  CHECK(st.output.find("24 of 24 runs done, 0 failed, 0 missing") != std::string::npos);
}

TEST_CASE("sweep: a point the config refuses records its error and the others still run", "[sweep]") {
  TempDir dir;
  const std::string spec = dir.write("s.yaml", spec_text("  hw.hbm.bandwidth: [3 TB/s, -1 TB/s, 4 TB/s]\n"));
  Run r = xpusim("sweep '" + spec + "' -j 2 -q --out '" + (dir.path / "o").string() + "'", dir);
  INFO(r.output);
  CHECK(r.status == 1);
  auto rows = rows_of(dir.path / "o" / "results.sqlite");
  REQUIRE(rows.size() == 3);
  int ok = 0, bad = 0;
  for (const auto& row : rows) {
    if (row.at("status") == "ok") ++ok;
    else {
      ++bad;
      CHECK(row.at("hw.hbm.bandwidth") == "-1 TB/s");
      CHECK(row.at("error").find("bandwidth") != std::string::npos);
    }
  }
  CHECK(ok == 2);
  CHECK(bad == 1);
}

TEST_CASE("sweep: killed with SIGKILL mid-run, it keeps every finished row and a rerun completes the rest",
          "[sweep]") {
  TempDir dir;
  const std::string spec =
      dir.write("s.yaml", spec_text("  hw.hbm.bandwidth: {range: [1, 8], step: 0.25, unit: TB/s}\n"
                                    "  wl.batch: [1, 2, 4, 8]\n  wl.layers: [32]\n"));
  const std::string out = (dir.path / "o").string();
  const std::string cmd = std::string("'") + XPUSIM_BINARY + "' sweep '" + spec + "' -j 2 -q --out '" + out +
                          "' > /dev/null 2>&1 & pid=$!; for i in $(seq 200); do [ -f '" + out +
                          "/results.sqlite' ] && break; sleep 0.05; done; sleep 1; kill -9 $pid; wait $pid 2>/dev/null; "
                          "true";
  REQUIRE(std::system(cmd.c_str()) == 0);
  const size_t before = rows_of(fs::path(out) / "results.sqlite").size();
  CHECK(before < 116);
  Run r = xpusim("sweep '" + spec + "' -j 2 -q --out '" + out + "'", dir);
  INFO(r.output);
  REQUIRE(r.status == 0);
  auto rows = rows_of(fs::path(out) / "results.sqlite");
  CHECK(rows.size() == 116);  // 29 bandwidths x 4 batches
  for (const auto& row : rows) CHECK(row.at("status") == "ok");
}

TEST_CASE("sweep: random and Latin-hypercube plans are reproducible from their seed and cover the strata",
          "[sweep]") {
  TempDir dir;
  auto plan = [&](const std::string& kind, int seed) {
    const std::string spec = dir.write("p.yaml", spec_text("  hw.hbm.bandwidth: {range: [1, 10], step: 1, unit: TB/s}\n"
                                                           "  hw.gpu.units: {log: [16, 256], points: 5}\n",
                                                           "{kind: " + kind + ", points: 10, seed: " +
                                                               std::to_string(seed) + "}"));
    return plan_points(load_sweep_spec(spec));
  };
  auto a = plan("lhs", 7), b = plan("lhs", 7), c = plan("lhs", 8);
  CHECK(a == b);
  CHECK(a != c);
  REQUIRE(a.size() == 10);
  // 10 bandwidth values, 10 points: a Latin hypercube takes each value exactly once.
  std::set<size_t> bw;
  for (const auto& p : a) bw.insert(p[0]);
  CHECK(bw.size() == 10);
  CHECK(plan("random", 3) == plan("random", 3));
  auto spec = load_sweep_spec(dir.write("g.yaml", spec_text("  hw.gpu.units: {log: [16, 256], points: 5}\n")));
  CHECK(spec.params[0].values == std::vector<std::string>{"16", "32", "64", "128", "256"});
}

TEST_CASE("sweep: bad specs are refused with the file and line", "[sweep][bad_input]") {
  TempDir dir;
  struct Case { std::string params, plan, expect; };
  for (const Case& c : {Case{"  gpu.units: [1, 2]\n", "grid", "must start with hw."},
                        Case{"  hw.gpu.units: {range: [1, 8]}\n", "grid", "range needs a step"},
                        Case{"  hw.gpu.units: [1, 2]\n", "lhs", "needs points"},
                        Case{"  hw.gpu.units: [1, 2]\n", "sobol", "expected grid, random or lhs"}}) {
    const std::string spec = dir.write("bad.yaml", spec_text(c.params, c.plan));
    Run r = xpusim("sweep '" + spec + "' -q --out '" + (dir.path / "o").string() + "'", dir);
    INFO(c.params << c.plan << "\n" << r.output);
    CHECK(r.status == 2);
    CHECK(r.output.find("bad.yaml:") != std::string::npos);
    CHECK(r.output.find(c.expect) != std::string::npos);
  }
}

TEST_CASE("sweep: the Pareto front keeps exactly the non-dominated points", "[sweep]") {
  //            time energy
  std::vector<std::vector<double>> v = {{1, 9}, {2, 5}, {3, 5}, {4, 1}, {2, 6}, {5, 5}, {2, 5}};
  auto f = pareto_front(v);
  CHECK(f == std::vector<size_t>{0, 1, 3});  // {3,5}, {2,6}, {5,5} are dominated; the repeated {2,5} counts once
}

TEST_CASE("sweep: report ranks HBM bandwidth first for memory-bound decode and plots the front", "[sweep]") {
  TempDir dir;
  const std::string out = (dir.path / "s").string();
  REQUIRE(xpusim("sweep configs/sweeps/hbm-cores-l2.yaml -j 2 -q --out '" + out + "'", dir).status == 0);
  Run r = xpusim("sweep report '" + out + "' --pareto total_time_s,energy_j", dir);
  INFO(r.output);
  REQUIRE(r.status == 0);
  const std::string md = read_file(fs::path(out) / "report" / "report.md");
  CHECK(md.find("on the Pareto front") != std::string::npos);
  // The first row of the effects table is the bandwidth.
  const size_t table = md.find("| parameter |");
  REQUIRE(table != std::string::npos);
  const size_t first = md.find("\n| ", md.find("|---|", table));
  CHECK(md.compare(first + 3, 16, "hw.hbm.bandwidth") == 0);
  const std::string svg = read_file(fs::path(out) / "report" / "llama2_7b_decode_b16.pareto.svg");
  CHECK(svg.find("<svg") != std::string::npos);
  CHECK(svg.find("Pareto front") != std::string::npos);
  Run bad = xpusim("sweep report '" + out + "' --pareto no_such_metric", dir);
  CHECK(bad.status == 2);
  CHECK(bad.output.find("no_such_metric") != std::string::npos);
}

TEST_CASE("sweep: the Slurm backend on a one-node cluster gives the local backend's results", "[sweep][slurm]") {
  TempDir dir;
  const std::string cluster = (dir.path / "cluster").string();
  REQUIRE(std::system("command -v slurmctld >/dev/null && command -v munged >/dev/null") == 0);  // scripts/setup
  struct Down {
    std::string dir;
    ~Down() { std::system(("scripts/slurm-local down '" + dir + "' >/dev/null 2>&1").c_str()); }
  } down{cluster};
  const std::string remote = (dir.path / "remote").string(), local = (dir.path / "local").string();
  const std::string spec = dir.write("s.yaml", spec_text("  hw.hbm.bandwidth: [2 TB/s, 3 TB/s, 5 TB/s]\n"
                                                         "  wl.batch: [1, 8]\n"));
  // Two runs per array task: three tasks, throttled to two at once.
  const std::string script = dir.write(
      "submit.sh", "set -e\neval \"$(scripts/slurm-local up '" + cluster + "')\"\n'" + XPUSIM_BINARY + "' sweep '" +
                       spec + "' --backend slurm --per-task 2 --throttle 2 --time 00:05:00 --wait --out '" + remote +
                       "'\n");
  REQUIRE(std::system(("timeout 120 bash '" + script + "' > '" + (dir.path / "submit.txt").string() + "' 2>&1").c_str()) ==
          0);
  const std::string said = read_file(dir.path / "submit.txt");
  INFO(said);
  CHECK(said.find("3 tasks of up to 2") != std::string::npos);
  REQUIRE(xpusim("sweep '" + spec + "' -j 2 -q --out '" + local + "'", dir).status == 0);
  // Same binary, same inputs: bit-identical values of the same types, whichever backend ran them.
  auto a = rows_of(fs::path(remote) / "results.sqlite", true), b = rows_of(fs::path(local) / "results.sqlite", true);
  REQUIRE(a.size() == 6);
  REQUIRE(b.size() == 6);
  auto key = [](const std::map<std::string, std::string>& r) { return r.at("point_id") + r.at("workload"); };
  std::sort(a.begin(), a.end(), [&](auto& x, auto& y) { return key(x) < key(y); });
  std::sort(b.begin(), b.end(), [&](auto& x, auto& y) { return key(x) < key(y); });
  for (size_t i = 0; i < a.size(); ++i) {
    a[i].erase("wall_s");
    b[i].erase("wall_s");
    CHECK(a[i] == b[i]);
  }
  // Resubmitting finds nothing missing.
  Run again = xpusim("sweep '" + spec + "' --backend slurm --out '" + remote + "'", dir);
  CHECK(again.output.find("nothing to submit") != std::string::npos);
  Run st = xpusim("sweep status '" + remote + "'", dir);
  CHECK(st.output.find("6 of 6 runs done, 0 failed, 0 missing") != std::string::npos);
}

TEST_CASE("sweep: variants put different base configs and their own parameters in one table", "[sweep]") {
  TempDir dir;
  const std::string root = fs::current_path().string();
  const std::string spec = dir.write(
      "v.yaml", "name: v\nworkloads:\n  - {name: dlrm, file: " + root + "/workloads/dlrmv2.yaml, set: {batch: 256}}\n"
                "variants:\n"
                "  - {name: gpu, hardware: " + root + "/configs/h100.yaml, parameters: {hw.hbm.bandwidth: [2 TB/s, 3 TB/s]}}\n"
                "  - {name: cim, hardware: " + root + "/configs/cim-rram.yaml, parameters: {hw.cim.adc_bits: [5, 8]}}\n");
  const std::string out = (dir.path / "o").string();
  Run r = xpusim("sweep '" + spec + "' -j 2 -q --out '" + out + "'", dir);
  INFO(r.output);
  REQUIRE(r.status == 0);
  auto rows = rows_of(fs::path(out) / "results.sqlite");
  REQUIRE(rows.size() == 4);
  std::map<std::string, double> cim_energy;
  for (const auto& row : rows) {
    if (row.at("variant") == "gpu") CHECK(row.at("hw.cim.adc_bits").empty());
    if (row.at("variant") == "cim") {
      CHECK(row.at("hw.hbm.bandwidth").empty());
      cim_energy[row.at("hw.cim.adc_bits")] = std::stod(row.at("energy_j"));
    }
  }
  // A 5-bit ADC sums fewer rows per cycle (2^(5-2-1+2) = 16 of 128) at an eighth of the energy per conversion.
  REQUIRE(cim_energy.size() == 2);
  CHECK(cim_energy.at("5") != cim_energy.at("8"));
}
