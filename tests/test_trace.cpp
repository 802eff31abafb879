// Trace replay: each reader on real traces (workloads/traces/), the shared aten mapping, broken inputs, the
// replay command, and a replay of a measured H100 run compared with its measured GPU busy time.
#include <catch2/catch.hpp>

#include "tests/test_support.h"
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "tests/chakra_support.h"
#include "sim/config/hardware.h"
#include "sim/engine/isolated_run.h"
#include "sim/trace/aten_map.h"
#include "sim/trace/replay_compare.h"
#include "sim/trace/trace_reader.h"

// After the project headers: <signal.h> defines si_value as a macro, which sim/config/units.h uses as a name.
#include <sys/wait.h>
#include <unistd.h>

using namespace xpu;
namespace fs = std::filesystem;
using namespace xpu::test;

namespace {

const std::string kKinetoLlama = "workloads/traces/kineto/kineto_llama2-7b_prefill_b1_s2048_kv0_L2.json.gz";
const std::string kKinetoDlrm = "workloads/traces/kineto/kineto_dlrmv2_forward_b2048.json.gz";
const std::string kEtLlama = "workloads/traces/pytorch_et/pytorch_et_llama2-7b_prefill_b1_s2048_kv0_L2.json.gz";
const std::string kEtHost = "workloads/traces/pytorch_et/host_et_1.0.2.json.gz";
const std::string kChakraConverted = "workloads/traces/chakra/pytorch_converted.0.et.gz";
const std::string kChakraAllReduce = "workloads/traces/chakra/all_reduce_8npus_1MB/all_reduce.0.et";
const std::string kChakraReduceScatter = "workloads/traces/chakra/reduce_scatter_8npus_1MB/reduce_scatter.3.et";

// Writes `bytes` gzip-compressed to `name` in `dir`.
std::string write_gz(const TempDir& dir, const std::string& name, const std::string& bytes) {
  std::string p = (dir.path / name).string();
  gzFile g = gzopen(p.c_str(), "wb");
  gzwrite(g, bytes.data(), unsigned(bytes.size()));
  gzclose(g);
  return p;
}


size_t count_kind(const Workload& w, OpKind k, bool modelled = true) {
  size_t n = 0;
  for (const auto& op : w.ops) n += op.kind == k && is_unmodelled(op) != modelled;
  return n;
}
size_t count_unmodelled(const Workload& w) {
  size_t n = 0;
  for (const auto& op : w.ops) n += is_unmodelled(op);
  return n;
}
size_t count_deps(const Workload& w) {
  size_t n = 0;
  for (const auto& op : w.ops) n += op.deps.size();
  return n;
}
double measured_sum(const Workload& w) {
  double s = 0;
  for (const auto& op : w.ops) s += op.measured_us;
  return s;
}

// Expects read_trace to throw InputError naming the file and containing `needle`.
void expect_error(const std::string& path, const std::string& needle) {
  try {
    read_trace(path);
    FAIL("expected an InputError containing '" << needle << "' for " << path);
  } catch (const InputError& e) {
    std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find(path) != std::string::npos);
    CHECK(msg.find(needle) != std::string::npos);
  }
}



AtenArg tensor_arg(std::vector<int64_t> dims, const std::string& type = "c10::BFloat16") {
  AtenArg a;
  a.type = type;
  a.tensors.push_back(TensorArg{std::move(dims), 0, "", ""});
  return a;
}
AtenArg scalar_arg(const std::string& value, const std::string& type = "Scalar") {
  AtenArg a;
  a.type = type;
  a.value = value;
  return a;
}

}  // namespace

