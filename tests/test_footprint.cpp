// Device-memory footprint: what stays resident, what lives for a while, and the refusal when it does not fit.
#include <catch2/catch.hpp>

#include "sim/config/hardware.h"
#include "sim/engine/isolated_run.h"
#include "sim/workload/footprint.h"
#include "sim/workload/loader.h"

using namespace xpu;

TEST_CASE("footprint: llama2-7b decode holds its weights and the KV cache", "[footprint]") {
  Footprint f = memory_footprint(load_workload("workloads/llama2-7b.yaml", {}));
  CHECK(f.weights + f.embeddings == Approx(6.74e9 * 2).epsilon(0.01));  // the token embedding is a table  // 6.74B parameters in bf16, the whole embedding table too
  CHECK(f.kv_cache == Approx(32.0 * 2 * 16 * 2048 * 4096 * 2).epsilon(0.01));  // layers x K,V x batch x kv x d x 2 B
  CHECK(f.optimizer == 0);
}

TEST_CASE("footprint: training holds optimizer state, recomputation shrinks peak activations", "[footprint]") {
  std::vector<std::string> base = {"mode=train", "batch=2", "seq=2048", "layers=6"};
  Footprint plain = memory_footprint(load_workload("workloads/llama2-7b.yaml", base));
  base.push_back("recompute=true");
  Footprint re = memory_footprint(load_workload("workloads/llama2-7b.yaml", base));
  // fp32 master weights and two fp32 moments: 12 bytes per parameter, the embedding table's too (a dense gradient);
  // the weight gradients are the parameters' size in bf16.
  CHECK(plain.optimizer == Approx((plain.weights + plain.embeddings) / 2 * 12).epsilon(0.01));
  CHECK(plain.gradients == Approx(plain.weights + plain.embeddings).epsilon(0.01));
  CHECK(re.activations < 0.4 * plain.activations);
}

TEST_CASE("footprint: a workload larger than the memory is refused with the breakdown", "[footprint]") {
  HardwareConfig h100 = load_hardware("configs/h100.yaml");
  Workload mixtral = load_workload("workloads/mixtral-8x7b.yaml", {});
  try {
    simulate_in_child(h100, mixtral);
    FAIL("mixtral-8x7b should not fit one 80 GB H100");
  } catch (const InputError& e) {
    std::string msg = e.what();
    CHECK(msg.find("short by") != std::string::npos);
    CHECK(msg.find("weights 93.") != std::string::npos);
  }
  RunOptions anyway;
  anyway.check_memory = false;
  CHECK(simulate_in_child(h100, load_workload("workloads/mixtral-8x7b.yaml", {"layers=2"}), anyway)["total_time_s"]
            .get<double>() > 0);
}
