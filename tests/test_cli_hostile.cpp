// What a hostile new user tries on the command line (issue 18 items 12 and 16): unknown commands, outputs that
// collide, monstrous values, an output directory that is a file, leftovers of a killed sweep, a capped trace.
#include "test_support.h"

#include <filesystem>

using namespace xpu::test;
namespace fs = std::filesystem;

namespace {

// A sweep of a one-layer decode step over the given HBM bandwidths (a YAML list).
std::string one_layer_spec(const TempDir& dir, const std::string& bandwidths) {
  const std::string root = fs::current_path().string();
  return dir.write("s.yaml", "name: t\nhardware: " + root + "/configs/h100.yaml\nworkloads:\n"
                             "  - {name: dec, file: " + root + "/workloads/llama2-7b.yaml, set: "
                             "{mode: decode, batch: 4, kv: 256, layers: 1}}\n"
                             "parameters:\n  hw.hbm.bandwidth: " + bandwidths + "\nplan: grid\n");
}

}  // namespace

TEST_CASE("hostile CLI: an unknown command is named, with the closest one", "[cli]") {
  TempDir dir;
  Run r = xpusim("rnu --hw configs/h100.yaml", dir);
  CHECK(r.status == 2);
  CHECK(r.output.find("unknown command 'rnu' (did you mean 'run'?)") != std::string::npos);
  Run f = xpusim("frobnicate", dir);
  CHECK(f.status == 2);
  CHECK(f.output.find("unknown command 'frobnicate'; commands: run, validate") != std::string::npos);
}

TEST_CASE("hostile CLI: two outputs on one path are refused before the run", "[cli]") {
  TempDir dir;
  const std::string p = (dir.path / "x.json").string();
  Run r = xpusim("run --hw configs/h100.yaml -w workloads/llama2-7b.yaml -q --json '" + p + "' --trace '" + p + "'", dir);
  CHECK(r.status == 2);
  CHECK(r.output.find("--json and --trace name the same file") != std::string::npos);
  CHECK_FALSE(fs::exists(p));
}

TEST_CASE("hostile CLI: a 2,000,000-digit value is not echoed whole", "[cli]") {
  TempDir dir;
  const std::string hw = dir.write("hw.yaml", "extends: " + fs::current_path().string() + "/configs/h100.yaml\n"
                                              "components:\n  hbm: {bandwidth: " + std::string(2000000, '9') +
                                              " TB/s}\n");
  Run r = xpusim("run --hw '" + hw + "' -w workloads/llama2-7b.yaml -q", dir);
  INFO(r.output.substr(0, 400));
  CHECK(r.status == 2);
  CHECK(r.output.size() < 2000);
  CHECK(r.output.find("(2000001 characters)") != std::string::npos);  // with its opening quote
  Run p = xpusim("run --hw configs/h100.yaml -w workloads/llama2-7b.yaml -q -p hbm.bandwidth=" +
                     std::string(100000, '9') + "TB/s",
                 dir);
  CHECK(p.status == 2);
  CHECK(p.output.size() < 2000);
}

TEST_CASE("hostile CLI: a sweep's --out that is a file is an input error, a killed run's leftovers are removed",
          "[cli][sweep]") {
  TempDir dir;
  const std::string file = dir.write("f.txt", "not a directory\n");
  Run r = xpusim("sweep configs/sweeps/hbm-cores-l2.yaml -q --out '" + file + "'", dir);
  CHECK(r.status == 2);
  CHECK(r.output.find("--out: exists and is not a directory") != std::string::npos);

  const std::string spec = one_layer_spec(dir, "[3 TB/s]");
  const fs::path out = dir.path / "o";
  fs::create_directories(out / "tmp");
  { std::ofstream(out / "tmp" / "424242.json") << "{\"partial\""; }
  Run s = xpusim("sweep '" + spec + "' -j 1 --out '" + out.string() + "'", dir);
  INFO(s.output);
  CHECK(s.status == 0);
  CHECK(s.output.find("removed 1 result files an interrupted run left") != std::string::npos);
  CHECK_FALSE(fs::exists(out / "tmp" / "424242.json"));
}

TEST_CASE("hostile CLI: a trace whose tile slices hit the cap says so, and --trace-tiles moves the cap", "[cli]") {
  TempDir dir;
  const std::string t = (dir.path / "t.json").string();
  Run r = xpusim("run --hw configs/h100.yaml -w workloads/llama2-7b.yaml --set layers=2 -q --trace '" + t +
                     "' --trace-tiles 1000",
                 dir);
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output.find("holds the first 1000 of ") != std::string::npos);
  CHECK(r.output.find("--trace-tiles N raises the cap") != std::string::npos);
  Run all = xpusim("run --hw configs/h100.yaml -w workloads/llama2-7b.yaml --set layers=2 -q --trace '" + t + "'", dir);
  CHECK(all.output.find("holds the first") == std::string::npos);
}

TEST_CASE("hostile CLI: a sweep whose points fail says which and why, --dry-run checks without running",
          "[cli][sweep]") {
  TempDir dir;
  const std::string spec = one_layer_spec(dir, "[3 TB/s, 0 TB/s]");
  const fs::path out = dir.path / "o";
  Run dry = xpusim("sweep '" + spec + "' --dry-run -q --out '" + out.string() + "'", dir);
  INFO(dry.output);
  CHECK(dry.status == 0);
  CHECK(dry.output.find("spec checked") != std::string::npos);
  CHECK_FALSE(fs::exists(out / "results.sqlite"));
  Run s = xpusim("sweep '" + spec + "' -j 1 -q --out '" + out.string() + "'", dir);
  INFO(s.output);
  CHECK(s.status == 1);
  CHECK(s.output.find("1 of 2 runs failed; the first:") != std::string::npos);
  CHECK(s.output.find("bandwidth must be > 0") != std::string::npos);
}