TEST_CASE("trace: Kineto llama2-7b trace maps GEMMs, attention, norms and elementwise ops", "[trace]") {
  TraceWorkload t = read_trace(kKinetoLlama);
  const Workload& w = t.workload;
  CHECK(t.stats.format == "kineto");
  // 3 iterations of 2 layers: 22 kernels and 6 memsets each, no ProfilerStep markers so all are kept.
  REQUIRE(w.ops.size() == 84);
  CHECK(count_kind(w, OpKind::matmul) == 24);
  CHECK(count_kind(w, OpKind::attention) == 6);
  CHECK(count_kind(w, OpKind::norm) == 12);
  CHECK(count_kind(w, OpKind::elementwise) == 24);
  CHECK(count_unmodelled(w) == 18);  // cuBLAS / cuDNN workspace memsets, kept at their measured time
  CHECK(t.stats.unmodelled == 18);
  CHECK(t.stats.skipped == 0);
  // The fused qkv projection: aten::mm [2048,4096] x [4096,12288].
  const Op* qkv = nullptr;
  for (const auto& op : w.ops)
    if (op.kind == OpKind::matmul && !qkv) qkv = &op;
  REQUIRE(qkv);
  const auto& mm = std::get<MatmulShape>(qkv->shape);
  CHECK(mm.m == 2048);
  CHECK(mm.k == 4096);
  CHECK(mm.n == 12288);
  CHECK(qkv->dtype == DType::bf16);
  for (const auto& op : w.ops)
    if (op.kind == OpKind::attention) {
      const auto& a = std::get<AttentionShape>(op.shape);
      CHECK(a.batch == 1);
      CHECK(a.heads_q == 32);
      CHECK(a.seq_q == 2048);
      CHECK(a.seq_kv == 2048);
      CHECK(a.head_dim == 128);
      CHECK(a.causal);  // from the recorded is_causal=True
    }
  // One stream: every op but the first follows the previous one.
  CHECK(count_deps(w) == 83);
  for (size_t i = 1; i < w.ops.size(); ++i) CHECK(w.ops[i].deps == std::vector<size_t>{i - 1});
  // Every kernel keeps its measured duration; their sum is the calibration file's gpu_busy_us x 3 iterations.
  for (const auto& op : w.ops) CHECK(op.measured_us >= 0);
  CHECK(measured_sum(w) == Approx(3 * 2791.006).epsilon(1e-4));
  // Tensor names guessed from sizes: the residual add reads the o_proj output just written and another tensor, not
  // that output twice; the norm after it reads the add's output.
  for (size_t i = 1; i + 1 < w.ops.size(); ++i)
    if (w.ops[i].name == "aten::add") {
      REQUIRE(w.ops[i].reads.size() == 2);
      CHECK(w.ops[i].reads[0].name != w.ops[i].reads[1].name);
      CHECK(w.ops[i].reads[0].name == w.ops[i - 1].writes[0].name);
      REQUIRE(w.ops[i + 1].kind == OpKind::norm);
      CHECK(w.ops[i + 1].reads[0].name == w.ops[i].writes[0].name);
    }
}

TEST_CASE("trace: Kineto DLRM trace maps embedding bags, cat and addmm", "[trace]") {
  TraceWorkload t = read_trace(kKinetoDlrm);
  const Workload& w = t.workload;
  REQUIRE(w.ops.size() == 116);
  CHECK(count_kind(w, OpKind::embedding_bag) == 52);
  CHECK(count_kind(w, OpKind::concat) == 2);
  CHECK(count_kind(w, OpKind::matmul) == 28);
  CHECK(count_unmodelled(w) == 8);  // split-K reductions and bias copies launched by mm/addmm
  // 26 tables of dim 128, 2048 bags each; the first is capped at 2,000,000 rows with 6144 indices (3 per bag).
  const Op& first_bag =
      *std::find_if(w.ops.begin(), w.ops.end(), [](const Op& o) { return o.kind == OpKind::embedding_bag; });
  const auto& e = std::get<EmbeddingBagShape>(first_bag.shape);
  CHECK(e.rows == 2000000);
  CHECK(e.pooling == 3);
  CHECK(first_bag.dtype == DType::fp32);
  for (const auto& op : w.ops)
    if (op.kind == OpKind::embedding_bag) {
      CHECK(std::get<EmbeddingBagShape>(op.shape).dim == 128);
      CHECK(std::get<EmbeddingBagShape>(op.shape).batch == 2048);
    }
  // addmm(bias, x[2048,13], W^T[13,512]) reads the bias too.
  const Op& first_mm = *std::find_if(w.ops.begin(), w.ops.end(), [](const Op& o) { return o.kind == OpKind::matmul; });
  CHECK(std::get<MatmulShape>(first_mm.shape).m == 2048);
  CHECK(std::get<MatmulShape>(first_mm.shape).k == 13);
  CHECK(std::get<MatmulShape>(first_mm.shape).n == 512);
  CHECK(first_mm.reads.size() == 3);
  CHECK(measured_sum(w) == Approx(2 * 1999.0835).epsilon(1e-4));
}

TEST_CASE("trace: PyTorch ET maps the outermost aten op and links ops through tensor storage", "[trace]") {
  TraceWorkload t = read_trace(kEtLlama);
  const Workload& w = t.workload;
  CHECK(t.stats.format == "pytorch-et");
  // One iteration of 2 layers: rms_norm x4, linear x8, sdpa x2, add x4, silu x2, mul x2.
  REQUIRE(w.ops.size() == 22);
  CHECK(count_kind(w, OpKind::matmul) == 8);
  CHECK(count_kind(w, OpKind::attention) == 2);
  CHECK(count_kind(w, OpKind::norm) == 4);
  CHECK(count_kind(w, OpKind::elementwise) == 8);
  CHECK(t.stats.skipped == 0);
  // aten::linear's weight is [out, in]: [1,2048,4096] x [12288,4096]^T.
  REQUIRE(w.ops[1].name == "aten::linear");
  const auto& s = std::get<MatmulShape>(w.ops[1].shape);
  CHECK(s.m == 2048);
  CHECK(s.k == 4096);
  CHECK(s.n == 12288);
  // The projection reads what the norm wrote, by storage id.
  CHECK(w.ops[1].deps == std::vector<size_t>{0});
  CHECK(w.ops[1].reads[0].name == w.ops[0].writes[0].name);
  size_t with_deps = 0;
  for (const auto& op : w.ops) with_deps += !op.deps.empty();
  CHECK(with_deps == 21);  // every op but the first norm consumes an earlier result
  for (const auto& op : w.ops) CHECK(op.measured_us < 0);  // execution traces carry no timing
  for (const auto& op : w.ops)
    if (op.kind == OpKind::attention) CHECK(std::get<AttentionShape>(op.shape).causal);
}

