// Training steps: the backward pass autograd would run, recomputation, and the optimizer.
#include <catch2/catch.hpp>

#include <map>

#include "sim/workload/loader.h"

using namespace xpu;

namespace {
double flops_where(const Workload& w, bool backward) {
  double f = 0;
  for (const auto& op : w.ops) {
    bool is_bwd = op.name.find(".bwd") != std::string::npos;
    bool is_opt = op.variant == "adamw";
    bool is_recompute = op.name.find(".recompute") != std::string::npos;
    if (!is_opt && !is_recompute && is_bwd == backward) f += op.flops();
  }
  return f;
}
size_t count_variant(const Workload& w, const std::string& v) {
  size_t n = 0;
  for (const auto& op : w.ops) n += op.variant == v;
  return n;
}
}  // namespace

TEST_CASE("training: backward does about twice the forward FLOPs", "[training]") {
  Workload w = load_workload("workloads/llama2-7b.yaml", {"mode=train", "batch=1", "seq=1024", "layers=2"});
  double fwd = flops_where(w, false), bwd = flops_where(w, true);
  // Two GEMMs per forward GEMM; attention backward does 2.5x its forward.
  CHECK(bwd / fwd == Approx(2.0).margin(0.1));
  // One dgrad and one wgrad per projection that has an activation input (7 per layer, plus lm_head).
  CHECK(count_variant(w, "wgrad") == 2 * 7 + 1);
  CHECK(count_variant(w, "backward") == 2);  // attention backward per layer
  REQUIRE_NOTHROW(topological_order(w));
}

TEST_CASE("training: every backward op runs after the forward ops it needs", "[training]") {
  Workload w = load_workload("workloads/gpt2-small.yaml", {"mode=train", "batch=2", "seq=256", "layers=2"});
  std::vector<size_t> order = topological_order(w);
  std::vector<size_t> pos(w.ops.size());
  for (size_t i = 0; i < order.size(); ++i) pos[order[i]] = i;
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < w.ops.size(); ++i) index[w.ops[i].name] = i;
  // The down projection's weight gradient needs the loss gradient, which needs the whole forward.
  REQUIRE(index.count("L1.down_proj.bwd.dB"));
  REQUIRE(index.count("lm_head"));
  CHECK(pos[index["L1.down_proj.bwd.dB"]] > pos[index["lm_head"]]);
  // Layer 0's backward comes after layer 1's.
  CHECK(pos[index["L0.qkv_proj.bwd.dB"]] > pos[index["L1.qkv_proj.bwd.dB"]]);
}

TEST_CASE("training: residual branches accumulate their gradients", "[training]") {
  Workload w = load_workload("workloads/llama2-7b.yaml", {"mode=train", "batch=1", "seq=512", "layers=1"});
  size_t acc = 0;
  for (const auto& op : w.ops) acc += op.name.find(".acc") != std::string::npos;
  // The block input feeds both the attention norm and the residual add; q, k and v share the normed input.
  CHECK(acc >= 2);
}

TEST_CASE("training: AdamW moves 28 bytes per parameter, recompute re-runs the forward", "[training]") {
  Workload w = load_workload("workloads/llama2-7b.yaml", {"mode=train", "batch=1", "seq=512", "layers=1",
                                                         "lm_head=false", "embed=false"});
  double params = 0, bytes = 0;
  for (const auto& op : w.ops)
    if (op.variant == "adamw") {
      params += std::get<ElementwiseShape>(op.shape).elements;
      bytes += op.min_bytes();
    }
  // One Llama-2-7B block: 4 x 4096^2 attention + 3 x 4096 x 11008 MLP weights, plus two norm scales.
  CHECK(params == Approx(4.0 * 4096 * 4096 + 3.0 * 4096 * 11008 + 2 * 4096).epsilon(1e-6));
  CHECK(bytes / params == Approx(28.0));

  Workload plain = load_workload("workloads/llama2-7b.yaml", {"mode=train", "batch=1", "seq=512", "layers=3"});
  Workload re = load_workload("workloads/llama2-7b.yaml", {"mode=train", "batch=1", "seq=512", "layers=3",
                                                          "recompute=true"});
  CHECK(re.ops.size() > plain.ops.size());
  double fp = 0, fr = 0;
  for (const auto& op : plain.ops) fp += op.flops();
  for (const auto& op : re.ops) fr += op.flops();
  CHECK(fr > 1.2 * fp);  // about one more forward
  CHECK(fr < 1.4 * fp);
}

