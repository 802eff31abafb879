// The H100 calibration targets of issue 4, checked on tests/data/calibration/h100_calibration.json (a copy of the
// measurements in ../shared/calibration/h100/, whose `method` field says how they were taken).
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "sim/config/hardware.h"
#include "sim/validate/validate.h"
#include "test_support.h"

using namespace xpu;

namespace {

nlohmann::json validation() {
  std::ifstream in("tests/data/calibration/h100_calibration.json");
  REQUIRE(in);
  nlohmann::json cases = nlohmann::json::parse(in);
  std::ostringstream table;
  nlohmann::json out = run_validation(load_hardware("configs/h100.yaml"), cases, ValidateOptions{}, table);
  INFO(table.str());
  return out["validation"]["metrics"];
}

void check(const nlohmann::json& m, const std::string& metric, double max_mape, double max_worst) {
  INFO(metric << ": " << m[metric].dump());
  REQUIRE(m.contains(metric));
  const auto& s = m[metric];
  CHECK(s["failed"].get<int>() == 0);
  CHECK(s["mape_pct"].get<double>() <= max_mape);
  CHECK(s["worst_pct"].get<double>() <= max_worst);
  // What the simulator adds: at least 3x better than a roofline on the measured ceilings.
  CHECK(3 * s["mape_pct"].get<double>() <= s["roofline_mape_pct"].get<double>());
}

}  // namespace

TEST_CASE("calibration: H100 micro-benchmarks and models within the targets", "[calibration]") {
  nlohmann::json m = validation();
  check(m, "gemm.ms_cold", 10, 45);
  check(m, "attention.ms_cold", 12, 50);
  check(m, "attention.ms_fwd_bwd_cold", 25, 50);  // no separate target: held to "no row worse than 50%"
  check(m, "elementwise.ms_cold", 10, 50);
  check(m, "embedding_bag.ms_cold", 15, 50);
  check(m, "models.gpu_busy_us", 8, 50);
  check(m, "models.ms_per_iter_events", 15, 50);
}

TEST_CASE("calibration: rows it cannot simulate say why instead of guessing", "[calibration]") {
  nlohmann::json cases = {{"elementwise", {{{"op", "frobnicate"}, {"rows", 4}, {"cols", 4}, {"ms_cold", 0.01}}}},
                          {"gemm", {{{"M", 64}, {"N", 64}, {"dtype", "bfloat16"}, {"ms_cold", 0.01}}}}};
  std::ostringstream table;
  nlohmann::json out = run_validation(load_hardware("configs/h100.yaml"), cases, ValidateOptions{}, table);
  CHECK(out["elementwise"][0]["sim_error"].get<std::string>().find("frobnicate") != std::string::npos);
  CHECK(out["gemm"][0]["sim_error"].get<std::string>().find("'K'") != std::string::npos);
  CHECK_FALSE(out["gemm"][0].contains("sim_ms"));
}

TEST_CASE("calibration: a row may say which schedule its library ran", "[calibration]") {
  // The calibration file's CUDA 13 library balances a ragged last wave (13816 x 530 x 1230 takes 151 us); the best
  // whole data-parallel waves take ~20 % longer. A row that names a schedule gets it; a name that is not a
  // schedule is refused for that row.
  nlohmann::json row = {{"M", 13816}, {"N", 530}, {"K", 1230}, {"dtype", "bfloat16"}, {"ms_cold", 0.151}};
  nlohmann::json rows = nlohmann::json::array();
  for (const char* s : {"stream_k", "data_parallel", "fastest"}) {
    rows.push_back(row);
    rows.back()["gemm_schedule"] = s;
  }
  std::ostringstream table;
  nlohmann::json out = run_validation(load_hardware("configs/h100.yaml"), {{"gemm", rows}}, ValidateOptions{}, table);
  const double sk = out["gemm"][0]["sim_ms"], dp = out["gemm"][1]["sim_ms"];
  CHECK(dp > 1.12 * sk);
  CHECK(sk == Approx(0.151).epsilon(0.15));
  CHECK(out["gemm"][2]["sim_error"].get<std::string>().find("'gemm_schedule'") != std::string::npos);
}