TEST_CASE("trace: PyTorch ET host trace keeps collectives and reports host copies", "[trace]") {
  TraceWorkload t = read_trace(kEtHost);
  const Workload& w = t.workload;
  REQUIRE(w.ops.size() == 10);
  for (const auto& op : w.ops) {
    REQUIRE(op.kind == OpKind::collective);
    const auto& c = std::get<CollectiveShape>(op.shape);
    CHECK(c.op == "all_gather");
    CHECK(c.group == 2);
    CHECK(c.bytes == 4);
  }
  CHECK(t.stats.skipped == 10);  // cpu -> cuda copies of the inputs
  CHECK(t.stats.skipped_by.begin()->first.find("host-device copy") != std::string::npos);
}

TEST_CASE("trace: Chakra converted trace re-times its GPU kernels as the framework ops that launched them", "[trace]") {
  TraceWorkload t = read_trace(kChakraConverted);
  const Workload& w = t.workload;
  CHECK(t.stats.format == "chakra");
  // 1,209 GPU compute nodes and 7 GPU-side collectives; the 2,448 host nodes bracket each op's kernels
  // (aten::conv2d(0), (1), ...) and pass their ordering on. An op's kernels become one op: 339 merge into the first.
  REQUIRE(w.ops.size() == 1216 - 339);
  double sum = 0, retimed = 0;
  size_t conv = 0, bn = 0;
  for (const auto& op : w.ops) {
    CHECK(op.measured_us >= 0);
    sum += op.measured_us;
    if (!is_unmodelled(op)) retimed += op.measured_us;
    conv += op.kind == OpKind::matmul && op.variant.rfind("conv", 0) == 0;
    bn += op.kind == OpKind::norm && op.variant.rfind("batchnorm", 0) == 0;
  }
  CHECK(sum == Approx(329543));  // every kernel's measured time is still there, merged or not
  CHECK(retimed / sum > 0.8);
  CHECK(conv >= 90);  // forward convolutions and their data and weight gradients (cuDNN implicit GEMMs)
  CHECK(bn >= 100);
  CHECK(count_deps(w) > w.ops.size());
  // The converter made host ops wait for their own kernels: those edges are dropped with a warning.
  REQUIRE(t.stats.warnings.size() == 1);
  CHECK(t.stats.warnings[0].find("cycle") != std::string::npos);
  size_t collectives = 0;
  for (const auto& [what, n] : t.stats.unmodelled_by)
    if (what.find("group size unknown") != std::string::npos) collectives += n;
  CHECK(collectives == 7);
}

namespace {
// Non-tensor arguments, as a trace records their values.
void add_values(AtenCall& c, const std::vector<std::string>& values) {
  for (const auto& v : values) {
    AtenArg a;
    a.value = v;
    c.args.push_back(a);
  }
}
}  // namespace

TEST_CASE("trace: a ResNet convolution's shape comes from the kernel's recorded arguments", "[trace]") {
  // conv2d's kernels carry the inner cudnn_convolution's arguments: (input, weight, padding, stride, dilation, groups).
  AtenCall c;
  c.name = "aten::conv2d";
  c.args = {tensor_arg({32, 64, 56, 56}, "Tensor(float)"), tensor_arg({256, 64, 1, 1}, "Tensor(float)")};
  add_values(c, {"[0, 0]", "[1, 1]", "[1, 1]", "1"});
  MapResult r = map_aten(c);
  REQUIRE(r.op);
  const auto& m = std::get<MatmulShape>(r.op->op.shape);
  CHECK(m.m == 32 * 56 * 56);  // N x P x Q output pixels
  CHECK(m.n == 256);           // output channels
  CHECK(m.k == 64);            // C x R x S
  CHECK(r.op->op.variant == "conv_fprop");
  // convolution_backward(grad_out, input, weight, bias_sizes, stride, padding, dilation, transposed, output_padding,
  // groups, output_mask): a 3x3, stride 2 layer whose data gradient is needed.
  AtenCall b;
  b.name = "aten::convolution_backward";
  b.args = {tensor_arg({32, 128, 28, 28}, "Tensor(float)"), tensor_arg({32, 128, 56, 56}, "Tensor(float)"),
            tensor_arg({128, 128, 3, 3}, "Tensor(float)")};
  add_values(b, {"[0]", "[2, 2]", "[1, 1]", "[1, 1]", "False", "[0, 0]", "1", "[True, True, False]"});
  MapResult rb = map_aten(b);
  REQUIRE(rb.op);
  const auto& mb = std::get<MatmulShape>(rb.op->op.shape);
  CHECK(mb.batch == 2);                 // data and weight gradients
  CHECK(mb.m == 32 * 28 * 28);          // output pixels (stride 2 halves 56)
  CHECK(mb.n == 128 * 3 * 3);
  CHECK(mb.k == 128);
  CHECK(rb.op->op.flops() == Approx(2.0 * 2 * 32 * 28 * 28 * 128 * 128 * 9));
}

