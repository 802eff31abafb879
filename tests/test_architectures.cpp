// Non-GPU architectures: the TPU v4-like chip (systolic MXUs, CMEM, HBM2, ICI torus) and the wafer-scale engine
// (coarse-grained cores, on-wafer SRAM, a 2-D mesh fabric, weights streamed from an external memory). Each check
// holds a config to a published figure or the model to the physics it claims.
#include <catch2/catch.hpp>

#include "models/mappers/mapper.h"
#include "models/noc.h"
#include "sim/config/hardware.h"
#include "sim/engine/isolated_run.h"
#include "sim/config/registry.h"
#include "sim/workload/footprint.h"
#include "sim/workload/loader.h"

using namespace xpu;

namespace {

const ComponentSpec& component(const HardwareConfig& hw, const std::string& name) {
  int i = hw.index_of(name);
  REQUIRE(i >= 0);
  return hw.components[size_t(i)];
}

const ComponentSpec& first_of_type(const HardwareConfig& hw, const std::string& type) {
  for (const auto& c : hw.components)
    if (c.type == type) return c;
  FAIL("no component of type " + type);
  return hw.components.front();
}

Workload ops(const std::string& yaml, const std::vector<std::string>& sets = {}) {
  return parse_workload(parse_yaml(yaml, "test-workload.yaml"), "test-workload.yaml", sets);
}

double op_time(const nlohmann::json& r, size_t i) { return r.at("ops").at(i).at("duration_s").get<double>(); }

// Sum of the matrix work of every tile of a matmul as the gemm mapper lowers it on `u`.
double mapped_matrix_flops(const UnitInfo& u, int64_t m, int64_t n, int64_t k) {
  Op op;
  op.name = "mm";
  op.kind = OpKind::matmul;
  op.shape = MatmulShape{1, m, n, k, true};
  op.reads = {{"a", m * k * 2.0}, {"b", k * n * 2.0}};
  op.writes = {{"c", m * n * 2.0}};
  MapContext ctx{u, nullptr};
  const MapperFn* map = MapperRegistry::instance().find(OpKind::matmul);
  REQUIRE(map);
  auto kernel = (*map)(op, ctx);
  double flops = 0;
  for (uint64_t i = 0; i < kernel->num_tiles; ++i) {
    TileWork w;
    kernel->tile(i, w);
    flops += w.matrix_flops;
  }
  return flops;
}

// One TPU v4 MXU as the mapper sees it (tpu-like.yaml).
UnitInfo mxu(int64_t systolic) {
  UnitInfo u;
  u.units = 8;
  u.max_tiles_per_unit = 2;
  u.clock_hz = 1.05e9;
  u.local_memory = 4 * 1024 * 1024;
  u.load_bw_per_unit = 512 * 1.05e9;
  u.cache_capacity = 120e6;
  u.cache_bw = 4e12;
  u.mem_bw = 1.2e12;
  u.gemm_schedule = "data_parallel";
  u.matrix_rate = [](DType) { return 32768 * 1.05e9 * 0.9; };
  u.vector_rate = [](DType) { return 512 * 1.05e9; };
  u.systolic_rows = u.systolic_cols = systolic;
  return u;
}

}  // namespace

TEST_CASE("tpu-like: 8 MXUs of 128x128 at 1.05 GHz give the published 275 TFLOP/s bf16", "[architectures][tpu]") {
  HardwareConfig hw = load_hardware("configs/tpu-like.yaml");
  const ComponentSpec& core = first_of_type(hw, "compute_core");
  const double peak = double(core.params.count("units")) * core.params.dmap("matrix_flops_per_clk").at("bf16") *
                      core.params.qty("clock");
  CHECK(peak == Approx(275e12).epsilon(0.01));
  CHECK(core.params.count("units") == 8);  // the unit is an MXU
  CHECK(core.params.list("systolic_array") == std::vector<double>{128, 128});
  // A large square GEMM: never above the datasheet peak, and a systolic array that is kept full gets close to it.
  auto r = simulate_in_child(hw, ops("name: big gemm\nops:\n  - {name: mm, kind: matmul, m: 8192, n: 8192, k: 8192}\n"));
  const double achieved = 2.0 * 8192.0 * 8192.0 * 8192.0 / op_time(r, 0);
  CHECK(r.at("peak_flops").get<double>() == Approx(peak).epsilon(1e-9));
  CHECK(achieved <= peak);
  CHECK(achieved >= 0.8 * peak);
}

