// The software stack as a design axis: torch.compile's fusions, CUDA graphs and weight-only quantization, checked
// against their mechanisms and against the published gpt-fast figures on an A100 (tests/data/gpt_fast_a100.json).
#include <catch2/catch.hpp>

#include "tests/test_support.h"

#include "sim/workload/loader.h"
#include "sim/workload/stack.h"

using namespace xpu;
using namespace xpu::test;

TEST_CASE("stack: compiled fuses pointwise chains into their GEMM's epilogue and a residual add into its norm",
          "[stack]") {
  TempDir dir;
  const std::string wl = dir.write("w.yaml", R"(name: block
ops:
  - {name: up, kind: matmul, m: 512, n: 4096, k: 1024, inputs: [x, w_up]}
  - {name: gelu, kind: elementwise, variant: gelu, elements: 2097152, inputs: [up.out]}
  - {name: scale, kind: elementwise, variant: mul, elements: 2097152, inputs: [gelu.out]}
  - {name: resid, kind: elementwise, variant: add, elements: 2097152, inputs: [scale.out, skip]}
  - {name: norm, kind: norm, variant: rmsnorm, rows: 512, cols: 4096, inputs: [resid.out]}
  - {name: down, kind: matmul, m: 512, n: 1024, k: 4096, inputs: [norm.out, w_down]}
  - {name: act, kind: elementwise, variant: relu, elements: 524288, inputs: [down.out]}
  - {name: add2, kind: elementwise, variant: add, elements: 524288, inputs: [act.out, down.out]}
  - {name: norm2, kind: norm, variant: rmsnorm, rows: 512, cols: 1024, inputs: [add2.out]}
)");
  Workload eager = load_workload(wl, {});
  Workload comp = load_workload(wl, {"stack=compiled"});
  REQUIRE(eager.ops.size() == 9);
  // up+gelu+scale+resid (the GEMM's epilogue reads the skip input) | norm | down+act+add2 | norm2. down.out has two
  // readers, act and add2: once act has fused into add2 both are the same kernel, which then becomes down's epilogue.
  REQUIRE(comp.ops.size() == 4);
  CHECK(comp.ops[0].kind == OpKind::matmul);
  CHECK(comp.ops[0].name == "up+gelu+scale+resid");
  CHECK(comp.ops[0].epilogue_read_bytes == Approx(2097152 * 2.0));
  CHECK(comp.ops[0].writes.size() == 1);
  CHECK(comp.ops[0].writes[0].name == "resid.out");
  CHECK(comp.ops[1].kind == OpKind::norm);
  CHECK(comp.ops[2].name == "down+act+add2");
  CHECK(comp.ops[2].epilogue_read_bytes == 0);  // its epilogue reads only what the GEMM computes
  CHECK(comp.ops[3].kind == OpKind::norm);
  CHECK(comp.ops[3].deps == std::vector<size_t>{2});
  // up.out, gelu.out, scale.out (2,097,152 bf16 each) and down.out, act.out (524,288) stay on chip.
  CHECK(comp.fused_bytes == Approx((3 * 2097152 + 2 * 524288) * 2.0));
  CHECK(comp.eager_kernels == 9);
  // An unknown stack is an input error at the --set that named it.
  CHECK_THROWS_WITH(load_workload(wl, {"stack=jit"}), Catch::Contains("--set: error: stack 'jit': expected eager"));
}