TEST_CASE("trace: Chakra collectives take type and size from attributes and the group from the rank files", "[trace]") {
  TraceWorkload a = read_trace(kChakraAllReduce);
  REQUIRE(a.workload.ops.size() == 1);
  const auto& c = std::get<CollectiveShape>(a.workload.ops[0].shape);
  CHECK(c.op == "all_reduce");
  CHECK(c.bytes == 1048576);
  CHECK(c.group == 8);
  CHECK(a.workload.ops[0].measured_us < 0);
  TraceWorkload r = read_trace(kChakraReduceScatter);
  CHECK(std::get<CollectiveShape>(r.workload.ops[0].shape).op == "reduce_scatter");
}

TEST_CASE("trace: Chakra nodes with num_ops and tensor_size are modelled, host nodes pass dependencies on", "[trace]") {
  using namespace xpu_chakra;
  Node gemm = chakra_node(1, "big", COMP_NODE, 100, {});
  add_attr(gemm, "num_ops", int64_t(2e12));
  add_attr(gemm, "tensor_size", int64_t(1e8));
  Node host = chakra_node(2, "aten::host_side", COMP_NODE, 5, {1}, true);
  Node stream = chakra_node(3, "small", COMP_NODE, 7, {2});
  add_attr(stream, "num_ops", int64_t(1e6));
  add_attr(stream, "tensor_size", int64_t(4e8));
  Node opaque = chakra_node(4, "some_kernel", COMP_NODE, 9, {3});
  TempDir dir;
  std::string bytes = chakra_bytes({gemm, host, stream, opaque});
  for (const std::string& p : {dir.write("synthetic.et", bytes), write_gz(dir, "synthetic.et.gz", bytes)}) {
    TraceWorkload t = read_trace(p);
    const Workload& w = t.workload;
    REQUIRE(w.ops.size() == 3);
    CHECK(w.ops[0].kind == OpKind::matmul);
    CHECK(w.ops[0].flops() == Approx(2e12).epsilon(0.01));
    CHECK(w.ops[1].kind == OpKind::elementwise);
    CHECK(!is_unmodelled(w.ops[1]));
    CHECK(w.ops[1].min_bytes() == Approx(4e8).epsilon(0.01));
    CHECK(w.ops[1].deps == std::vector<size_t>{0});  // through the host node
    CHECK(is_unmodelled(w.ops[2]));
    CHECK(w.ops[2].measured_us == 9);
    CHECK(w.ops[2].deps == std::vector<size_t>{1});
    CHECK(t.stats.mapped == 2);
    CHECK(t.stats.unmodelled == 1);
  }
}

