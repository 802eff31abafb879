// End-to-end runs of every shipped workload on the shipped configs, with physical sanity checks on the results.
#include <catch2/catch.hpp>

#include "sim/config/hardware.h"
#include "sim/engine/isolated_run.h"
#include "sim/workload/loader.h"
#include "test_support.h"

using namespace xpu;

namespace {
nlohmann::json run(const std::string& hw, const std::string& wl, const std::vector<std::string>& sets = {}) {
  return simulate_in_child(load_hardware(hw), load_workload(wl, sets));
}
double seconds(const nlohmann::json& r) { return r.at("total_time_s").get<double>(); }
}  // namespace

TEST_CASE("e2e: llama2-7b decode on h100 is memory-bound at near the HBM bandwidth", "[e2e]") {
  auto r = run("configs/h100.yaml", "workloads/llama2-7b.yaml");
  // Weights (6.7e9 params x 2 B) plus the KV cache (32 layers x 2 x 16 x 2048 x 4096 x 2 B) must stream once.
  double bytes = 6.74e9 * 2 + 32.0 * 2 * 16 * 2048 * 4096 * 2;
  double t = seconds(r);
  CHECK(t > bytes / 3.35e12);          // cannot beat the datasheet bandwidth
  // Weights stream as GEMM tiles at ~2.35 TB/s (the calibrated skinny-GEMM rate), the KV cache near 3 TB/s.
  CHECK(t < 1.6 * bytes / 3.35e12);
  CHECK(r["ops"].size() > 32 * 10);
  CHECK(r["energy_j"].get<double>() > 0);
  CHECK(r["energy"]["data_movement_j"].get<double>() > r["energy"]["compute_j"].get<double>());
  CHECK(r["area_mm2"].get<double>() > 700);
  size_t memory_bound = 0;
  for (const auto& op : r["ops"]) memory_bound += op["bound"] == "memory";
  CHECK(memory_bound > r["ops"].size() / 3);
}

TEST_CASE("e2e: llama2-7b prefill on h100 is compute-bound", "[e2e]") {
  auto r = run("configs/h100.yaml", "workloads/llama2-7b.yaml", {"mode=prefill", "batch=1", "seq=2048"});
  double flops = r["flops"].get<double>();
  CHECK(flops > 2 * 6.5e9 * 2048);
  double rate = flops / seconds(r);
  CHECK(rate > 400e12);
  CHECK(rate < 989e12);
}

TEST_CASE("e2e: h200 decodes faster than h100, a100 slower", "[e2e]") {
  // Device time: an eager decode step of batch 16 is close to host-bound, and the host is the same on all three.
  std::vector<std::string> set = {"layers=4"};
  auto device_s = [](const nlohmann::json& r) { return r["gpu_busy_s"].get<double>(); };
  double h100 = device_s(run("configs/h100.yaml", "workloads/llama2-7b.yaml", set));
  double h200 = device_s(run("configs/h200.yaml", "workloads/llama2-7b.yaml", set));
  double a100 = device_s(run("configs/a100.yaml", "workloads/llama2-7b.yaml", set));
  CHECK(h200 < 0.85 * h100);
  CHECK(a100 > 1.3 * h100);
}

TEST_CASE("e2e: llama2-70b prefill (4 layers) runs with grouped-query attention", "[e2e]") {
  auto r = run("configs/h100.yaml", "workloads/llama2-70b.yaml", {"mode=prefill", "batch=1", "seq=4096", "layers=4"});
  CHECK(seconds(r) > 0);
  bool saw_attention = false;
  for (const auto& op : r["ops"]) saw_attention |= op["kind"] == "attention";
  CHECK(saw_attention);
}

TEST_CASE("e2e: gpt2-small prefill runs", "[e2e]") {
  auto r = run("configs/h100.yaml", "workloads/gpt2-small.yaml", {"mode=prefill", "batch=8", "seq=1024"});
  CHECK(seconds(r) > 1e-4);
  CHECK(seconds(r) < 0.1);
}

TEST_CASE("e2e: dlrmv2 forward runs with embedding bags and MLPs", "[e2e]") {
  auto r = run("configs/h100.yaml", "workloads/dlrmv2.yaml");
  size_t bags = 0, mm = 0;
  for (const auto& op : r["ops"]) {
    bags += op["kind"] == "embedding_bag";
    mm += op["kind"] == "matmul";
  }
  CHECK(bags == 26);
  CHECK(mm >= 8);
  CHECK(seconds(r) > 0);
}

TEST_CASE("e2e: the explicit example workload runs", "[e2e]") {
  auto r = run("configs/h100.yaml", "workloads/examples/tiny-explicit.yaml");
  CHECK(r["ops"].size() >= 3);
}

TEST_CASE("e2e: cold caches make a run slower or equal, never faster", "[e2e]") {
  HardwareConfig hw = load_hardware("configs/h100.yaml");
  Workload wl = load_workload("workloads/gpt2-small.yaml", {"mode=prefill", "batch=1", "seq=512"});
  RunOptions cold;
  cold.cold = true;
  double warm_t = seconds(simulate_in_child(hw, wl));
  double cold_t = seconds(simulate_in_child(hw, wl, cold));
  CHECK(cold_t >= warm_t);
}

TEST_CASE("e2e: llama3-405b decodes in fp8 on one DGX H100 with TP 8, in bf16 it does not fit one H100", "[e2e]") {
  test::TempDir dir;
  test::Run r = test::xpusim("run --hw configs/dgx-h100.yaml -w workloads/llama3-405b.yaml --set dtype=fp8,tp=8,kv=4096 -q",
                             dir);
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output.find("layers=126 tp=8") != std::string::npos);
  // The footprint names the 810 GB of bf16 weights.
  test::Run big = test::xpusim("run --hw configs/h100.yaml -w workloads/llama3-405b.yaml -q", dir);
  CHECK(big.status == 2);
  CHECK(big.output.find("weights 807.") != std::string::npos);
}
