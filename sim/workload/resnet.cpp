// Generator "resnet": ResNet image classification (He et al. 2016, arXiv:1512.03385) as torchvision builds it, for
// inference or a training step. Each convolution is the implicit GEMM cuDNN runs (M = N·P·Q output pixels,
// N = K output channels, K = C·R·S), so the GEMM mapper's tiles, waves and cache reuse time it, and autograd derives
// its data and weight gradients (GEMMs of the same MACs). Batch norms (training statistics), ReLUs, the stem's max
// pool, the residual adds, the global average pool and the classifier follow as their kernels.
#include <string>
#include <vector>

#include "sim/workload/autograd.h"
#include "sim/workload/builder.h"
#include "sim/workload/generator.h"

namespace xpu {
namespace {

std::vector<ParamSpec> resnet_specs() {
  return {
      p_choice("depth", "50", {"18", "34", "50", "101", "152"},
               "torchvision's ResNet depth: 18 and 34 use basic blocks (two 3x3 convs), 50 and deeper bottlenecks "
               "(1x1, 3x3, 1x1 with 4x expansion)"),
      p_choice("mode", "forward", {"forward", "train"},
               "forward: inference (batch norm with running statistics); train: forward, backward and the weight "
               "update"),
      p_count("batch", "32", "images", 1),
      p_count("image", "224", "input height and width in pixels", 32, 4096),
      p_count("classes", "1000", "classifier outputs", 1),
      p_choice("dtype", "fp32", {"fp32", "tf32", "bf16", "fp16"}, "number format of activations and weights"),
      p_choice("optimizer", "adamw", {"adamw", "none"}, "train: the weight update after the backward pass"),
      p_count("dp", "1", "data-parallel replicas: an all-reduce of the weight gradients before the update", 1, 1 << 20),
  };
}

struct Net {
  WorkloadBuilder& b;
  int64_t N;
  int convs = 0;