TEST_CASE("trace: the aten mapping", "[trace]") {
  SECTION("linear weights are [out, in]") {
    AtenCall c{"aten::linear", {tensor_arg({4, 512, 1024}), tensor_arg({4096, 1024}), tensor_arg({4096})}, ""};
    MapResult r = map_aten(c);
    REQUIRE(r.op);
    const auto& s = std::get<MatmulShape>(r.op->op.shape);
    CHECK(s.m == 2048);
    CHECK(s.k == 1024);
    CHECK(s.n == 4096);
    CHECK(r.op->op.reads.size() == 3);
    CHECK(r.op->op.writes[0].bytes == 2048.0 * 4096 * 2);
  }
  SECTION("bmm is a batched GEMM with per-batch B") {
    MapResult r = map_aten({"aten::bmm", {tensor_arg({8, 128, 64}), tensor_arg({8, 64, 256})}, ""});
    REQUIRE(r.op);
    const auto& s = std::get<MatmulShape>(r.op->op.shape);
    CHECK(s.batch == 8);
    CHECK(!s.b_shared);
  }
  SECTION("attention causality: argument, kernel name, else Sq == Skv") {
    auto sdpa = [](int64_t sq, int64_t skv, const std::string& causal, const std::string& kernel) {
      AtenCall c{"aten::scaled_dot_product_attention",
                 {tensor_arg({2, 16, sq, 64}), tensor_arg({2, 4, skv, 64}), tensor_arg({2, 4, skv, 64}),
                  scalar_arg(""), scalar_arg("0."), scalar_arg(causal)},
                 kernel};
      MapResult r = map_aten(c);
      REQUIRE(r.op);
      return std::get<AttentionShape>(r.op->op.shape);
    };
    CHECK(!sdpa(512, 512, "False", "").causal);
    CHECK(sdpa(1, 512, "True", "").causal);
    CHECK(sdpa(1, 512, "", "fmha_causal_kernel").causal);
    CHECK(sdpa(512, 512, "", "").causal);
    CHECK(!sdpa(1, 512, "", "").causal);
    CHECK(sdpa(1, 512, "", "").heads_kv == 4);  // grouped-query
  }
  SECTION("norms, softmax, elementwise, cat") {
    MapResult ln = map_aten({"aten::layer_norm", {tensor_arg({8, 1024, 768}), scalar_arg("[768]", "ScalarList")}, ""});
    REQUIRE(ln.op);
    CHECK(ln.op->op.kind == OpKind::norm);
    CHECK(std::get<RowShape>(ln.op->op.shape).rows == 8 * 1024);
    MapResult sm = map_aten({"aten::_softmax", {tensor_arg({4, 16, 128, 128}), scalar_arg("-1")}, ""});
    REQUIRE(sm.op);
    CHECK(sm.op->op.kind == OpKind::softmax);
    MapResult add = map_aten({"aten::add_", {tensor_arg({1024, 1024}), tensor_arg({1024}), scalar_arg("1")}, ""});
    REQUIRE(add.op);
    CHECK(std::get<ElementwiseShape>(add.op->op.shape).elements == 1024 * 1024);
    CHECK(add.op->op.reads.size() == 2);
    AtenArg list;
    list.type = "TensorList";
    list.tensors = {TensorArg{{64, 128}, 4, "", ""}, TensorArg{{64, 128}, 4, "", ""}, TensorArg{{64, 128}, 4, "", ""}};
    MapResult cat = map_aten({"aten::cat", {list, scalar_arg("1")}, ""});
    REQUIRE(cat.op);
    CHECK(std::get<FeatureShape>(cat.op->op.shape).features == 3);
    CHECK(std::get<FeatureShape>(cat.op->op.shape).batch == 64);
  }
  SECTION("unknown ops and host tensors say why they have no op") {
    MapResult r = map_aten({"aten::frobnicate", {tensor_arg({4})}, ""});
    CHECK(!r.op);
    CHECK(r.why.find("aten::frobnicate") != std::string::npos);
    AtenArg host = tensor_arg({4}, "Tensor(float)");
    host.tensors[0].device = "cpu";
    CHECK(!map_aten({"aten::mul", {host, host}, ""}).op);
    CHECK(launches_no_kernel("aten::view"));
    CHECK(!launches_no_kernel("aten::mm"));
  }
}

TEST_CASE("trace: broken and unusable traces give clear errors", "[trace]") {
  TempDir dir;
  SECTION("bad JSON") {
    expect_error(dir.write("bad.json", "{\"traceEvents\": [{\"ph\": \"X\", \"cat\": "), "invalid JSON");
  }
  SECTION("truncated gzip") {
    std::string gz = read_file(kKinetoLlama);
    expect_error(dir.write("cut.json.gz", gz.substr(0, gz.size() / 2)), "truncated");
  }
  SECTION("empty file") { expect_error(dir.write("empty.json", ""), "empty"); }
  SECTION("JSON that is no known trace") { expect_error(dir.write("other.json", "{\"hello\": 1}"), "unrecognised"); }
  SECTION("ET node without an id") {
    expect_error(dir.write("et.json", R"J({"schema": "1.0.2", "nodes": [{"name": "aten::mm", "ctrl_deps": 1}]})J"),
                 "\"id\"");
  }
  SECTION("ET parents forming a cycle") {
    expect_error(dir.write("cycle.json", R"J({"schema": "1.0.2", "nodes": [
        {"id": 1, "name": "[pytorch|profiler|execution_trace|process]", "ctrl_deps": 1},
        {"id": 2, "name": "aten::a", "ctrl_deps": 3}, {"id": 3, "name": "aten::b", "ctrl_deps": 2}]})J"),
                 "cycle");
  }
  SECTION("ET with nothing but unknown ops") {
    expect_error(dir.write("unknown.json", R"J({"schema": "1.0.2", "nodes": [
        {"id": 1, "name": "aten::frobnicate", "ctrl_deps": 1,
         "inputs": {"values": [[5, 6, 0, 4, 4, "cuda:0"]], "shapes": [[4]], "types": ["Tensor(float)"]}}]})J"),
                 "nothing to simulate");
  }
  SECTION("Kineto without GPU activities") {
    expect_error(dir.write("cpu.json", R"J({"traceEvents": [{"ph": "X", "cat": "cpu_op", "name": "aten::mm",
                                        "ts": 1, "dur": 2, "pid": 1, "tid": 1}]})J"),
                 "nothing to simulate");
  }
  SECTION("Chakra file cut inside a node") {
    std::string et = read_file(kChakraAllReduce);
    expect_error(dir.write("cut.0.et", et.substr(0, et.size() - 5)), "truncated");
  }
  SECTION("Chakra file that is not protobuf") {
    // A 3-byte message whose string field claims 5 bytes.
    expect_error(dir.write("junk.et", std::string("\x03\x0a\x05" "a", 4)), "not a Chakra trace");
  }
}

