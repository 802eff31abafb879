// The ResNet generator: torchvision's architecture counted (convolutions, MACs, parameters), convolutions as implicit
// GEMMs, and a training step that costs what its backward pass should.
#include <catch2/catch.hpp>

#include "tests/test_support.h"

#include "sim/workload/footprint.h"
#include "sim/workload/loader.h"

using namespace xpu;
using namespace xpu::test;

TEST_CASE("resnet: ResNet-50 has torchvision's 53 convolutions, 4.1 GMACs and 25.6 M parameters per image",
          "[workload][resnet]") {
  Workload w = load_workload("workloads/resnet50.yaml", {"batch=8", "dtype=fp32"});
  size_t convs = 0;
  double flops = 0;
  for (const auto& op : w.ops) {
    convs += op.kind == OpKind::matmul && op.variant == "conv_fprop";
    flops += op.flops();
  }
  CHECK(convs == 53);
  // torchvision's published 4.09 GFLOPs (multiply-adds) for resnet50 at 224x224; the elementwise ops add a little.
  CHECK(flops / 8 / 2 == Approx(4.09e9).epsilon(0.03));
  // 25.56 M parameters: the convolution and classifier weights, the batch norms' scale and shift (fp32); the
  // footprint's resident inputs also hold the batch of images.
  CHECK((memory_footprint(w).weights / 4 - 8 * 3 * 224 * 224) == Approx(25.56e6).epsilon(0.01));
  CHECK(w.items == 8);
  // ResNet-18: 20 convolutions (17 in the blocks and stem, 3 downsample), 1.82 GMACs.
  Workload r18 = load_workload("workloads/resnet50.yaml", {"depth=18", "batch=1"});
  convs = 0;
  flops = 0;
  for (const auto& op : r18.ops) {
    convs += op.variant == "conv_fprop";
    if (op.kind == OpKind::matmul) flops += op.flops();
  }
  CHECK(convs == 20);
  CHECK(flops / 2 == Approx(1.82e9).epsilon(0.03));
}

TEST_CASE("resnet: a training step runs the backward convolutions and costs 2-4x the forward pass", "[workload][resnet]") {
  TempDir dir;
  nlohmann::json fwd = run_json("run --hw configs/h100.yaml -w workloads/resnet50.yaml --set batch=128", dir);
  nlohmann::json train = run_json("run --hw configs/h100.yaml -w workloads/resnet50.yaml --set batch=128,mode=train", dir);
  const double ratio = train["total_time_s"].get<double>() / fwd["total_time_s"].get<double>();
  CHECK(ratio > 2.0);
  CHECK(ratio < 4.5);
  // Data and weight gradients of the convolutions: twice the forward's matrix work.
  double conv_fwd = 0, conv_bwd = 0;
  for (const auto& o : train["ops"]) {
    if (o["kind"] != "matmul") continue;
    (o["variant"] == "conv_fprop" ? conv_fwd : conv_bwd) += o["flops"].get<double>();
  }
  CHECK(conv_bwd == Approx(2 * conv_fwd).epsilon(0.02));
  CHECK(train["workload"]["items"] == 128);
}
