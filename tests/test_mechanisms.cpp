// Mechanisms with a physical expectation (issue 17): each checks a trend the hardware shows, on shapes no constant
// was fitted to, rather than a number.
#include "test_support.h"

using namespace xpu::test;

namespace {

// Each op's duration (seconds) when the ops run one after another with the cache flushed before each.
std::vector<double> op_times(const std::string& ops_yaml, const TempDir& dir) {
  std::string w = dir.write("w.yaml", "name: shapes\nops:\n" + ops_yaml);
  nlohmann::json r = run_json("run --hw configs/h100.yaml -w '" + w + "' --cold", dir);
  std::vector<double> t;
  for (const auto& op : r["ops"]) t.push_back(op["duration_s"].get<double>());
  return t;
}

}  // namespace

TEST_CASE("mechanisms: GEMM throughput rises with K to a plateau", "[mechanisms]") {
  // Tiles of one wave walk K in step, so their shared operand panels are fetched once per wave however long K is:
  // long-K GEMMs stay compute-bound (~700 TFLOP/s measured at K >= 28k), they do not fall to the HBM rate.
  TempDir dir;
  const std::vector<int> ks = {512, 2048, 8192, 32768, 65536};
  std::string ops;
  for (int k : ks)
    ops += "  - {name: k" + std::to_string(k) + ", kind: matmul, dtype: bf16, m: 4096, n: 4096, k: " +
           std::to_string(k) + "}\n";
  auto t = op_times(ops, dir);
  REQUIRE(t.size() == ks.size());
  std::vector<double> tflops;
  for (size_t i = 0; i < ks.size(); ++i) tflops.push_back(2.0 * 4096 * 4096 * ks[i] / t[i] / 1e12);
  INFO(tflops[0] << " " << tflops[1] << " " << tflops[2] << " " << tflops[3] << " " << tflops[4]);
  for (size_t i = 1; i < ks.size(); ++i) CHECK(tflops[i] >= 0.98 * tflops[i - 1]);
  CHECK(tflops[3] == Approx(tflops[2]).epsilon(0.05));  // the plateau
  CHECK(tflops[4] == Approx(tflops[2]).epsilon(0.05));
  CHECK(tflops[4] > 650);
  CHECK(tflops[0] < 0.9 * tflops[2]);  // short K: the start-up and the epilogue are not hidden
}

TEST_CASE("mechanisms: fp16 and bf16 GEMMs run at one rate on large shapes", "[mechanisms]") {
  TempDir dir;
  auto t = op_times("  - {name: b, kind: matmul, dtype: bf16, m: 8192, n: 8192, k: 8192}\n"
                    "  - {name: h, kind: matmul, dtype: fp16, m: 8192, n: 8192, k: 8192}\n",
                    dir);
  REQUIRE(t.size() == 2);
  CHECK(t[1] == Approx(t[0]).epsilon(0.01));
}