TEST_CASE("trace: unknown ops are kept or reported, never dropped silently", "[trace]") {
  TempDir dir;
  // A Kineto kernel launched by an op without a mapping keeps its measured time.
  std::string kineto = R"J({"traceEvents": [
    {"ph": "X", "cat": "cpu_op", "name": "aten::frobnicate", "ts": 10, "dur": 20, "pid": 1, "tid": 1,
     "args": {"External id": 7, "Input Dims": [[16]], "Input type": ["float"]}},
    {"ph": "X", "cat": "kernel", "name": "void frob_kernel<float>(float*)", "ts": 40, "dur": 12.5, "pid": 0,
     "tid": 7, "args": {"External id": 7, "correlation": 99, "stream": 7}},
    {"ph": "X", "cat": "kernel", "ts": 60, "pid": 0, "tid": 7, "name": "no duration", "args": {}}]})J";
  TraceWorkload k = read_trace(dir.write("k.json", kineto));
  REQUIRE(k.workload.ops.size() == 1);
  CHECK(is_unmodelled(k.workload.ops[0]));
  CHECK(k.workload.ops[0].measured_us == 12.5);
  CHECK(k.stats.unmodelled_by.begin()->first.find("aten::frobnicate") != std::string::npos);
  CHECK(k.stats.skipped == 1);  // the event without ts/dur
  // An ET leaf without a mapping is skipped with its reason; the rest of the trace is kept.
  std::string et = R"J({"schema": "1.0.2", "nodes": [
    {"id": 0, "name": "[pytorch|profiler|execution_trace|thread]", "ctrl_deps": 0},
    {"id": 1, "name": "aten::frobnicate", "ctrl_deps": 0,
     "inputs": {"values": [[5, 6, 0, 4, 4, "cuda:0"]], "shapes": [[4]], "types": ["Tensor(float)"]}},
    {"id": 2, "name": "aten::mm", "ctrl_deps": 0,
     "inputs": {"values": [[7, 8, 0, 64, 4, "cuda:0"], [9, 10, 0, 64, 4, "cuda:0"]], "shapes": [[8, 8], [8, 8]],
                "types": ["Tensor(float)", "Tensor(float)"]},
     "outputs": {"values": [[11, 12, 0, 64, 4, "cuda:0"]], "shapes": [[8, 8]], "types": ["Tensor(float)"]}}]})J";
  TraceWorkload e = read_trace(dir.write("e.json", et));
  REQUIRE(e.workload.ops.size() == 1);
  CHECK(e.workload.ops[0].kind == OpKind::matmul);
  CHECK(e.stats.skipped == 1);
  std::ostringstream report;
  print_trace_report(report, e.stats);
  CHECK(report.str().find("warning: skipped 1 x aten::frobnicate") != std::string::npos);
}

TEST_CASE("trace: only the first profiler step of a Kineto trace is replayed", "[trace]") {
  TempDir dir;
  std::string kineto = R"J({"traceEvents": [
    {"ph": "X", "cat": "user_annotation", "name": "ProfilerStep#6", "ts": 100, "dur": 100, "pid": 1, "tid": 1},
    {"ph": "X", "cat": "user_annotation", "name": "ProfilerStep#5", "ts": 0, "dur": 100, "pid": 1, "tid": 1},
    {"ph": "X", "cat": "cpu_op", "name": "aten::relu", "ts": 10, "dur": 10, "pid": 1, "tid": 1,
     "args": {"External id": 1, "Input Dims": [[1024, 1024]], "Input type": ["float"]}},
    {"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "ts": 12, "dur": 3, "pid": 1, "tid": 1,
     "args": {"External id": 1, "correlation": 11}},
    {"ph": "X", "cat": "kernel", "name": "relu_kernel", "ts": 30, "dur": 5, "pid": 0, "tid": 7,
     "args": {"correlation": 11, "stream": 7}},
    {"ph": "X", "cat": "cpu_op", "name": "aten::relu", "ts": 110, "dur": 10, "pid": 1, "tid": 1,
     "args": {"External id": 2, "Input Dims": [[1024, 1024]], "Input type": ["float"]}},
    {"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "ts": 112, "dur": 3, "pid": 1, "tid": 1,
     "args": {"External id": 2, "correlation": 12}},
    {"ph": "X", "cat": "kernel", "name": "relu_kernel", "ts": 130, "dur": 5, "pid": 0, "tid": 7,
     "args": {"correlation": 12, "stream": 7}},
    {"ph": "i", "cat": "python_function", "name": "dropped while parsing", "ts": 1, "pid": 1, "tid": 1}]})J";
  TraceWorkload t = read_trace(write_gz(dir, "steps.json.gz", kineto));
  REQUIRE(t.workload.ops.size() == 1);
  // Linked through the launch's correlation id, since the kernel carries no External id itself.
  CHECK(t.workload.ops[0].name == "aten::relu");
  CHECK(std::get<ElementwiseShape>(t.workload.ops[0].shape).elements == 1024 * 1024);
  CHECK(t.workload.ops[0].measured_us == 5);
  REQUIRE(!t.stats.notes.empty());
  CHECK(t.stats.notes[0].find("step 1 of 2") != std::string::npos);
}