TEST_CASE("gemm on a systolic array: K and N pad to the array, a block costs at least its depth in rows",
          "[architectures][tpu][gemm]") {
  UnitInfo sys = mxu(128);
  // N = 129 needs two 128-wide column blocks: the work of N = 256, twice that of N = 128. Likewise K.
  CHECK(mapped_matrix_flops(sys, 1024, 129, 1024) == Approx(mapped_matrix_flops(sys, 1024, 256, 1024)));
  CHECK(mapped_matrix_flops(sys, 1024, 129, 1024) == Approx(2 * mapped_matrix_flops(sys, 1024, 128, 1024)));
  CHECK(mapped_matrix_flops(sys, 1024, 1024, 129) == Approx(mapped_matrix_flops(sys, 1024, 1024, 256)));
  // Rows stream through the array: 129 rows cost 129/128 of 128 rows, not a second block...
  CHECK(mapped_matrix_flops(sys, 129, 1024, 1024) == Approx(129.0 / 128 * mapped_matrix_flops(sys, 128, 1024, 1024)));
  // ...but fewer rows than the array is deep cost a whole block (loading the next weights takes 128 cycles).
  CHECK(mapped_matrix_flops(sys, 16, 1024, 1024) == Approx(mapped_matrix_flops(sys, 128, 1024, 1024)));
  // GPU tiles (no array) are computed whole: 129 rows cost a second tile, not one more streamed row.
  UnitInfo gpu = mxu(0);
  CHECK(mapped_matrix_flops(gpu, 129, 1024, 1024) > 1.4 * mapped_matrix_flops(gpu, 128, 1024, 1024));
}

TEST_CASE("tpu-like: a 129-wide matmul takes as long as a 256-wide one", "[architectures][tpu][gemm]") {
  // A (8192 x 4096, 67 MB) starts in CMEM, so the MXUs, not HBM, set the pace (TPU v4's HBM ridge point is
  // ~230 FLOP/byte: a 129-wide matmul from HBM would be memory-bound whatever the padding).
  HardwareConfig hw = load_hardware("configs/tpu-like.yaml");
  RunOptions warm;
  warm.warm_inputs = true;
  auto mm = [&](int n) {
    return op_time(simulate_in_child(hw, ops("name: n\nops:\n  - {name: mm, kind: matmul, m: 8192, k: 4096, n: " +
                                             std::to_string(n) + "}\n"), warm), 0);
  };
  double t128 = mm(128), t129 = mm(129), t256 = mm(256);
  CHECK(t129 == Approx(t256).epsilon(0.05));
  CHECK(t129 > 1.6 * t128);
}

TEST_CASE("tpu-like: Llama-2-7B decode at batch 16 streams weights and KV cache at close to 1.2 TB/s",
          "[architectures][tpu]") {
  HardwareConfig hw = load_hardware("configs/tpu-like.yaml");
  Workload wl = load_workload("workloads/llama2-7b.yaml", {"mode=decode", "batch=16", "kv=2048"});
  Footprint f = memory_footprint(wl);
  const double floor_s = (f.weights + f.kv_cache) / 1.2e12;  // every weight and cached K/V read once at peak
  auto r = simulate_in_child(hw, wl);
  const double t = r.at("total_time_s").get<double>();
  CHECK(t >= floor_s);
  CHECK(t <= 1.25 * floor_s);
  CHECK(r.at("achieved_hbm_GBps").get<double>() >= 0.8 * 1200);
}

TEST_CASE("tpu-torus-256 is 256 tpu-like chips on a 4x8x8 torus of ici links", "[architectures][tpu]") {
  HardwareConfig base = load_hardware("configs/tpu-like.yaml");
  HardwareConfig pod = load_hardware("configs/tpu-torus-256.yaml");
  CHECK(base.network.devices == 64);
  CHECK(pod.network.devices == 256);
  CHECK(component(pod, "ici").type == "link");
  const ComponentSpec& core = first_of_type(pod, "compute_core");
  CHECK(core.params.count("units") == 8);
  CHECK(core.params.list("systolic_array") == std::vector<double>{128, 128});
  CHECK(first_of_type(pod, "hbm").params.qty("bandwidth") == Approx(1.2e12));
}

