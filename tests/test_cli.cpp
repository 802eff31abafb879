// The xpusim command line, run as a separate process: exit codes, messages on stderr, files written.
#include <catch2/catch.hpp>

#include "tests/test_support.h"
#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace fs = std::filesystem;
using namespace xpu::test;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}




}  // namespace

TEST_CASE("cli: describe lists the component types and generators", "[cli]") {
  TempDir dir;
  Run r = xpusim("describe", dir);
  INFO(r.output);
  CHECK(r.status == 0);
  for (const char* name : {"compute_core", "sram", "hbm", "noc", "host", "connection", "transformer", "dlrm"})
    CHECK(contains(r.output, name));
}

TEST_CASE("cli: describe hbm prints its parameters with their docs", "[cli]") {
  TempDir dir;
  Run r = xpusim("describe hbm", dir);
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(contains(r.output, "bandwidth"));
  CHECK(contains(r.output, "peak bandwidth of all stacks together"));
  CHECK(contains(r.output, "TB/s"));
  CHECK(contains(r.output, "capacity"));
  CHECK(contains(r.output, "(required)"));
  CHECK(contains(r.output, "stream_efficiency"));
}

TEST_CASE("cli: describe of a generator and of connection", "[cli]") {
  TempDir dir;
  Run t = xpusim("describe transformer", dir);
  INFO(t.output);
  CHECK(t.status == 0);
  CHECK(contains(t.output, "d_model"));
  Run c = xpusim("describe connection", dir);
  INFO(c.output);
  CHECK(c.status == 0);
  CHECK(contains(c.output, "energy_per_bit"));
}

TEST_CASE("cli: describe of an unknown name exits 2", "[cli]") {
  TempDir dir;
  Run r = xpusim("describe nosuch", dir);
  INFO(r.output);
  CHECK(r.status == 2);
  CHECK(contains(r.output, "xpusim: error:"));
  CHECK(contains(r.output, "'nosuch'"));
}

TEST_CASE("cli: run with a bad config exits 2 and prints file:line", "[cli]") {
  TempDir dir;
  const std::string cfg = "tests/data/bad_configs/wrong_unit.yaml";
  Run r = xpusim("run --hw " + cfg + " --workload workloads/llama2-7b.yaml -q", dir);
  INFO(r.output);
  CHECK(r.status == 2);
  CHECK(contains(r.output, "xpusim: " + cfg + ":7:"));
  CHECK(contains(r.output, ": error: "));
  CHECK(contains(r.output, "'GHz' is not a unit of bandwidth"));
  CHECK_FALSE(contains(r.output, "internal error"));
}

TEST_CASE("cli: run with a misspelled -p key exits 2 with a suggestion", "[cli]") {
  TempDir dir;
  Run r = xpusim("run --hw configs/h100.yaml --workload workloads/llama2-7b.yaml -q -p 'hbm.bandwidht=1 TB/s'", dir);
  INFO(r.output);
  CHECK(r.status == 2);
  CHECK(contains(r.output, "'bandwidht'"));
  CHECK(contains(r.output, "did you mean 'bandwidth'"));
}

TEST_CASE("cli: an unknown flag exits 2", "[cli]") {
  TempDir dir;
  Run r = xpusim("run --hw configs/h100.yaml --workload workloads/llama2-7b.yaml --no-such-flag", dir);
  INFO(r.output);
  CHECK(r.status == 2);
  CHECK(contains(r.output, "--no-such-flag"));
  Run none = xpusim("", dir);  // a subcommand is required
  INFO(none.output);
  CHECK(none.status == 2);
}

TEST_CASE("cli: a missing --hw file exits 2", "[cli]") {
  TempDir dir;
  Run r = xpusim("run --hw configs/no_such_file.yaml --workload workloads/llama2-7b.yaml -q", dir);
  INFO(r.output);
  CHECK(r.status == 2);
  CHECK(contains(r.output, "no_such_file.yaml"));
}

