// Mechanisms with a physical expectation (issue 17): each checks a trend the hardware shows, on shapes no constant
// was fitted to, rather than a number.
#include <cmath>
#include <random>

#include "test_support.h"

using namespace xpu::test;

namespace {

// Each op's duration (seconds) when the ops run one after another with the cache flushed before each; `flags` go to
// `run` as well (hardware overrides).
std::vector<double> op_times(const std::string& ops_yaml, const TempDir& dir, const std::string& flags = "") {
  std::string w = dir.write("w.yaml", "name: shapes\nops:\n" + ops_yaml);
  nlohmann::json r = run_json("run --hw configs/h100.yaml -w '" + w + "' --cold " + flags, dir);
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

TEST_CASE("mechanisms: an eager decode step at batch 1 is host-bound, a large prefill is not", "[mechanisms]") {
  // Each eager op costs the CPU tens of microseconds (dispatcher, launch; the Kineto traces' CPU side): at batch 1 a
  // decode layer's kernels finish before the host has launched the next ones.
  TempDir dir;
  auto decode = run_json("run --hw configs/h100.yaml -w workloads/llama2-7b.yaml --set mode=decode,batch=1,kv=512,"
                         "layers=4",
                         dir);
  CHECK(decode["total_time_s"].get<double>() > 1.3 * decode["gpu_busy_s"].get<double>());
  auto prefill = run_json("run --hw configs/h100.yaml -w workloads/llama2-7b.yaml --set mode=prefill,batch=1,"
                          "seq=2048,layers=4",
                          dir);
  CHECK(prefill["total_time_s"].get<double>() < 1.1 * prefill["gpu_busy_s"].get<double>());
  // Without the host's cost the same decode is bound by the device again.
  auto free_host = run_json("run --hw configs/h100.yaml -w workloads/llama2-7b.yaml --set mode=decode,batch=1,kv=512,"
                            "layers=4 -p host.launch_overhead=0us -p 'host.op_overhead={}'",
                            dir);
  CHECK(free_host["total_time_s"].get<double>() < 1.15 * free_host["gpu_busy_s"].get<double>());
}

TEST_CASE("mechanisms: a DLRM training step is more than twice its forward pass", "[mechanisms]") {
  TempDir dir;
  auto fwd = run_json("run --hw configs/h100.yaml -w workloads/dlrmv2.yaml --set row_cap=2000000", dir);
  auto train = run_json("run --hw configs/h100.yaml -w workloads/dlrmv2.yaml --set row_cap=2000000,mode=train", dir);
  // The backward runs two GEMMs per forward GEMM; embedding gradients are sparse (the looked-up rows only).
  CHECK(train["gpu_busy_s"].get<double>() > 2 * fwd["gpu_busy_s"].get<double>());
  CHECK(train["total_time_s"].get<double>() > 2 * fwd["total_time_s"].get<double>());
  size_t sparse = 0;
  for (const auto& op : train["ops"])
    if (op["kind"] == "elementwise" && op["name"].get<std::string>().find("emb") != std::string::npos &&
        op["bytes"].get<double>() < 1e9)
      ++sparse;
  CHECK(sparse >= 26);
}

TEST_CASE("mechanisms: the clock falls under a lower power cap, and only for kernels that draw the power", "[mechanisms]") {
  // The governor holds the board at `tdp`: a dense GEMM's tensor-core power scales as clock^3, so a lower cap gives a
  // lower clock and a longer GEMM; a bandwidth-bound copy draws far less than either cap and keeps the full clock.
  TempDir dir;
  std::string w = dir.write("w.yaml", "name: shapes\nops:\n"
                                      "  - {name: gemm, kind: matmul, dtype: bf16, m: 8192, n: 8192, k: 8192}\n"
                                      "  - {name: copy, kind: elementwise, variant: copy, elements: 268435456}\n");
  auto at = [&](const std::string& tdp) {
    return run_json("run --hw configs/h100.yaml -w '" + w + "' --cold -p gpu.tdp='" + tdp + "'", dir);
  };
  auto full = at("700 W"), capped = at("450 W"), uncapped = at("0 W");
  const double max_hz = full["clock_hz"]["max"].get<double>();
  auto gemm = [](const nlohmann::json& r) { return r["ops"][0]; };
  auto copy = [](const nlohmann::json& r) { return r["ops"][1]; };
  INFO(gemm(uncapped)["clock_hz"] << " " << gemm(full)["clock_hz"] << " " << gemm(capped)["clock_hz"]);
  CHECK(gemm(uncapped)["clock_hz"].get<double>() == Approx(max_hz));
  CHECK(gemm(full)["clock_hz"].get<double>() < 0.95 * max_hz);   // H100 settles near 1.75-1.8 GHz of 1.98
  CHECK(gemm(full)["clock_hz"].get<double>() > 0.8 * max_hz);
  CHECK(gemm(capped)["clock_hz"].get<double>() < 0.92 * gemm(full)["clock_hz"].get<double>());
  CHECK(gemm(capped)["duration_s"].get<double>() > 1.08 * gemm(full)["duration_s"].get<double>());
  CHECK(copy(capped)["clock_hz"].get<double>() == Approx(max_hz));
  // The board stays near its cap while the GEMM runs (the copy lowers the run's average further).
  const double gemm_w = (gemm(capped)["energy_j"].get<double>()) / gemm(capped)["duration_s"].get<double>();
  CHECK(gemm_w < 450);
  CHECK(capped["clock_hz"]["sustained"].get<double>() < full["clock_hz"]["sustained"].get<double>());
}

TEST_CASE("mechanisms: data-parallel GEMMs step with whole waves of tiles", "[mechanisms]") {
  // Vidur's H100 rows (N = K = 4096) take 29, 48 and 66 us at M = 512, 1008 and 1088: 128, 256 and 288 tiles of
  // 128 x 128 on 132 SMs, so one, two and three waves. The third wave holds 24 tiles, and the planner must see that
  // they each load faster than a full wave's (less competition for the L2), not double the tile to stay in two waves.
  TempDir dir;
  std::string ops;
  for (int m : {512, 1008, 1088})
    ops += "  - {name: m" + std::to_string(m) + ", kind: matmul, dtype: fp16, m: " + std::to_string(m) +
           ", n: 4096, k: 4096}\n";
  std::string w = dir.write("w.yaml", "name: waves\nops:\n" + ops);
  nlohmann::json r = run_json("run --hw configs/h100.yaml -w '" + w + "' -p gpu.gemm_schedule=data_parallel", dir);
  std::vector<double> t;
  for (const auto& op : r["ops"]) t.push_back(op["duration_s"].get<double>());
  REQUIRE(t.size() == 3);
  INFO(t[0] * 1e6 << " " << t[1] * 1e6 << " " << t[2] * 1e6);
  CHECK(t[1] > 1.5 * t[0]);  // a second whole wave
  CHECK(t[2] > 1.2 * t[1]);  // a ragged third wave still costs a tile time
  CHECK(t[2] < 1.7 * t[1]);  // ... of 128 x 128 tiles, not a second wave of 128 x 256 (2x)
}

TEST_CASE("mechanisms: cold GEMV bandwidth rises with the matrix to the stream rate", "[mechanisms]") {
  // A benchmark's flush leaves the L2 dirty, and the first fills write it back: a fixed cost of tens of MB that a
  // 34 MB weight matrix feels (measured 1.6 TB/s cold) and a 470 MB one does not (near the 3.0 TB/s stream rate).
  // One rate for tiles and streams; no "tile efficiency".
  TempDir dir;
  auto t = op_times("  - {name: small, kind: matmul, dtype: bf16, m: 1, n: 4096, k: 4096}\n"
                    "  - {name: mid, kind: matmul, dtype: bf16, m: 1, n: 12288, k: 4096}\n"
                    "  - {name: big, kind: matmul, dtype: bf16, m: 1, n: 28672, k: 8192}\n",
                    dir);
  REQUIRE(t.size() == 3);
  const double small = 4096.0 * 4096 * 2 / t[0], mid = 12288.0 * 4096 * 2 / t[1], big = 28672.0 * 8192 * 2 / t[2];
  INFO(small / 1e12 << " " << mid / 1e12 << " " << big / 1e12 << " TB/s");
  CHECK(small < 1.9e12);
  CHECK(mid > small);
  CHECK(big > mid);
  CHECK(big > 2.7e12);
  CHECK(big < 3.1e12);
}

TEST_CASE("mechanisms: shared memory feeds 128 x 256 tiles at the matrix rate and starves small ones", "[mechanisms]") {
  // Hopper's tensor cores read operands from shared memory (128 B/clk per SM): each 64-row warpgroup reads the whole
  // B slice per K step while the bulk copies write both panels in. 128 x 256 tiles need exactly that bandwidth at the
  // matrix rate; 64 x 64 tiles need twice it. Halving the feed must slow the large tiles too.
  TempDir dir;
  const std::string ops = "  - {name: big, kind: matmul, dtype: bf16, m: 8192, n: 8192, k: 8192}\n"
                          "  - {name: small, kind: matmul, dtype: bf16, m: 2048, n: 192, k: 1024}\n";
  auto times = [&](const std::string& feed) { return op_times(ops, dir, "-p gpu.operand_feed_bytes_per_clk=" + feed); };
  auto fed = times("128"), unlimited = times("0"), halved = times("64");
  REQUIRE(fed.size() == 2);
  INFO("big " << fed[0] * 1e6 << " / " << unlimited[0] * 1e6 << " / " << halved[0] * 1e6 << " us; small " << fed[1] * 1e6
              << " / " << unlimited[1] * 1e6 << " us");
  CHECK(fed[0] == Approx(unlimited[0]).epsilon(0.005));
  CHECK(halved[0] > 1.25 * fed[0]);
  CHECK(fed[1] > 1.02 * unlimited[1]);
}

TEST_CASE("mechanisms: no GEMM beats the tensor peak or the HBM, and a larger M is never faster", "[mechanisms]") {
  // The planner ranks tiles with rough times and the modules then time the chosen plan: if the two disagreed, or a
  // reuse or multicast account gave bytes away, some shape would run faster than physics allows or faster than a
  // smaller problem of the same N and K. Seeded random shapes (aligned and odd, bf16, fp16, fp8) under both library
  // schedules, cold (every operand from HBM at least once), and sweeps of M over the LLM layers' N and K.
  std::mt19937 rng(20261204);
  auto log_uniform = [&](int lo_bits, int hi_bits) {
    return int(std::lround(std::exp2(std::uniform_real_distribution<double>(lo_bits, hi_bits)(rng))));
  };
  struct Shape {
    long m, n, k;
    std::string dtype;
  };
  constexpr size_t kRandomShapes = 120;  // the sweeps follow them in `shapes`
  std::vector<Shape> shapes;
  const char* dtypes[] = {"bf16", "fp16", "fp8"};
  while (shapes.size() < kRandomShapes) {
    Shape s{log_uniform(3, 14), log_uniform(3, 14), log_uniform(3, 14), dtypes[shapes.size() % 3]};
    if (s.dtype == "fp8" || shapes.size() % 2 == 0)
      for (long* d : {&s.m, &s.n, &s.k}) *d = std::max(16L, *d / 16 * 16);
    if (double(s.m) * s.n * s.k > 6.9e10) continue;
    shapes.push_back(s);
  }
  const std::vector<std::pair<long, long>> layers = {{4096, 4096}, {11008, 4096}, {4096, 14336}, {2560, 10240}};
  std::vector<long> ms;
  for (long m = 16; m <= 4096; m = m < 256 ? m + 16 : m + 128) ms.push_back(m);
  for (const auto& [n, k] : layers)
    for (long m : ms) shapes.push_back({m, n, k, "bf16"});
  std::string ops;
  for (size_t i = 0; i < shapes.size(); ++i)
    ops += "  - {name: g" + std::to_string(i) + ", kind: matmul, dtype: " + shapes[i].dtype +
           ", m: " + std::to_string(shapes[i].m) + ", n: " + std::to_string(shapes[i].n) +
           ", k: " + std::to_string(shapes[i].k) + "}\n";
  for (const std::string schedule : {"auto", "data_parallel"}) {
    TempDir dir;
    auto t = op_times(ops, dir, "-p gpu.gemm_schedule=" + schedule);
    REQUIRE(t.size() == shapes.size());
    // configs/h100.yaml: 132 SMs x 4096 (fp8 8192) FLOP/clk at the 1.98 GHz maximum clock; 3.35 TB/s of HBM.
    for (size_t i = 0; i < shapes.size(); ++i) {
      const Shape& s = shapes[i];
      const double bytes = s.dtype == "fp8" ? 1 : 2;
      const double peak = 132.0 * (s.dtype == "fp8" ? 8192 : 4096) * 1.98e9;
      INFO(schedule << " " << s.m << " x " << s.n << " x " << s.k << " " << s.dtype << ": " << t[i] * 1e6 << " us");
      CHECK(t[i] >= 2.0 * s.m * s.n * s.k / peak);
      CHECK(t[i] >= (double(s.m) * s.k + double(s.k) * s.n) * bytes / 3.35e12);
    }
    // Over a sweep of M, no shape runs more than 5 % faster than any smaller one (waves make the time step, never
    // fall).
    for (size_t l = 0; l < layers.size(); ++l) {
      const size_t first = kRandomShapes + l * ms.size();
      double slowest = 0;
      for (size_t j = 0; j < ms.size(); ++j) {
        INFO(schedule << " N = " << layers[l].first << ", K = " << layers[l].second << ", M = " << ms[j] << ": "
                      << t[first + j] * 1e6 << " us after " << slowest * 1e6 << " us");
        CHECK(t[first + j] >= 0.95 * slowest);
        slowest = std::max(slowest, t[first + j]);
      }
    }
  }
}
