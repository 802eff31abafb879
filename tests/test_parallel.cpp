// Parallelism in the generators (tensor, data, expert, pipeline) and their collectives on a multi-device config.
#include <catch2/catch.hpp>

#include "sim/config/hardware.h"
#include "sim/engine/isolated_run.h"
#include "sim/workload/loader.h"

using namespace xpu;

namespace {
std::vector<const Op*> collectives(const Workload& w, const std::string& variant) {
  std::vector<const Op*> out;
  for (const auto& op : w.ops)
    if (op.kind == OpKind::collective && op.variant == variant) out.push_back(&op);
  return out;
}
}  // namespace

TEST_CASE("parallel: tensor parallelism splits heads and FFN and all-reduces twice per block", "[parallel]") {
  Workload w = load_workload("workloads/llama2-7b.yaml", {"mode=prefill", "batch=1", "seq=1024", "layers=2", "tp=4"});
  for (const auto& op : w.ops) {
    if (op.name == "L0.q_proj") CHECK(std::get<MatmulShape>(op.shape).n == 4096 / 4);
    if (op.name == "L0.down_proj") CHECK(std::get<MatmulShape>(op.shape).k == 11008 / 4);
    if (op.name == "L0.attn") CHECK(std::get<AttentionShape>(op.shape).heads_q == 8);
  }
  auto ar = collectives(w, "tensor_parallel");
  REQUIRE(ar.size() == 2 * 2);
  CHECK(std::get<CollectiveShape>(ar[0]->shape).bytes == 1024 * 4096 * 2);
  CHECK(std::get<CollectiveShape>(ar[0]->shape).group == 4);
  // Training adds one all-reduce per shared input of column-parallel matmuls (Megatron's f): two per block.
  Workload t = load_workload("workloads/llama2-7b.yaml", {"mode=train", "batch=1", "seq=1024", "layers=2", "tp=4"});
  CHECK(collectives(t, "tensor_parallel").size() == 2 * 2 + 2 * 2);
  REQUIRE_THROWS_AS(load_workload("workloads/llama2-7b.yaml", {"tp=3"}), InputError);
}

TEST_CASE("parallel: data parallelism all-reduces each layer's gradients before its update", "[parallel]") {
  Workload w = load_workload("workloads/llama2-7b.yaml", {"mode=train", "batch=1", "seq=512", "layers=2", "dp=8",
                                                         "embed=false", "lm_head=false"});
  auto ar = collectives(w, "data_parallel");
  REQUIRE(ar.size() == 2);
  // One block's weights in bf16.
  CHECK(double(std::get<CollectiveShape>(ar[0]->shape).bytes) ==
        Approx((4.0 * 4096 * 4096 + 3.0 * 4096 * 11008 + 2 * 4096) * 2));
  std::vector<size_t> order = topological_order(w);
  std::vector<size_t> pos(w.ops.size());
  for (size_t i = 0; i < order.size(); ++i) pos[order[i]] = i;
  for (size_t i = 0; i < w.ops.size(); ++i)
    if (w.ops[i].variant == "adamw") {
      bool after_reduce = false;
      for (size_t d : w.ops[i].deps) after_reduce |= w.ops[d].variant == "data_parallel";
      CHECK(after_reduce);
    }
}

TEST_CASE("parallel: expert parallelism keeps experts/ep experts and exchanges tokens by all-to-all", "[parallel]") {
  Workload w = load_workload("workloads/mixtral-8x7b.yaml", {"mode=prefill", "batch=1", "seq=2048", "layers=1",
                                                            "ep=4"});
  auto a2a = collectives(w, "expert_parallel");
  CHECK(a2a.size() == 2);  // dispatch and combine
  size_t experts = 0;
  for (const auto& op : w.ops) experts += op.name.find(".gate_proj") != std::string::npos;
  CHECK(experts == 8 / 4);
}