TEST_CASE("cli: run writes JSON results and the effective config", "[cli]") {
  TempDir dir;
  fs::path json_path = dir.path / "x.json";
  Run r = xpusim("run --hw configs/h100.yaml --workload workloads/llama2-7b.yaml --set layers=2 -q --json '" +
                     json_path.string() + "'",
                 dir);
  INFO(r.output);
  REQUIRE(r.status == 0);
  REQUIRE(fs::exists(json_path));
  nlohmann::json j = nlohmann::json::parse(read_file(json_path));
  REQUIRE(j.contains("total_time_s"));
  CHECK(j["total_time_s"].get<double>() > 0);

  fs::path cfg = dir.path / "x.config.yaml";
  REQUIRE(fs::exists(cfg));
  std::string text = read_file(cfg);
  CHECK(contains(text, "configs/h100.yaml"));
  CHECK(contains(text, "3.35 TB/s"));
  CHECK(contains(text, "units: 132"));
}

TEST_CASE("cli: -p overrides reach the effective config", "[cli]") {
  TempDir dir;
  fs::path json_path = dir.path / "y.json";
  Run r = xpusim("run --hw configs/h200.yaml --workload workloads/llama2-7b.yaml --set layers=1 -q"
                 " -p 'hbm.bandwidth=4 TB/s' -p components.gpu.units=100 --json '" +
                     json_path.string() + "'",
                 dir);
  INFO(r.output);
  REQUIRE(r.status == 0);
  std::string text = read_file(dir.path / "y.config.yaml");
  CHECK(contains(text, "4 TB/s"));
  CHECK(contains(text, "units: 100"));
  CHECK(contains(text, "141 GB"));
  CHECK_FALSE(contains(text, "\nextends:"));
}

TEST_CASE("cli: an op the mapper rejects during the run exits 2 with its file and line", "[cli]") {
  TempDir dir;
  std::ofstream(dir.path / "coll.yaml") << "name: coll\nops:\n"
                                            "  - {name: ar, kind: collective, op: all_reduce, bytes: 16 MiB, group: 8}\n";
  Run r = xpusim("run --hw configs/h100.yaml --workload " + (dir.path / "coll.yaml").string() + " -q", dir);
  INFO(r.output);
  CHECK(r.status == 2);
  CHECK(contains(r.output, "coll.yaml:3"));
  CHECK(contains(r.output, "network:"));
  CHECK_FALSE(contains(r.output, "internal error"));
}

TEST_CASE("cli: validate prints the table and writes predictions", "[cli]") {
  TempDir dir;
  Run v = xpusim("validate --hw configs/h100.yaml --cases tests/data/calibration/h100_calibration.json -q --out " +
                     (dir.path / "pred.json").string(),
                 dir);
  INFO(v.output);
  CHECK(v.status == 0);
  CHECK(contains(v.output, "roofline"));
  CHECK(contains(read_file(dir.path / "pred.json"), "sim_ms"));
}

TEST_CASE("cli: collective prints an nccl-tests table and writes its rows", "[cli]") {
  TempDir dir;
  Run r = xpusim("collective --hw configs/dgx-h100.yaml --op all_reduce --algorithm ring --sizes 1MiB:1GiB -f 4 --json " +
                     (dir.path / "c.json").string(),
                 dir);
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(contains(r.output, "busbw"));
  auto j = nlohmann::json::parse(read_file(dir.path / "c.json"));
  REQUIRE(j["rows"].size() == 6);  // 1, 4, 16, 64, 256, 1024 MiB
  double small = j["rows"][0]["busbw_GBps"].get<double>(), large = j["rows"][5]["busbw_GBps"].get<double>();
  CHECK(small < large);                       // latency dominates small messages
  CHECK(large == Approx(370).epsilon(0.05));  // the ring bus bandwidth at large sizes
  CHECK(j["rows"][5]["algorithm"] == "ring");
  Run none = xpusim("collective --hw configs/h100.yaml", dir);
  CHECK(none.status == 2);
  CHECK(contains(none.output, "no `network:`"));
}