TEST_CASE("stack: compiled never moves more HBM bytes than eager, and graphs remove the host's per-kernel cost",
          "[stack]") {
  TempDir dir;
  for (const std::string set : {"mode=prefill,batch=1,seq=1024", "mode=decode,batch=8,kv=1024",
                                "mode=train,batch=2,seq=512,layers=4"}) {
    INFO(set);
    nlohmann::json e = run_json("run --hw configs/h100.yaml -w workloads/llama2-7b.yaml --set " + set, dir);
    nlohmann::json c = run_json("run --hw configs/h100.yaml -w workloads/llama2-7b.yaml --stack compiled --set " + set, dir);
    CHECK(c["hbm_bytes"].get<double>() <= e["hbm_bytes"].get<double>() * 1.0001);
    CHECK(c["stack"]["kernels"].get<double>() < e["stack"]["kernels"].get<double>());
    CHECK(c["stack"]["eager_kernels"] == e["stack"]["kernels"]);
    CHECK(c["total_time_s"].get<double>() < e["total_time_s"].get<double>());
  }
  // Batch-1 decode is host-bound in eager mode: the device idles between kernels. As one CUDA graph the step is
  // device-bound: the time with a kernel running covers the step but for the graph launch and the device's gaps
  // between kernels.
  const std::string decode = "run --hw configs/h100.yaml -w workloads/llama2-7b.yaml --set mode=decode,batch=1,kv=256";
  nlohmann::json eager = run_json(decode, dir);
  nlohmann::json graphs = run_json(decode + " --stack graphs", dir);
  CHECK(eager["gpu_active_s"].get<double>() < 0.7 * eager["total_time_s"].get<double>());
  CHECK(graphs["gpu_active_s"].get<double>() > 0.9 * graphs["total_time_s"].get<double>());  // kernel gaps remain
  CHECK(graphs["total_time_s"].get<double>() < 0.65 * eager["total_time_s"].get<double>());
  // The what-if ranking shows the software beside the hardware.
  Run wi = xpusim("whatif --hw configs/h100.yaml -w workloads/llama2-7b.yaml --set mode=decode,batch=1,kv=256 -q", dir);
  REQUIRE(wi.status == 0);
  CHECK(wi.output.find("stack: compiled") != std::string::npos);
  CHECK(wi.output.find("stack: CUDA graphs") != std::string::npos);
}

TEST_CASE("stack: a CUDA graph's kernels follow each other without a stream's launch gap", "[stack]") {
  // The graph's own gap (host.graph_kernel_gap) sets how its kernels follow each other, not the stream's.
  TempDir dir;
  const std::string decode =
      "run --hw configs/h100.yaml -w workloads/llama2-7b.yaml --stack graphs --set mode=decode,batch=1,kv=256";
  nlohmann::json g0 = run_json(decode + " -p host.graph_kernel_gap=0us -p host.kernel_gap=3us", dir);
  nlohmann::json g1 = run_json(decode + " -p host.graph_kernel_gap=1us -p host.kernel_gap=3us", dir);
  const double kernels = g0["stack"]["kernels"].get<double>();
  REQUIRE(kernels > 100);
  // The step's kernels run one after another: each gap of 1 us adds 1 us (the last kernel's none).
  const double added = g1["total_time_s"].get<double>() - g0["total_time_s"].get<double>();
  CHECK(added == Approx((kernels - 1) * 1e-6).epsilon(0.02));
  // Without gaps the device is busy for all of the step but the graph launch before its first kernel.
  CHECK(g0["gpu_active_s"].get<double>() > 0.97 * g0["total_time_s"].get<double>());
  // A warm calibration row is a graph replay: its two kernels (eager silu, then mul) follow without the stream gap,
  // a cold row's do not.
  const std::string cases = dir.write("c.json", R"({"elementwise": [{"op": "silu_mul", "rows": 64, "cols": 4096,
    "dtype": "bfloat16", "ms_cold": 0.01, "ms_warm": 0.005}]})");
  auto sim_ms = [&](const std::string& extra) {
    const std::string out = (dir.path / "v.json").string();
    Run r = xpusim("validate --hw configs/h100.yaml --cases " + cases + " -q --out " + out + extra, dir);
    INFO(r.output);
    REQUIRE(r.status == 0);
    return nlohmann::json::parse(read_file(out))["elementwise"][0]["sim_ms"].get<double>();
  };
  const double warm0 = sim_ms(" --warm -p host.graph_kernel_gap=0us");
  const double warm1 = sim_ms(" --warm -p host.graph_kernel_gap=1us");
  CHECK((warm1 - warm0) == Approx(2e-3).epsilon(0.02));  // one gap between the kernels, one after the replayed call
  const double cold0 = sim_ms(" -p host.graph_kernel_gap=0us"), cold1 = sim_ms(" -p host.graph_kernel_gap=1us");
  CHECK(cold1 == Approx(cold0));
}