TEST_CASE("calibration: data-parallel tiles are 128 x 128 or larger beyond one warpgroup's rows", "[calibration]") {
  // The library's cooperative data-parallel kernels (two consumer warpgroups of 64 rows) come 128 to 256 wide; the
  // planner's 128 x 64 tiles, which fill more SMs, made Vidur's rows with 32 < M <= 256 15.7 % off (13.0 % without).
  // A skinny problem (M <= 64) keeps its narrow tiles.
  nlohmann::json rows = nlohmann::json::array();
  for (int m : {16, 184, 352, 1040})
    rows.push_back({{"M", m}, {"N", 4096}, {"K", 512}, {"dtype", "float16"}, {"ms_warm", 0.01},
                    {"gemm_schedule", "data_parallel"}, {"cache", "evicted"}, {"timing", "kernel"}});
  std::ostringstream table;
  nlohmann::json out = run_validation(load_hardware("configs/h100.yaml"), {{"gemm", rows}}, ValidateOptions{}, table);
  for (size_t i = 1; i < rows.size(); ++i) {
    const std::string how = out["gemm"][i]["sim_mapping"];
    INFO(how);
    CHECK(how.find("tile 128x64") == std::string::npos);
    CHECK(how.find("tile 64x") == std::string::npos);
  }
  CHECK(out["gemm"][0]["sim_mapping"].get<std::string>().find("tile 128x64") != std::string::npos);
}

TEST_CASE("calibration: attention kinds with suffixes are read from the row's heads", "[calibration]") {
  // Other tools write `decode_gqa`, `prefill_causal_mqa`...: the phase comes from the kind, the grouping from Hq/Hkv.
  auto row = [](const std::string& kind, int hkv) {
    return nlohmann::json{{"kind", kind}, {"B", 16}, {"Hq", 32}, {"Hkv", hkv}, {"Skv", 4096}, {"D", 128},
                          {"dtype", "bfloat16"}, {"ms_cold", 0.1}};
  };
  nlohmann::json cases = {{"attention", {row("decode", 32), row("decode_gqa", 8), row("decode-mqa", 1),
                                         row("decode_mqa", 8), row("prefill_sliding", 32)}}};
  std::ostringstream table;
  nlohmann::json out = run_validation(load_hardware("configs/h100.yaml"), cases, ValidateOptions{}, table);
  const auto& a = out["attention"];
  INFO(a.dump(1));
  REQUIRE(a[0].contains("sim_ms"));
  REQUIRE(a[1].contains("sim_ms"));
  REQUIRE(a[2].contains("sim_ms"));
  // Decode streams the KV cache: 4x fewer KV heads read about 4x fewer bytes.
  CHECK(a[1]["sim_ms"].get<double>() < 0.5 * a[0]["sim_ms"].get<double>());
  CHECK(a[2]["sim_ms"].get<double>() < a[1]["sim_ms"].get<double>());
  CHECK(a[3]["sim_error"].get<std::string>().find("multi-query") != std::string::npos);
  CHECK(a[4]["sim_error"].get<std::string>().find("'sliding'") != std::string::npos);
}

TEST_CASE("calibration: each simulated row says how its kernel was lowered and at what clock", "[calibration]") {
  nlohmann::json cases = {{"gemm", {{{"M", 4096}, {"N", 4096}, {"K", 4096}, {"dtype", "bfloat16"}, {"ms_cold", 0.2}},
                                    {{"M", 19}, {"N", 127}, {"K", 14455}, {"dtype", "bfloat16"}, {"ms_cold", 0.02}}}}};
  std::ostringstream table;
  ValidateOptions opt;
  opt.rows = true;
  nlohmann::json out = run_validation(load_hardware("configs/h100.yaml"), cases, opt, table);
  const std::string big = out["gemm"][0]["sim_mapping"], odd = out["gemm"][1]["sim_mapping"];
  CHECK(big.find("tile 128x") != std::string::npos);
  CHECK(big.find(" GHz") != std::string::npos);
  CHECK(odd.find("unaligned") != std::string::npos);
  CHECK(odd.find("split-k") != std::string::npos);
  CHECK(table.str().find("[" + odd + "]") != std::string::npos);
}

