// Limits: long runs keep their sums exact, huge shapes and big systems get a clear error or a correct result,
// never an overflow, a hang or a crash.
#include <nlohmann/json.hpp>

#include "test_support.h"

using namespace xpu::test;
using Catch::Detail::Approx;

namespace {

// One unit, no overheads, no latencies, unlimited bandwidth: a matmul takes exactly its FLOPs over the rate.
const char* kIdealMachine = R"(name: one-unit ideal machine
components:
  host: {type: host, launch_overhead: 0 s, launch_latency: 0 s, kernel_gap: 0 s}
  core:
    type: compute_core
    units: 1
    clock: 1 GHz
    matrix_flops_per_clk: {bf16: 1024000}
    vector_flops_per_clk: {fp32: 1024}
    matrix_efficiency: 1
    gemm_schedule: data_parallel
    kernel_overhead: 0 s
    max_tiles_per_unit: 1
    local_memory: 228 KiB
    load_bytes_per_clk: 1e9
    tile_overhead: 0 s
    mac_energy: {bf16: 0.5 pJ/MAC}
  mem: {type: hbm, capacity: 1000 TB, bandwidth: 1000000 TB/s, latency: 0 s, energy_per_bit: 0 pJ/bit,
        stream_efficiency: 1}
connections:
  - {from: host, to: core}
  - {from: core, to: mem}
)";

}  // namespace

TEST_CASE("limits: a 10^7-event run matches its closed form in time, energy and counts", "[limits]") {
  TempDir dir;
  const std::string hw = dir.write("ideal.yaml", kIdealMachine);
  // 2,500 x 4,000 output tiles of 128 x 256, K = 64: ten million tile events.
  const std::string wl = dir.write("mm.yaml", "name: ten-million-tiles\nops:\n"
                                              "  - {name: mm, kind: matmul, m: 320000, n: 1024000, k: 64, dtype: bf16, "
                                              "inputs: [a, b]}\n");
  const std::string json = (dir.path / "r.json").string();
  Run r = xpusim("run --hw '" + hw + "' -w '" + wl + "' -q --top 0 --no-memory-check --json '" + json + "'", dir);
  INFO(r.output);
  REQUIRE(r.status == 0);
  auto j = nlohmann::json::parse(read_file(json));
  CHECK(j["simulation"]["events"].get<double>() >= 1e7);
  const double macs = 320000.0 * 1024000.0 * 64.0;
  // Each tile takes 4.194304 MFLOP / 1.024e15 FLOP/s = 4,096 ps exactly: the sum of 10^7 of them is exact.
  CHECK(j["total_time_s"].get<double>() == Approx(2 * macs / 1.024e15).epsilon(1e-12));
  const auto& core = j["components"]["core"];
  CHECK(core["energy_dynamic_j"].get<double>() == Approx(macs * 0.5e-12).epsilon(1e-12));
  CHECK(core["stats"]["matrix_flops"].get<double>() == Approx(2 * macs).epsilon(1e-15));
  CHECK(core["stats"]["tiles"].get<double>() == 1e7);
}

TEST_CASE("limits: shapes past 2^40 bytes are refused clearly, with and without the memory check", "[limits]") {
  TempDir dir;
  for (const char* dim : {"4194304", "1099511627776"}) {
    const std::string wl = dir.write("huge.yaml", std::string("name: huge\nops:\n  - {name: mm, kind: matmul, m: ") + dim +
                                                      ", n: " + dim + ", k: " + dim + ", dtype: bf16, inputs: [x, w]}\n");
    Run checked = xpusim("run --hw configs/h100.yaml -w '" + wl + "' -q", dir);
    INFO(checked.output);
    CHECK(checked.status == 2);
    CHECK(checked.output.find("device memory") != std::string::npos);
    Run unchecked = xpusim("run --hw configs/h100.yaml -w '" + wl + "' -q --no-memory-check", dir);
    INFO(unchecked.output);
    CHECK(unchecked.status == 2);
    CHECK(unchecked.output.find("huge.yaml:3:") != std::string::npos);
    CHECK(unchecked.output.find("1e8") != std::string::npos);
  }
  // Past what an int64 shape field takes: the loader says so.
  const std::string wl = dir.write("over.yaml", "name: over\nops:\n  - {name: mm, kind: matmul, m: 4611686018427387904, "
                                                "n: 8, k: 8, inputs: [x, w]}\n");
  Run over = xpusim("run --hw configs/h100.yaml -w '" + wl + "' -q", dir);
  CHECK(over.status == 2);
  CHECK(over.output.find("at most") != std::string::npos);
}