TEST_CASE("stack: weight-only int8 and int4 shrink the weights decode streams and reproduce gpt-fast on an A100",
          "[stack][validation]") {
  TempDir dir;
  nlohmann::json data = nlohmann::json::parse(read_file("tests/data/gpt_fast_a100.json"));
  // gpt-fast's own model code (tests/data/gpt_fast_a100.json: "model_code").
  const std::string base = "run --hw configs/a100.yaml -p gpu.tdp=330W -w workloads/llama2-7b-gpt-fast.yaml --set ";
  std::vector<double> sim;
  std::vector<nlohmann::json> runs;
  for (const auto& row : data["rows"]) {
    nlohmann::json r = run_json(base + row["set"].get<std::string>(), dir);
    const double tps = 1 / r["total_time_s"].get<double>();
    const double meas = row["tokens_per_s"];
    std::printf("gpt-fast A100 330 W, %-48s measured %6.1f tok/s, xpusim %6.1f (%+.1f%%)\n",
                row["name"].get<std::string>().c_str(), meas, tps, 100 * (tps / meas - 1));
    sim.push_back(tps);
    runs.push_back(r);
    // The compiled rows within 15 %. Eager is host-bound: its ~1,700 framework ops per token at the calibration
    // machine's per-op CPU costs come out faster than the blog's machine ran them (whose CPU nothing published
    // gives); held to its present error so that a change of the host model shows.
    if (row["name"] != "eager") CHECK(tps == Approx(meas).epsilon(0.15));
    else CHECK(tps == Approx(meas).epsilon(0.5));
  }
  REQUIRE(sim.size() == 4);
  for (size_t i = 1; i < sim.size(); ++i) CHECK(sim[i] > sim[i - 1]);
  // The weights: int8 halves them, int4 (group 32, a scale and a zero point per group) leaves 0.625 B a weight.
  const double w16 = runs[1]["memory"]["weights_bytes"], w8 = runs[2]["memory"]["weights_bytes"],
               w4 = runs[3]["memory"]["weights_bytes"];
  CHECK(w8 / w16 == Approx(0.5).epsilon(0.03));
  CHECK(w4 / w16 == Approx(0.3125).epsilon(0.03));
  // int4 at batch 1 streams its weights: within 2.5x of their bytes at the datasheet bandwidth.
  const double bound = runs[3]["hbm_bytes"].get<double>() / 2.039e12;
  CHECK(runs[3]["total_time_s"].get<double>() < 2.5 * bound);
  // Quantization is for inference.
  Run train = xpusim("run --hw configs/h100.yaml -w workloads/llama2-7b.yaml --set mode=train,weights=int8 -q", dir);
  CHECK(train.status == 2);
  CHECK(train.output.find("weight-only quantization is for inference") != std::string::npos);
}