TEST_CASE("wafer-scale: no HBM, 44 GB of on-wafer SRAM, weights over the 150 GB/s system I/O",
          "[architectures][wafer]") {
  HardwareConfig hw = load_hardware("configs/wafer-scale.yaml");
  CHECK(hw.index_of("hbm") < 0);
  const ComponentSpec& sram = first_of_type(hw, "sram");
  CHECK(sram.params.qty("capacity") == Approx(44e9));
  CHECK(sram.params.qty("bandwidth") == Approx(21e15));
  const ComponentSpec& ext = component(hw, "memoryx");
  CHECK(ext.params.qty("bandwidth") == Approx(150e9));  // 12 x 100 GbE
  CHECK(ext.params.qty("capacity") >= 1.2e12);
  // The coarse units add up to the wafer: ~900k cores' worth of local memory and dense rate.
  const ComponentSpec& core = first_of_type(hw, "compute_core");
  const double units = double(core.params.count("units"));
  CHECK(units * core.params.qty("local_memory") == Approx(44e9).epsilon(0.02));
  CHECK(units * core.params.real("load_bytes_per_clk") * core.params.qty("clock") == Approx(21e15).epsilon(0.01));
  const double dense = units * core.params.dmap("matrix_flops_per_clk").at("fp16") * core.params.qty("clock");
  CHECK(dense == Approx(900e3 * 16 * 1.1e9).epsilon(0.01));
  CHECK(dense < 125e15 / 4);  // the marketing 125 PFLOP/s counts sparsity; the dense rate is far below it
}

TEST_CASE("wafer-scale: a weight-streaming decode step takes at least weight bytes / external bandwidth",
          "[architectures][wafer]") {
  HardwareConfig hw = load_hardware("configs/wafer-scale.yaml");
  Workload wl = load_workload("workloads/llama2-7b.yaml", {"mode=decode", "batch=16", "kv=2048", "layers=4"});
  Footprint f = memory_footprint(wl);
  auto r = simulate_in_child(hw, wl);
  const double t = r.at("total_time_s").get<double>();
  CHECK(t >= f.weights / 150e9);
  CHECK(t >= (f.weights + f.kv_cache) / 150e9);  // cold: the cached K/V come in over the same I/O
  CHECK(t <= 1.25 * (f.weights + f.kv_cache) / 150e9);
  // Activations stay on the wafer: nothing is written out to the external memory.
  const auto& stats = r.at("components").at("memoryx").at("stats");
  CHECK(stats.at("bytes_written").get<double>() == 0);
  CHECK(stats.at("bytes_read").get<double>() >= f.weights);
}