TEST_CASE("training: the loss backward is a kernel, embeddings get dense gradients, no fusion spans fwd and bwd",
          "[training]") {
  const std::vector<std::string> p = {"mode=train", "batch=1", "seq=512", "layers=1"};
  Workload w = load_workload("workloads/llama2-7b.yaml", p);
  const double logits = 512.0 * 32000 * 2, table = 32000.0 * 4096 * 2;
  int loss = 0;
  for (size_t i = 0; i < w.ops.size(); ++i) {
    const Op& op = w.ops[i];
    if (op.variant == "loss_bwd") {
      ++loss;
      CHECK(i == w.backward_start);  // the first kernel of the backward writes the first gradient
      REQUIRE(op.writes.size() == 1);
      CHECK(op.writes[0].bytes == Approx(logits));
    }
    if (op.variant == "embedding_bwd") CHECK(op.writes.at(0).bytes == Approx(table));  // the whole table
    if (op.name == "embed.adamw") CHECK(std::get<ElementwiseShape>(op.shape).elements == Approx(table / 2));
  }
  CHECK(loss == 1);

  std::vector<std::string> pc = p;
  pc.push_back("stack=compiled");
  Workload c = load_workload("workloads/llama2-7b.yaml", pc);
  bool loss_fused_back = false;
  for (size_t i = 0; i < c.ops.size(); ++i) {
    const std::string& n = c.ops[i].name;
    if (n.find("loss.bwd") == std::string::npos) continue;
    CHECK(i >= c.backward_start);
    CHECK(n.find("cross_entropy+") == std::string::npos);  // the forward's log-softmax stays in the forward graph
    loss_fused_back |= n.find("cross_entropy.bwd") != std::string::npos;
  }
  CHECK(loss_fused_back);  // Inductor's backward graph fuses it into the log-softmax backward
}

TEST_CASE("moe: mixtral routes each token to 2 of 8 experts, imbalance slows prefill", "[workload][moe]") {
  Workload w = load_workload("workloads/mixtral-8x7b.yaml", {"mode=prefill", "batch=1", "seq=4096", "layers=1",
                                                            "embed=false", "lm_head=false"});
  double expert_tokens = 0, expert_matmuls = 0;
  for (const auto& op : w.ops)
    if (op.kind == OpKind::matmul && op.name.find(".expert") != std::string::npos) {
      expert_matmuls += 1;
      if (op.name.find("gate_proj") != std::string::npos) expert_tokens += std::get<MatmulShape>(op.shape).m;
    }
  CHECK(expert_matmuls == 8 * 3);
  CHECK(expert_tokens == Approx(4096 * 2).margin(8));  // top-2 assignments, rounded up per expert
  // The busiest of 8 experts gets 3x the mean (3072 tokens), the other 7 share the remaining 5120.
  Workload skewed = load_workload("workloads/mixtral-8x7b.yaml", {"mode=prefill", "batch=1", "seq=4096", "layers=1",
                                                                 "expert_imbalance=3"});
  int64_t busiest = 0;
  for (const auto& op : skewed.ops)
    if (op.name.find("expert0.gate_proj") != std::string::npos) busiest = std::get<MatmulShape>(op.shape).m;
  CHECK(busiest == 3072);
  REQUIRE_THROWS_AS(load_workload("workloads/mixtral-8x7b.yaml", {"top_k=9"}), InputError);
}