TEST_CASE("stack: gpt-fast's tensor-op model code launches four times the kernels in eager and fuses back when "
          "compiled",
          "[stack]") {
  TempDir dir;
  const std::string decode = "run --hw configs/a100.yaml -w workloads/llama2-7b.yaml --set mode=decode,batch=1,kv=256,"
                             "fuse_qkv=true";
  const std::string code = ",layer_code=tensor_ops,sdpa=math";
  nlohmann::json lib = run_json(decode, dir), ops = run_json(decode + code, dir);
  nlohmann::json lib_c = run_json(decode + " --stack compiled", dir), ops_c = run_json(decode + code + " --stack compiled", dir);
  // Per layer: two RMSNorms of 8 ops, two rotary embeddings of 9, two cache writes, the math attention's 8 (no
  // grouped heads: no copies), the projections and the MLP's 6, two residual adds: 53 against the library's 13;
  // outside the layers the final norm's 7 more and the lookups of the rotary table's and the mask's rows.
  const double lib_k = lib["stack"]["kernels"], ops_k = ops["stack"]["kernels"];
  CHECK(ops_k - lib_k == 32 * (53 - 13) + 7 + 2);
  // Eager pays for every one of them on the host: at batch 1 the step is host-bound and takes far longer.
  CHECK(ops["total_time_s"].get<double>() > 2 * lib["total_time_s"].get<double>());
  CHECK(ops["gpu_active_s"].get<double>() < 0.5 * ops["total_time_s"].get<double>());
  // Compiled fuses each norm and each rotary chain back into one kernel, so the count falls to under twice the
  // library's (the math attention keeps its two batched GEMMs, its softmax and its mask), and no more bytes move
  // than eager moves.
  const double lib_ck = lib_c["stack"]["kernels"], ops_ck = ops_c["stack"]["kernels"];
  CHECK(ops_ck < 0.3 * ops_k);
  CHECK(ops_ck < 2 * lib_ck);
  CHECK(ops_c["hbm_bytes"].get<double>() <= ops["hbm_bytes"].get<double>() * 1.0001);
  CHECK(ops_c["total_time_s"].get<double>() < 1.25 * lib_c["total_time_s"].get<double>());
  // The model code is llama's; refused elsewhere, with the line that asked.
  Run gpt2 = xpusim("run --hw configs/h100.yaml -w workloads/gpt2-small.yaml --set layer_code=tensor_ops -q", dir);
  CHECK(gpt2.status == 2);
  CHECK(gpt2.output.find("layer_code tensor_ops writes llama's layers") != std::string::npos);
  Run prefill = xpusim("run --hw configs/h100.yaml -w workloads/llama2-7b.yaml --set mode=prefill,sampler=true -q", dir);
  CHECK(prefill.status == 2);
  CHECK(prefill.output.find("sampler samples the next token of a decode step") != std::string::npos);
}

TEST_CASE("host: framework calls that launch nothing cost eager host time, and compiled code has none", "[stack]") {
  TempDir dir;
  // Batch-1 decode is host-bound in eager: each layer's 8 views (q, k, v split into heads and transposed, the
  // output merged back) add 8 x view_overhead per layer to the step; compiled code makes none of those calls.
  const std::string decode = "run --hw configs/h100.yaml -w workloads/llama2-7b.yaml --set mode=decode,batch=1,kv=256";
  const double with = run_json(decode, dir)["total_time_s"];
  const double without = run_json(decode + " -p host.view_overhead=0s", dir)["total_time_s"];
  CHECK(with - without == Approx(32 * 8 * 6e-6).epsilon(0.05));
  const double c_with = run_json(decode + " --stack compiled", dir)["total_time_s"];
  const double c_without = run_json(decode + " --stack compiled -p host.view_overhead=0s", dir)["total_time_s"];
  CHECK(c_with == Approx(c_without).epsilon(1e-9));
  // An explicit workload declares them per op.
  const std::string wl = dir.write("views.yaml", R"(name: views
ops:
  - {name: a, kind: elementwise, variant: add, elements: 1024, inputs: [x, y]}
  - {name: b, kind: elementwise, variant: mul, elements: 1024, inputs: [a.out, y], host_calls: 40}
)");
  const double t0 = run_json("run --hw configs/h100.yaml -w " + wl + " -p host.view_overhead=0s", dir)["total_time_s"];
  const double t40 = run_json("run --hw configs/h100.yaml -w " + wl, dir)["total_time_s"];
  CHECK(t40 - t0 == Approx(40 * 6e-6).epsilon(0.02));
  Run bad = xpusim("run --hw configs/h100.yaml -w " + dir.write("bad.yaml", R"(name: views
ops:
  - {name: a, kind: elementwise, variant: add, elements: 1024, inputs: [x, y], host_calls: -1}
)") + " -q", dir);
  CHECK(bad.status == 2);
}