TEST_CASE("limits: a zero-capacity cache runs and reads everything from HBM, zero bandwidth is refused", "[limits]") {
  TempDir dir;
  const std::string json = (dir.path / "r.json").string();
  Run r = xpusim("run --hw configs/h100.yaml -w workloads/llama2-7b.yaml --set layers=2 -p l2.capacity=0B -q --top 0 "
                 "--json '" + json + "'",
                 dir);
  INFO(r.output);
  REQUIRE(r.status == 0);
  auto j = nlohmann::json::parse(read_file(json));
  CHECK(j["total_time_s"].get<double>() > 0);
  const std::string base = (dir.path / "b.json").string();
  REQUIRE(xpusim("run --hw configs/h100.yaml -w workloads/llama2-7b.yaml --set layers=2 -q --top 0 --json '" + base + "'",
                 dir).status == 0);
  auto b = nlohmann::json::parse(read_file(base));
  // Nothing stays on chip between ops: at least as many bytes come from HBM as with the 50 MiB L2.
  CHECK(j["hbm_bytes"].get<double>() >= b["hbm_bytes"].get<double>());
  Run zero = xpusim("run --hw configs/h100.yaml -w workloads/llama2-7b.yaml -p hbm.bandwidth=0TB/s -q", dir);
  CHECK(zero.status == 2);
  CHECK(zero.output.find("bandwidth must be > 0") != std::string::npos);
}

TEST_CASE("limits: a 10,000-device torus elaborates and runs a collective with bounded memory", "[limits]") {
  TempDir dir;
  const std::string hw = dir.write(
      "t10k.yaml", "extends: " + (fs::current_path() / "configs/tpu-torus-256.yaml").string() +
                       "\nnetwork:\n  devices: 10000\n  tiers:\n"
                       "    - {name: ici, topology: torus, group: 10000, link: ici, dims: [10, 10, 100]}\n");
  const std::string json = (dir.path / "c.json").string();
  // Groups of 10 along the first dimension: 1,000 rings at once, one Dijkstra table per destination.
  Run r = xpusim("collective --hw '" + hw + "' --op all_reduce --sizes 256KiB:256KiB -g 10 --json '" + json + "'", dir);
  INFO(r.output);
  REQUIRE(r.status == 0);
  auto rows = nlohmann::json::parse(read_file(json))["rows"];
  REQUIRE(rows.size() >= 1);
  // A ring of 10 over 25 GB/s-class ICI links: 2 x 9/10 x 256 KiB in tens of microseconds, not zero, not seconds.
  const double t = rows.back()["time_s"].get<double>();
  CHECK(t > 5e-6);
  CHECK(t < 5e-3);
  // Routing tables are cached up to a fixed budget (~1 GiB); measured: 0.8 GiB.
  if (!kSanitized) CHECK(peak_child_rss_mib() < 1500);
}