TEST_CASE("trace: a large Kineto trace is parsed as a stream, its unused events never held", "[trace][limits]") {
  TempDir dir;
  // 147 MB of JSON once decompressed, nearly all of it Python stack events that no reader uses, around 1,000
  // profiled relu ops (cpu op, launch, kernel). Written gzip'd in pieces, as a profiler would.
  const int filler = kSanitized ? 100000 : 400000, ops = 1000;
  const std::string path = (dir.path / "large.json.gz").string();
  gzFile g = gzopen(path.c_str(), "wb1");
  REQUIRE(g != nullptr);
  bool written = true;
  auto put = [&](const std::string& s) { written &= gzwrite(g, s.data(), unsigned(s.size())) == int(s.size()); };
  put("{\"traceEvents\": [\n");
  const std::string pad(200, 'x');
  for (int i = 0; i < ops; ++i) {
    const std::string t = std::to_string(100 * i), id = std::to_string(i + 1), corr = std::to_string(100000 + i);
    put("{\"ph\": \"X\", \"cat\": \"cpu_op\", \"name\": \"aten::relu\", \"ts\": " + t + ", \"dur\": 10, \"pid\": 1, "
        "\"tid\": 1, \"args\": {\"External id\": " + id + ", \"Input Dims\": [[1024, 1024]], \"Input type\": [\"float\"]}},\n");
    put("{\"ph\": \"X\", \"cat\": \"cuda_runtime\", \"name\": \"cudaLaunchKernel\", \"ts\": " + t + ", \"dur\": 3, "
        "\"pid\": 1, \"tid\": 1, \"args\": {\"External id\": " + id + ", \"correlation\": " + corr + "}},\n");
    put("{\"ph\": \"X\", \"cat\": \"kernel\", \"name\": \"relu_kernel\", \"ts\": " + std::to_string(100 * i + 20) +
        ", \"dur\": 5, \"pid\": 0, \"tid\": 7, \"args\": {\"correlation\": " + corr + ", \"stream\": 7}},\n");
    for (int k = 0; k < filler / ops; ++k)
      put("{\"ph\": \"X\", \"cat\": \"python_function\", \"name\": \"torch/nn/modules/module.py(1501): _call_impl " +
          pad + "\", \"ts\": " + t + ", \"dur\": 1, \"pid\": 1, \"tid\": 1, \"args\": {\"Python id\": " +
          std::to_string(k) + "}},\n");
  }
  put("{\"ph\": \"i\", \"cat\": \"python_function\", \"name\": \"end\", \"ts\": 0, \"pid\": 1, \"tid\": 1}]}\n");
  REQUIRE(gzclose(g) == Z_OK);
  REQUIRE(written);

  Run r = xpusim("replay --hw configs/h100.yaml --trace '" + path + "' -q", dir);
  INFO(r.output.substr(0, 2000));
  REQUIRE(r.status == 0);
  CHECK(r.output.find("trace: kineto, " + std::to_string(ops) + " modelled ops") != std::string::npos);
  // Measured: 18 MiB. Holding the text would take 147 MB, and the parsed events several times that.
  if (!kSanitized) CHECK(peak_child_rss_mib() < 100);
}

TEST_CASE("trace: xpusim replay prints the comparison, writes the JSON and exits 2 on bad traces", "[trace][cli]") {
  TempDir dir;
  std::string json = (dir.path / "r.json").string();
  Run ok = xpusim("replay --hw configs/h100.yaml --trace " + kKinetoDlrm + " --compare -q --json " + json, dir);
  INFO(ok.output);
  REQUIRE(ok.status == 0);
  CHECK(ok.output.find("Measured (trace) vs simulated") != std::string::npos);
  CHECK(ok.output.find("GEMM") != std::string::npos);
  CHECK(ok.output.find("total") != std::string::npos);
  nlohmann::json j = nlohmann::json::parse(read_file(json));
  CHECK(j["measured_gpu_busy_us"].get<double>() == Approx(2 * 1999.0835).epsilon(1e-4));
  CHECK(j["sim_gpu_busy_us"].get<double>() > 0);
  CHECK(j["trace"]["format"] == "kineto");
  CHECK(j["compare"]["GEMM"]["kernels"] == 28);

  Run bad = xpusim("replay --hw configs/h100.yaml --trace " + dir.write("bad.json", "{\"traceEvents\": [") + " -q", dir);
  INFO(bad.output);
  CHECK(bad.status == 2);
  CHECK(bad.output.find("bad.json") != std::string::npos);
  // A collective among 8 ranks without a measured duration cannot run on a one-device config.
  Run coll = xpusim("replay --hw configs/h100.yaml --trace " + kChakraAllReduce + " -q", dir);
  INFO(coll.output);
  CHECK(coll.status == 2);
  CHECK(coll.output.find("needs a config with a network of at least 8 devices") != std::string::npos);
}