  // conv(k x k, stride, pad) from [N, C, H, W] to [N, K, P, Q]; the weight [K, C, k, k] is a resident input.
  std::string conv(const std::string& name, const std::string& x, int64_t C, int64_t& H, int64_t& W, int64_t K,
                   int64_t k, int64_t stride, int64_t pad) {
    const int64_t P = (H + 2 * pad - k) / stride + 1, Q = (W + 2 * pad - k) / stride + 1;
    b.add(name, OpKind::matmul, "conv_fprop", MatmulShape{1, N * P * Q, K, C * k * k, true},
          {b.t(x, double(N) * C * H * W), b.t(name + ".weight", double(K) * C * k * k)},
          {b.t(name + ".out", double(N) * K * P * Q)});
    H = P, W = Q;
    ++convs;
    return name + ".out";
  }
  // Batch norm over N·H·W per channel, with its scale and shift.
  std::string bn(const std::string& name, const std::string& x, int64_t C, int64_t H, int64_t W) {
    b.add(name, OpKind::norm, "batchnorm", RowShape{C, N * H * W},
          {b.t(x, double(N) * C * H * W), b.t(name + ".weight", 2.0 * C)}, {b.t(name + ".out", double(N) * C * H * W)});
    return name + ".out";
  }
  std::string relu(const std::string& name, const std::string& x, int64_t elements) {
    b.add_io(name, OpKind::elementwise, "relu", ElementwiseShape{elements, 1, 1}, {x}, name + ".out");
    return name + ".out";
  }
};

Workload build_resnet(const ParamSet& p, const std::string& name) {
  const int depth = std::stoi(p.str("depth"));
  const int64_t N = p.count("batch"), img = p.count("image");
  const DType dt = parse_dtype(p.str("dtype"));
  Workload w;
  w.name = name;
  w.items = double(N);
  w.item = "image";
  w.parallel = {{"dp", int64_t(p.count("dp"))}};
  w.description = name + " ResNet-" + std::to_string(depth) + " " + p.str("mode") + " batch=" + std::to_string(N) +
                  " image=" + std::to_string(img) + " " + p.str("dtype");
  WorkloadBuilder b(w, dt, p.at("batch").mark);
  Net net{b, N};

  // Stem: 7x7/2 conv to 64 channels, batch norm, ReLU, 3x3/2 max pool.
  int64_t H = img, W = img, C = 64;
  b.set_layer("stem");
  std::string x = net.conv("conv1", "image", 3, H, W, 64, 7, 2, 3);
  x = net.bn("bn1", x, C, H, W);
  x = net.relu("relu1", x, N * C * H * W);
  const int64_t Hp = (H + 2 - 3) / 2 + 1, Wp = (W + 2 - 3) / 2 + 1;
  b.add("maxpool", OpKind::elementwise, "pool", ElementwiseShape{N * C * H * W, 1, 1}, {b.t(x, double(N) * C * H * W)},
        {b.t("maxpool.out", double(N) * C * Hp * Wp)});
  x = "maxpool.out";
  H = Hp, W = Wp;

  const bool bottleneck = depth >= 50;
  const std::vector<int> blocks = depth == 18    ? std::vector<int>{2, 2, 2, 2}
                                  : depth == 34  ? std::vector<int>{3, 4, 6, 3}
                                  : depth == 50  ? std::vector<int>{3, 4, 6, 3}
                                  : depth == 101 ? std::vector<int>{3, 4, 23, 3}
                                                 : std::vector<int>{3, 8, 36, 3};
  const int64_t expansion = bottleneck ? 4 : 1;
  for (int s = 0; s < 4; ++s) {
    const int64_t width = int64_t(64) << s, out_c = width * expansion;
    for (int k = 0; k < blocks[size_t(s)]; ++k) {
      const std::string P = "layer" + std::to_string(s + 1) + "." + std::to_string(k);
      b.set_layer(P);
      const int64_t stride = (k == 0 && s > 0) ? 2 : 1;
      int64_t h = H, wd = W;
      std::string y;
      if (bottleneck) {
        y = net.conv(P + ".conv1", x, C, h, wd, width, 1, 1, 0);
        y = net.relu(P + ".relu1", net.bn(P + ".bn1", y, width, h, wd), N * width * h * wd);
        y = net.conv(P + ".conv2", y, width, h, wd, width, 3, stride, 1);  // torchvision v1.5: stride on the 3x3
        y = net.relu(P + ".relu2", net.bn(P + ".bn2", y, width, h, wd), N * width * h * wd);
        y = net.conv(P + ".conv3", y, width, h, wd, out_c, 1, 1, 0);
        y = net.bn(P + ".bn3", y, out_c, h, wd);
      } else {
        y = net.conv(P + ".conv1", x, C, h, wd, width, 3, stride, 1);
        y = net.relu(P + ".relu1", net.bn(P + ".bn1", y, width, h, wd), N * width * h * wd);
        y = net.conv(P + ".conv2", y, width, h, wd, out_c, 3, 1, 1);
        y = net.bn(P + ".bn2", y, out_c, h, wd);
      }
      std::string shortcut = x;
      if (k == 0 && (stride != 1 || C != out_c)) {
        int64_t hs = H, ws = W;
        const std::string d = net.conv(P + ".downsample", x, C, hs, ws, out_c, 1, stride, 0);  // sets hs, ws
        shortcut = net.bn(P + ".downsample.bn", d, out_c, hs, ws);
      }
      const int64_t elems = N * out_c * h * wd;
      b.add_io(P + ".add", OpKind::elementwise, "add", ElementwiseShape{elems, 2, 1}, {y, shortcut}, P + ".sum");
      x = net.relu(P + ".relu", P + ".sum", elems);
      C = out_c, H = h, W = wd;
    }
  }
  // Head: global average pool, then the classifier.
  b.set_layer("head");
  b.add("avgpool", OpKind::elementwise, "pool", ElementwiseShape{N * C * H * W, 1, 1}, {b.t(x, double(N) * C * H * W)},
        {b.t("avgpool.out", double(N) * C)});
  b.matmul("fc", MatmulShape{1, N, int64_t(p.count("classes")), C, true}, "avgpool.out", "fc.weight", "logits",
           "fc.bias");

  if (p.str("mode") == "train") {
    TrainingOptions t;
    t.optimizer = p.str("optimizer") == "adamw";
    t.dp = int64_t(p.count("dp"));
    append_training_step(w, t);
  } else if (p.count("dp") > 1) {
    throw InputError(p.at("dp").mark, "dp > 1 needs mode: train (the replicas only exchange gradients)");
  }
  return w;
}

}  // namespace

XPU_REGISTER_GENERATOR("resnet",
                       "ResNet-18/34/50/101/152 image classification (torchvision), inference or a training step; "
                       "convolutions as cuDNN's implicit GEMMs",
                       resnet_specs(), build_resnet);

}  // namespace xpu