TEST_CASE("limits: a million-op workload runs in bounded memory and writes its results op by op", "[limits]") {
  TempDir dir;
  // 15 ops per layer: 70,000 layers and the head give 1,050,003 ops (105,003 in the sanitized build).
  const int layers = kSanitized ? 7000 : 70000;
  const size_t ops = size_t(layers) * 15 + 3;
  const std::string wl = dir.write("million.yaml", "name: million\ngenerator: transformer\n"
                                                   "params: {d_model: 64, heads: 2, ffn: 128, layers: " +
                                                       std::to_string(layers) + ", vocab: 256}\n"
                                                       "defaults: {mode: decode, batch: 1, kv: 16}\n");
  const std::string json = (dir.path / "r.json").string();
  const std::string trace = (dir.path / "r.trace.json").string();
  Run r = xpusim("run --hw configs/h100.yaml -w '" + wl + "' -q --top 0 --json '" + json + "' --trace '" + trace + "'",
                 dir);
  INFO(r.output.substr(0, 2000));
  REQUIRE(r.status == 0);
  CHECK(r.output.find("Critical path     " + std::to_string(ops) + " of " + std::to_string(ops) + " ops") !=
        std::string::npos);
  // Every op is in the file (one "index" member per op at the ops' depth), and the document is complete.
  std::ifstream in(json);
  size_t listed = 0;
  std::string line, last;
  while (std::getline(in, line)) {
    if (line.rfind("      \"index\": ", 0) == 0) ++listed;
    last = line;
  }
  CHECK(listed == ops);
  CHECK(last == "}");
  CHECK(fs::file_size(trace) > ops * 100);
  // Measured: 1.4 GiB, linear in the ops (their IR, their records); the JSON and the trace add nothing, as they
  // are written op by op.
  if (!kSanitized) CHECK(peak_child_rss_mib() < 2500);
}

TEST_CASE("limits: a trace with 100,000 independent ops, all ready at once, replays in a stream", "[limits][trace]") {
  TempDir dir;
  // An execution trace of independent 64x64 matmuls: every op is ready from the start, which once made each
  // dispatch rescan the whole ready queue (quadratic in the ops).
  const int n = kSanitized ? 20000 : 100000;
  std::string et = "{\"schema\": \"1.0.1\", \"nodes\": [\n"
                   "{\"id\": 0, \"name\": \"[pytorch|profiler|execution_trace|thread]\", \"ctrl_deps\": 0}";
  for (int i = 1; i <= n; ++i) {
    const std::string a = std::to_string(3 * i), b = std::to_string(3 * i + 1), c = std::to_string(3 * i + 2);
    et += ",\n{\"id\": " + std::to_string(i) + ", \"name\": \"aten::mm\", \"ctrl_deps\": 0, \"inputs\": {\"values\": [[" + a +
          ", " + a + ", 0, 4096, 2, \"cuda:0\"], [" + b + ", " + b + ", 0, 4096, 2, \"cuda:0\"]], \"shapes\": [[64, 64], [64, 64]], "
          "\"types\": [\"Tensor(c10::BFloat16)\", \"Tensor(c10::BFloat16)\"]}, \"outputs\": {\"values\": [[" + c + ", " + c +
          ", 0, 4096, 2, \"cuda:0\"]], \"shapes\": [[64, 64]], \"types\": [\"Tensor(c10::BFloat16)\"]}}";
  }
  et += "]}\n";
  const std::string path = dir.write("wide.json", et);
  const std::string json = (dir.path / "r.json").string();
  Run r = xpusim("replay --hw configs/h100.yaml --trace '" + path + "' -q --json '" + json + "'", dir);
  INFO(r.output.substr(0, 2000));
  REQUIRE(r.status == 0);
  CHECK(r.output.find("trace: pytorch-et, " + std::to_string(n) + " modelled ops") != std::string::npos);
  // One compute stream: the ops run back to back, none lost.
  CHECK(r.output.find("Critical path     " + std::to_string(n) + " of " + std::to_string(n) + " ops") !=
        std::string::npos);
  // The nodes are reduced as they are parsed: measured 170 MiB for 100,000 ops, most of it the simulation's.
  if (!kSanitized) CHECK(peak_child_rss_mib() < 400);
}

TEST_CASE("limits: simulated time that would pass the 64-bit picosecond clock stops the run, naming op and resource",
          "[limits]") {
  // Each op fits (a 1 KB/s HBM is inside the physical range), but the step would take ~500 years: the saturating
  // time arithmetic records where it overflowed instead of wrapping around to a small, wrong total.
  TempDir dir;
  Run r = xpusim("run --hw configs/h100.yaml -w workloads/llama2-70b.yaml --no-memory-check -q -p 'hbm.bandwidth=1 KB/s'",
                 dir);
  INFO(r.output);
  CHECK(r.status == 2);
  CHECK(r.output.find("simulated time overflows at op '") != std::string::npos);
  CHECK(r.output.find("the HBM channels") != std::string::npos);
  CHECK(r.output.find("Total time") == std::string::npos);
}