TEST_CASE("trace: a Chakra collective replays on the config's network, refused when its group is larger", "[trace]") {
  TempDir dir;
  const std::string json = (dir.path / "r.json").string();
  Run r = xpusim("replay --hw configs/dgx-h100.yaml --trace " + kChakraAllReduce + " -q --json '" + json + "'", dir);
  INFO(r.output);
  REQUIRE(r.status == 0);
  nlohmann::json j = nlohmann::json::parse(read_file(json));
  REQUIRE(j["ops"].size() == 1);
  CHECK(j["ops"][0]["unit"] == "network");
  CHECK(j["ops"][0]["modelled"] == true);
  CHECK(j["components"]["nvlink"]["stats"]["bytes"].get<double>() > 0);
  CHECK(j["job_devices"] == 8);
  // 1 MB among 8 GPUs on NVLink4 (450 GB/s a direction): tens of microseconds, not a measured stand-in.
  CHECK(j["ops"][0]["duration_s"].get<double>() > 2e-6);
  CHECK(j["ops"][0]["duration_s"].get<double>() < 200e-6);
  // On ASTRA-sim's Ring_8npus network (50 GiB/s, 500 ns links, one-way ring) the 1 MB all-reduce takes what the
  // alpha-beta cost of the ring algorithm says: 2 (p - 1) steps of one link latency and S / p bytes.
  const std::string ring_json = (dir.path / "ring.json").string();
  Run ring = xpusim("replay --hw configs/ring-8npus.yaml --trace " + kChakraAllReduce + " -q --json '" + ring_json + "'",
                    dir);
  REQUIRE(ring.status == 0);
  const double p = 8, S = 1048576, alpha = 500e-9, beta = 1 / (50.0 * (1 << 30));
  const double ab = 2 * (p - 1) * (alpha + S / p * beta);
  CHECK(nlohmann::json::parse(read_file(ring_json))["ops"][0]["duration_s"].get<double>() == Approx(ab).epsilon(0.02));
  // Two devices cannot hold a collective among eight: both numbers are named.
  Run four = xpusim("replay --hw configs/chiplet-2die.yaml --trace " + kChakraAllReduce + " -q", dir);
  INFO(four.output);
  CHECK(four.status == 2);
  CHECK(four.output.find("needs 8 devices, but configs/chiplet-2die.yaml has 2") != std::string::npos);
}

namespace {

// Simulated / measured time per kernel class (replay_compare's classes) and in total, over the modelled kernels.
std::map<std::string, double> replay_ratios(const std::string& trace) {
  TraceWorkload t = read_trace(trace);
  nlohmann::json r = simulate_in_child(load_hardware("configs/h100.yaml"), t.workload);
  std::map<std::string, double> meas, sim;
  for (const auto& o : r.at("ops")) {
    const Op& op = t.workload.ops[o.at("index").get<size_t>()];
    if (op.measured_us < 0) continue;
    for (const std::string& c : {std::string(kernel_class(op)), std::string("total")}) {
      meas[c] += op.measured_us;
      sim[c] += o.at("duration_s").get<double>() * 1e6;
    }
  }
  std::map<std::string, double> ratio;
  for (const auto& [c, m] : meas) ratio[c] = sim[c] / m;
  std::cout << trace << " replay on h100, simulated / measured:";
  for (const auto& [c, x] : ratio) std::cout << " " << c << " " << x;
  std::cout << "\n";
  return ratio;
}

}  // namespace

TEST_CASE("trace: replay of the llama2-7b Kineto trace on h100 matches the measured kernel classes", "[trace][e2e]") {
  auto ratio = replay_ratios(kKinetoLlama);
  CHECK(ratio["total"] == Approx(1).margin(0.08));
  for (const char* c : {"GEMM", "attention", "elementwise", "norm"}) {
    INFO(c);
    CHECK(ratio[c] == Approx(1).margin(0.15));
  }
}

TEST_CASE("trace: replay of the gpt2-small Kineto trace on h100 matches the measured kernel classes", "[trace][e2e]") {
  auto ratio = replay_ratios("workloads/traces/kineto/kineto_gpt2-small_prefill_b8_s1024_kv0_L12.json.gz");
  CHECK(ratio["total"] == Approx(1).margin(0.08));
  for (const char* c : {"GEMM", "attention", "elementwise", "norm"}) {
    INFO(c);
    CHECK(ratio[c] == Approx(1).margin(0.15));
  }
}

TEST_CASE("trace: replay of the DLRMv2 Kineto trace on h100 matches the measured kernel classes", "[trace][e2e]") {
  auto ratio = replay_ratios(kKinetoDlrm);
  CHECK(ratio["total"] == Approx(1).margin(0.08));
  // The DCN cross layers' mul and add on 28 MB fp32 operands: the producer's output is mostly evicted by the
  // kernel's own traffic before it is reached.
  for (const char* c : {"GEMM", "elementwise"}) {
    INFO(c);
    CHECK(ratio[c] == Approx(1).margin(0.15));
  }
}