TEST_CASE("calibration: the A100, never fitted, misses a published benchmark as the fitted H100 does", "[calibration]") {
  // ml-engineering's best-of-search matmul rates (tests/data/calibration/mamf_*.json): the same harness on both
  // chips. The A100 config carries only its datasheet and the H100's mechanisms; its error against the harness's bf16
  // v2 row must be the H100's within a few points (both slower than a best-of-search shape, which selects for luck).
  auto bf16_v2_error = [](const std::string& chip) {
    std::ifstream in("tests/data/calibration/mamf_" + chip + ".json");
    REQUIRE(in);
    nlohmann::json cases = nlohmann::json::parse(in);
    std::ostringstream table;
    nlohmann::json out = run_validation(load_hardware("configs/" + chip + ".yaml"), cases, ValidateOptions{}, table);
    INFO(table.str());
    for (const auto& row : out["gemm"])
      if (row["dtype"] == "bfloat16" && row.contains("ms_cold"))
        return 100 * (row["sim_ms"].get<double>() / row["ms_cold"].get<double>() - 1);
    FAIL("no bf16 v2 row");
    return 0.0;
  };
  const double a100 = bf16_v2_error("a100"), h100 = bf16_v2_error("h100");
  INFO("A100 " << a100 << " %, H100 " << h100 << " %");
  CHECK(std::abs(a100 - h100) <= 4.0);
  CHECK(a100 > 0);
  CHECK(a100 < 20);
}

// scripts/device/measure_gpu.py is run on a GPU when a session has one: what it plans must be rows `validate` reads and
// simulates (a schema drift would waste the device time), and its GEMMs must be shapes the calibration was not fitted
// to.
TEST_CASE("calibration: the device measurement script plans held-out rows that validate simulates", "[calibration]") {
  test::TempDir dir;
  const std::string plan_path = (dir.path / "plan.json").string();
  test::Run r =
      test::shell("python3 scripts/device/measure_gpu.py --out unused.json --plan > '" + plan_path + "'", dir);
  INFO(r.output);
  REQUIRE(r.status == 0);
  const nlohmann::json plan = nlohmann::json::parse(test::read_file(plan_path));
  for (const char* s : {"gemm", "attention", "elementwise", "models"}) {
    INFO(s);
    REQUIRE(plan.contains(s));
    CHECK(plan[s].size() >= 5);
  }

  std::ifstream in("tests/data/calibration/h100_calibration.json");
  REQUIRE(in);
  const nlohmann::json fitted = nlohmann::json::parse(in);
  std::set<std::string> seen;
  auto key = [](const nlohmann::json& g) {
    return std::to_string(g["M"].get<int64_t>()) + "x" + std::to_string(g["N"].get<int64_t>()) + "x" +
           std::to_string(g["K"].get<int64_t>()) + " " + g["dtype"].get<std::string>();
  };
  for (const auto& g : fitted["gemm"]) seen.insert(key(g));
  for (const auto& g : plan["gemm"]) {
    INFO(key(g));
    CHECK(seen.count(key(g)) == 0);
  }

  std::ostringstream table;
  const nlohmann::json out = run_validation(load_hardware("configs/h200.yaml"), plan, ValidateOptions{}, table);
  size_t rows = 0;
  for (const char* s : {"gemm", "attention", "elementwise", "models"})
    for (const auto& row : out[s]) {
      INFO(s << " " << row.dump());
      CHECK_FALSE(row.contains("sim_error"));
      CHECK((row.contains("sim_ms") || row.contains("sim_gpu_busy_us")));
      ++rows;
    }
  CHECK(rows == plan["gemm"].size() + plan["attention"].size() + plan["elementwise"].size() + plan["models"].size());
}