TEST_CASE("noc mesh: bisection bandwidth, neighbour bandwidth and mean hops of a 2-D mesh", "[architectures][noc]") {
  auto spec = Registry::instance().find("noc");
  REQUIRE(spec);
  auto noc = [&](const std::string& yaml) {
    ConfigNode n = parse_yaml(yaml, "noc.yaml");
    return validate_params("n", "noc", n, spec->params, {});
  };
  // 4 x 4 routers, 10 GB/s links: uniform traffic crosses a middle cut of 4 links each way with a quarter of all
  // bytes each way -> 160 GB/s; every one of the 48 directed links busy -> 480 GB/s; mean hops 2 x 15/12 = 2.5.
  MeshDerivation d = derive_mesh(4, 4, 10e9, false);
  CHECK(d.bisection_bandwidth == Approx(160e9));
  CHECK(d.link_sum_bandwidth == Approx(480e9));
  CHECK(d.uniform_hops == Approx(2.5));
  CHECK(d.bandwidth == Approx(160e9));
  // Odd sizes: the share crossing a cut of k routers is floor(k/2) ceil(k/2) / k^2.
  CHECK(derive_mesh(3, 5, 1e9, false).bisection_bandwidth == Approx(3e9 / (6.0 / 25)));
  CHECK(derive_mesh(4, 4, 10e9, true).bandwidth == Approx(480e9));

  NocModule uniform("uniform", noc("{mesh: [4, 4], link_bandwidth: 10 GB/s, hop_latency: 2 ns, latency: 5 ns}"));
  CHECK(uniform.peak_bandwidth() == Approx(160e9));
  CHECK(uniform.latency_ps() == 5000 + 5000);  // 5 ns + 2.5 hops x 2 ns
  NocModule near("near", noc("{mesh: [4, 4], link_bandwidth: 10 GB/s, hop_latency: 2 ns, latency: 5 ns, "
                             "traffic: neighbour}"));
  CHECK(near.peak_bandwidth() == Approx(480e9));
  CHECK(near.latency_ps() == 7000);
  // Placed traffic rides the neighbour links; random gathers still cross the bisection (3x the occupancy here).
  uint64_t streamed = near.transfer(0, 1e6, Access::stream, false);
  uint64_t gathered = near.transfer(streamed, 1e6, Access::random, false) - streamed;
  CHECK(double(gathered) == Approx(3.0 * double(streamed)).epsilon(1e-3));

  // Without a mesh the crossbar keeps its given bandwidth; bandwidth and mesh together, or neither, are errors.
  NocModule xbar("xbar", noc("{bandwidth: 12 TB/s, latency: 20 ns}"));
  CHECK(xbar.peak_bandwidth() == Approx(12e12));
  CHECK(xbar.latency_ps() == 20000);
  CHECK_THROWS_WITH(NocModule("both", noc("{bandwidth: 1 TB/s, mesh: [2, 2], link_bandwidth: 1 GB/s}")),
                    Catch::Contains("either bandwidth or mesh"));
  CHECK_THROWS_WITH(NocModule("neither", noc("{latency: 1 ns}")), Catch::Contains("missing required parameter"));
  CHECK_THROWS_WITH(noc("{mesh: [4], link_bandwidth: 1 GB/s}"), Catch::Contains("expected 2 integers"));
}

TEST_CASE("wafer-scale: the fabric's mesh reproduces the published 214 Pb/s", "[architectures][wafer][noc]") {
  HardwareConfig hw = load_hardware("configs/wafer-scale.yaml");
  const ComponentSpec& fabric = first_of_type(hw, "noc");
  const auto& mesh = fabric.params.list("mesh");
  REQUIRE(mesh.size() == 2);
  CHECK(mesh[0] * mesh[1] == Approx(900e3).epsilon(0.01));  // one router per core
  MeshDerivation d = derive_mesh(mesh[0], mesh[1], fabric.params.qty("link_bandwidth"), true);
  CHECK(d.link_sum_bandwidth * 8 == Approx(214e15).epsilon(0.01));
  // Uniform traffic would be held to the bisection, three orders of magnitude below.
  CHECK(d.bisection_bandwidth == Approx(4 * 949 * 7.43e9).epsilon(0.01));
  CHECK(d.bisection_bandwidth < d.link_sum_bandwidth / 500);
}

TEST_CASE("h100 --warm: a replayed GEMV finds its weight in the L2 only when the whole footprint fits",
          "[architectures][sram]") {
  // A replay loop is a cyclic stream over the run's footprint: under LRU one larger than the 45 MB the L2 holds
  // finds nothing (the calibration file's 100 MB GEMVs replay at ~2.8 TB/s, its 34 MB ones at L2 speed).
  HardwareConfig hw = load_hardware("configs/h100.yaml");
  RunOptions warm;
  warm.warm_inputs = true;
  auto gemv = [&](int n) {
    return op_time(simulate_in_child(hw, ops("name: g\nops:\n  - {name: mm, kind: matmul, m: 1, k: 4096, n: " +
                                             std::to_string(n) + "}\n"), warm), 0);
  };
  const double hbm = 3.35e12, fits = 4096.0 * 4096 * 2, spills = 4096.0 * 12288 * 2;
  const double t_fits = gemv(4096), t_spills = gemv(12288);
  CHECK(t_fits < fits / hbm);                            // from the L2, launch included, faster than HBM's peak
  CHECK(t_spills > spills / hbm);                        // every byte from HBM: nothing of 100 MB survives a pass
  CHECK(t_fits / fits < 0.75 * (t_spills / spills));
}