TEST_CASE("parallel: a pipeline stage runs its micro-batches, then a 1F1B bubble of (p-1)/m", "[parallel]") {
  Workload w = load_workload("workloads/llama2-7b.yaml", {"mode=train", "batch=8", "seq=512", "layers=8", "pp=4",
                                                         "microbatches=4", "dp=2"});
  size_t sends = 0, bubbles = 0, adamw = 0, q_proj = 0;
  for (const auto& op : w.ops) {
    if (op.kind == OpKind::collective && op.variant == "pipeline") ++sends;
    bubbles += op.variant == "pipeline_bubble";
    adamw += op.variant == "adamw";
    if (op.name.rfind("L", 0) == 0 && op.name.find(".q_proj.mb") != std::string::npos &&
        op.name.find("bwd") == std::string::npos)
      ++q_proj;
  }
  CHECK(q_proj == 2 * 4);       // 8 layers over 4 stages, 4 micro-batches
  CHECK(sends == 4 * 4);        // per micro-batch: activation in and out, gradient out and in
  CHECK(bubbles == 1);
  CHECK(adamw == 2);            // one update per layer of the stage, after all micro-batches
  // Layers that do not divide: the middle stage carries ceil(layers / pp) (3 of 8 on 3 stages, 2 and 3 at the ends),
  // unless the ends would be left without a layer.
  Workload uneven = load_workload("workloads/llama2-7b.yaml", {"mode=train", "batch=1", "layers=8", "pp=3"});
  size_t uneven_q = 0;
  for (const auto& op : uneven.ops)
    uneven_q += op.name.rfind("L", 0) == 0 && op.name.find(".q_proj") != std::string::npos &&
                op.name.find("bwd") == std::string::npos;
  CHECK(uneven_q == 3);
  REQUIRE_THROWS_AS(load_workload("workloads/llama2-7b.yaml", {"mode=train", "layers=7", "pp=6"}), InputError);
  // Interleaved 1F1B with 2 chunks per device: each micro-batch leaves and comes back once more per chunk boundary
  // (forward and backward), and the bubble is sized for 2 x 4 micro-batch slots.
  Workload inter = load_workload("workloads/llama2-7b.yaml", {"mode=train", "batch=8", "seq=512", "layers=8", "pp=4",
                                                             "microbatches=4", "virtual_stages=2"});
  size_t inter_sends = 0;
  for (const auto& op : inter.ops) {
    if (op.kind == OpKind::collective && op.variant == "pipeline") ++inter_sends;
    if (op.variant == "pipeline_bubble") CHECK(std::get<CollectiveShape>(op.shape).steps == 2 * 4);
  }
  CHECK(inter_sends == 2 * 4 * 4);
  REQUIRE_THROWS_AS(load_workload("workloads/llama2-7b.yaml", {"mode=train", "layers=8", "pp=4", "virtual_stages=3"}),
                    InputError);
  REQUIRE_THROWS_AS(load_workload("workloads/llama2-7b.yaml", {"mode=train", "virtual_stages=2"}), InputError);

  auto r = simulate_in_child(load_hardware("configs/dgx-h100.yaml"), w);
  double work = 0, bubble = 0;
  for (const auto& op : r["ops"]) {
    if (op["variant"] == "pipeline_bubble") bubble = op["duration_s"].get<double>();
    else if (op["variant"] != "adamw" && op["variant"] != "data_parallel") work += op["duration_s"].get<double>();
  }
  CHECK(bubble == Approx(3.0 / 4.0 * work).epsilon(0.02));
}

TEST_CASE("parallel: sharded DLRM tables are looked up for the global batch and exchanged by all-to-all",
          "[parallel]") {
  Workload w = load_workload("workloads/dlrmv2.yaml", {"batch=1024", "shards=8"});
  size_t bags = 0;
  for (const auto& op : w.ops)
    if (op.kind == OpKind::embedding_bag) {
      ++bags;
      CHECK(std::get<EmbeddingBagShape>(op.shape).batch == 1024 * 8);
    }
  CHECK(bags == 4);  // tables 0, 8, 16, 24 of 26
  auto a2a = collectives(w, "sharded_embedding");
  REQUIRE(a2a.size() == 1);
  CHECK(std::get<CollectiveShape>(a2a[0]->shape).bytes == int64_t(1024) * 8 * 4 * 128 * 4);
  REQUIRE_NOTHROW(topological_order(w));
}

TEST_CASE("parallel: gradient all-reduces run on their own stream and overlap the backward", "[parallel]") {
  Workload w = load_workload("workloads/llama2-7b.yaml", {"mode=train", "batch=1", "seq=1024", "layers=4", "dp=8"});
  auto r = simulate_in_child(load_hardware("configs/dgx-h100.yaml"), w);
  double last_backward = 0;
  for (const auto& op : r["ops"])
    if (op["name"].get<std::string>().find(".bwd") != std::string::npos)
      last_backward = std::max(last_backward, op["end_s"].get<double>());
  size_t overlapped = 0, reduces = 0;
  for (const auto& op : r["ops"])
    if (op["variant"] == "data_parallel") {
      ++reduces;
      overlapped += op["start_s"].get<double>() < last_backward;
    }
  CHECK(reduces == 6);  // 4 blocks, embedding, head
  CHECK(overlapped >= 4);
}
