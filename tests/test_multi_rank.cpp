// Multi-rank replay: one trace per rank, every rank on its own device, collectives matched across ranks on the
// config's network. ASTRA-sim's microbenchmarks against the alpha-beta cost of a ring, a straggler's delay passed on
// at the next collective, the errors of mismatched trace sets, and `run --chakra` round trips.
#include <catch2/catch.hpp>

#include "tests/test_support.h"

#include <filesystem>
#include <fstream>

#include "tests/chakra_support.h"

using namespace xpu::test;
namespace fs = std::filesystem;

namespace {

const std::string kChakra = "workloads/traces/chakra/";

// ASTRA-sim's Ring_8npus links, resized by configs/ring-{4,16}npus.yaml: one-way ring, 500 ns, 50 GiB/s.
const double kAlpha = 500e-9, kBeta = 1 / (50.0 * (1 << 30)), kMiB = 1048576;

// The ring algorithm's alpha-beta cost on p ranks for ASTRA-sim's comm_size S (all_gather: each rank's input).
double ring_cost(const std::string& op, double p, double S) {
  if (op == "all_reduce") return 2 * (p - 1) * (kAlpha + S / p * kBeta);
  if (op == "reduce_scatter") return (p - 1) * (kAlpha + S / p * kBeta);
  return (p - 1) * (kAlpha + S * kBeta);  // all_gather
}

// Rank files of a job whose ranks compute for `compute_us[r]` microseconds, then all-reduce 1 MiB, then compute 10 us.
void write_job(const fs::path& dir, const std::vector<uint64_t>& compute_us, int collectives = 1) {
  fs::create_directories(dir);
  for (size_t r = 0; r < compute_us.size(); ++r) {
    std::string out = varint_framed(xpu_chakra::GlobalMetadata().SerializeAsString());
    out += varint_framed(chakra_node(0, "compute", xpu_chakra::COMP_NODE, compute_us[r], {}).SerializeAsString());
    uint64_t last = 0;
    for (int c = 0; c < collectives; ++c) {
      auto ar = chakra_node(1 + c, "all_reduce", xpu_chakra::COMM_COLL_NODE, 0, {last});
      add_attr(ar, "comm_type", xpu_chakra::ALL_REDUCE);
      add_attr(ar, "comm_size", int64_t(kMiB));
      out += varint_framed(ar.SerializeAsString());
      last = 1 + c;
    }
    out += varint_framed(chakra_node(100, "tail", xpu_chakra::COMP_NODE, 10, {last}).SerializeAsString());
    std::ofstream(dir / ("job." + std::to_string(r) + ".et"), std::ios::binary) << out;
  }
}

}  // namespace

TEST_CASE("multi-rank: ASTRA-sim's microbenchmarks on 4, 8 and 16 ranks match the ring's alpha-beta cost",
          "[trace][multirank]") {
  TempDir dir;
  for (int p : {4, 8, 16})
    for (const std::string op : {"all_reduce", "all_gather", "reduce_scatter", "all_to_all"}) {
      const std::string trace = kChakra + op + "_" + std::to_string(p) + "npus_1MB";
      nlohmann::json j = run_json("replay --hw configs/ring-" + std::to_string(p) + "npus.yaml --trace " + trace, dir);
      INFO(trace);
      REQUIRE(j["ranks"].size() == size_t(p));
      REQUIRE(j["ops"].size() == size_t(p));
      // Every rank's op ran on the network, among all p ranks, and the ring's links carried it.
      for (const auto& o : j["ops"]) {
        CHECK(o["unit"] == "network");
        CHECK(o["mapping"].get<std::string>().find(op == "all_to_all" ? "direct" : "ring of " + std::to_string(p)) !=
              std::string::npos);
      }
      CHECK(j["components"]["ring_link"]["stats"]["bytes"].get<double>() > 0);
      CHECK(j["job_devices"] == p);
      if (op == "all_to_all") continue;
      const double t = j["ops"][0]["duration_s"];
      CHECK(t == Approx(ring_cost(op, p, kMiB)).epsilon(0.02));
      // No rank waits: they all reach the collective at once.
      for (const auto& r : j["ranks"]) CHECK(r["wait_s"].get<double>() == 0);
    }
}

TEST_CASE("multi-rank: ASTRA-sim's custom ring all-reduce runs its sends and receives on the ring", "[trace][multirank]") {
  TempDir dir;
  nlohmann::json j =
      run_json("replay --hw configs/ring-8npus.yaml --trace " + kChakra + "custom_ring_allreduce_8npus_1MB", dir);
  REQUIRE(j["ranks"].size() == 8);
  // 14 steps of 1/8 MiB, one link each, between the 7 reductions of 7 us that the trace times.
  const double expect = ring_cost("all_reduce", 8, kMiB) + 7 * 7e-6;
  for (const auto& r : j["ranks"]) CHECK(r["end_s"].get<double>() == Approx(expect).epsilon(0.02));
  size_t received = 0;
  for (const auto& o : j["ops"]) received += o["mapping"].get<std::string>().find("received from rank") != std::string::npos;
  CHECK(received == 8 * 14);
  CHECK(j["components"]["ring_link"]["stats"]["bytes"].get<double>() == Approx(8 * 14 * kMiB / 8));
}

TEST_CASE("multi-rank: one rank's extra compute delays the others at the next collective by exactly that much",
          "[trace][multirank]") {
  TempDir dir;
  write_job(dir.path / "even", {50, 50, 50, 50});
  write_job(dir.path / "late", {50, 50, 150, 50});
  nlohmann::json even = run_json("replay --hw configs/ring-4npus.yaml --trace '" + (dir.path / "even").string() + "'", dir);
  nlohmann::json late = run_json("replay --hw configs/ring-4npus.yaml --trace '" + (dir.path / "late").string() + "'", dir);
  REQUIRE(late["ranks"].size() == 4);
  const double straggle = 100e-6;
  CHECK(late["total_time_s"].get<double>() == Approx(even["total_time_s"].get<double>() + straggle).margin(1e-9));
  for (int r = 0; r < 4; ++r) {
    CHECK(late["ranks"][r]["end_s"].get<double>() ==
          Approx(even["ranks"][r]["end_s"].get<double>() + straggle).margin(1e-9));
    CHECK(late["ranks"][r]["wait_s"].get<double>() == Approx(r == 2 ? 0.0 : straggle).margin(1e-9));
    CHECK(even["ranks"][r]["wait_s"].get<double>() == 0);
  }
  CHECK(late["longest_wait"].get<std::string>().find("for rank 2 at 'all_reduce'") != std::string::npos);
}

TEST_CASE("multi-rank: trace sets that cannot be replayed together are refused, naming why", "[trace][multirank]") {
  TempDir dir;
  // More ranks than devices: both numbers.
  Run big = xpusim("replay --hw configs/ring-8npus.yaml --trace " + kChakra + "all_reduce_16npus_1MB -q", dir);
  CHECK(big.status == 2);
  CHECK(big.output.find("replaying 16 ranks needs a config with a network of at least 16 devices, but "
                        "configs/ring-8npus.yaml has 8") != std::string::npos);
  // --ranks that disagrees with the files given.
  Run ranks = xpusim("replay --hw configs/ring-8npus.yaml --trace " + kChakra + "all_reduce_8npus_1MB --ranks 1 -q", dir);
  CHECK(ranks.status == 2);
  CHECK(ranks.output.find("--ranks 1 but the trace set has 8 ranks' files") != std::string::npos);
  // A rank missing from the set.
  write_job(dir.path / "gap", {10, 10, 10});
  fs::remove(dir.path / "gap" / "job.1.et");
  Run gap = xpusim("replay --hw configs/ring-4npus.yaml --trace '" + (dir.path / "gap").string() + "' -q", dir);
  CHECK(gap.status == 2);
  CHECK(gap.output.find("the trace of rank 1 is missing") != std::string::npos);
  // Ranks that disagree on how many collectives they reach would hang: refused before simulating.
  write_job(dir.path / "odd", {10, 10, 10, 10});
  write_job(dir.path / "two", {10, 10, 10, 10}, 2);
  fs::copy_file(dir.path / "two" / "job.3.et", dir.path / "odd" / "job.3.et", fs::copy_options::overwrite_existing);
  Run odd = xpusim("replay --hw configs/ring-4npus.yaml --trace '" + (dir.path / "odd").string() + "' -q", dir);
  INFO(odd.output);
  CHECK(odd.status == 2);
  CHECK(odd.output.find("reaches 1 collectives of all ranks but rank 3 reaches 2") != std::string::npos);
  // A file xpusim wrote, then damaged: its op description is refused at the node, not simulated.
  {
    xpu_chakra::GlobalMetadata meta;
    auto* a = meta.add_attr();
    a->set_name("producer");
    a->set_string_val("xpusim");
    auto n = chakra_node(0, "mm", xpu_chakra::COMP_NODE, 5, {});
    for (auto [k, v] : {std::pair<const char*, const char*>{"xpu_kind", "matmul"}, {"xpu_variant", ""},
                        {"xpu_dtype", "bf16"}, {"xpu_out_dtype", "bf16"}, {"xpu_shape", "1,-64,64,64,1"},
                        {"xpu_reads", "a\t8192\nb\t8192\n"}, {"xpu_writes", "c\t8192\n"}}) {
      auto* t = n.add_attr();
      t->set_name(k);
      t->set_string_val(v);
    }
    const std::string bad = dir.write("bad.0.et", varint_framed(meta.SerializeAsString()) + varint_framed(n.SerializeAsString()));
    Run r = xpusim("replay --hw configs/h100.yaml --trace '" + bad + "' -q", dir);
    INFO(r.output);
    CHECK(r.status == 2);
    CHECK(r.output.find("node 0 ('mm'): malformed xpu_* attributes: xpu_shape holds -64") != std::string::npos);
  }
  // A glob that matches nothing.
  Run none = xpusim("replay --hw configs/ring-4npus.yaml --trace '" + (dir.path / "nothing.*.et").string() + "' -q", dir);
  CHECK(none.status == 2);
  CHECK(none.output.find("no trace file matches this pattern") != std::string::npos);
}

TEST_CASE("multi-rank: one trace replayed SPMD with --ranks, and a PyTorch ET's collectives matched by process group",
          "[trace][multirank]") {
  TempDir dir;
  nlohmann::json j = run_json(
      "replay --hw configs/ring-8npus.yaml --trace " + kChakra + "all_reduce_8npus_1MB/all_reduce.0.et --ranks 8", dir);
  REQUIRE(j["ranks"].size() == 8);
  CHECK(j["ops"][0]["duration_s"].get<double>() == Approx(ring_cost("all_reduce", 8, kMiB)).epsilon(0.02));
  // The host ET records its all_gathers with a process group and a world of 2.
  nlohmann::json et =
      run_json("replay --hw configs/dgx-h100.yaml --trace workloads/traces/pytorch_et/host_et_1.0.2.json.gz --ranks 2",
               dir);
  REQUIRE(et["ranks"].size() == 2);
  size_t on_network = 0;
  for (const auto& o : et["ops"]) on_network += o["unit"] == "network";
  CHECK(on_network == 20);
  CHECK(et["components"]["nvlink"]["stats"]["bytes"].get<double>() > 0);
}

TEST_CASE("multi-rank: run --chakra then replay of its files gives the same step", "[trace][multirank]") {
  TempDir dir;
  const std::string out = (dir.path / "et").string();
  const std::string set = "mode=train,batch=8,seq=512,layers=2,tp=4,dp=2";
  nlohmann::json run = run_json("run --hw configs/dgx-h100.yaml -w workloads/llama2-7b.yaml --set " + set +
                                    " --chakra '" + out + "'",
                                dir);
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(out)) files += e.path().extension() == ".et";
  REQUIRE(files == 8);
  nlohmann::json rep = run_json("replay --hw configs/dgx-h100.yaml --trace '" + out + "'", dir);
  REQUIRE(rep["ranks"].size() == 8);
  CHECK(rep["total_time_s"].get<double>() == Approx(run["total_time_s"].get<double>()).epsilon(0.01));
  CHECK(rep["workload"]["items"].get<double>() == run["workload"]["items"].get<double>());
  // The exported ops are re-timed by the models, not kept at the durations the files record.
  CHECK(rep["compare"]["unmodelled"]["kernels"] == 0);
  CHECK(rep["compare"]["retimed_share"].get<double>() == 1.0);
  // The kernel memo changes nothing but the wall time.
  nlohmann::json slow = run_json("replay --hw configs/dgx-h100.yaml --no-memo --trace '" + out + "'", dir);
  CHECK(slow["total_time_s"].get<double>() == Approx(rep["total_time_s"].get<double>()).epsilon(1e-9));
  CHECK(slow["energy_j"].get<double>() == Approx(rep["energy_j"].get<double>()).epsilon(1e-9));
  CHECK(slow["components"]["hbm"]["stats"]["bytes_read"].get<double>() ==
        Approx(rep["components"]["hbm"]["stats"]["bytes_read"].get<double>()).epsilon(1e-9));
  // What the run's stack and weight quantization did travels with the files: a CUDA-graph int4 decode round trips.
  const std::string q = (dir.path / "q").string();
  nlohmann::json qrun = run_json("run --hw configs/dgx-h100.yaml -w workloads/llama2-7b.yaml --stack graphs --set "
                                 "mode=decode,batch=8,kv=512,layers=4,tp=8,weights=int4,weight_group=32 --chakra '" + q + "'",
                                 dir);
  nlohmann::json qrep = run_json("replay --hw configs/dgx-h100.yaml --trace '" + q + "'", dir);
  CHECK(qrep["total_time_s"].get<double>() == Approx(qrun["total_time_s"].get<double>()).epsilon(0.01));
  CHECK(qrep["hbm_bytes"].get<double>() == Approx(qrun["hbm_bytes"].get<double>()).epsilon(0.01));
  // On another config the same files are re-timed: a slower memory makes the step slower.
  nlohmann::json lean = run_json("replay --hw configs/dgx-h100.yaml -p hbm.bandwidth='1 TB/s' --trace '" + out + "'", dir);
  CHECK(lean["total_time_s"].get<double>() > 1.2 * rep["total_time_s"].get<double>());
}

TEST_CASE("kernel memo: a run of repeated layers gives the same answer with and without it", "[memo]") {
  TempDir dir;
  for (const std::string set : {"mode=prefill,batch=1,seq=1024,layers=6", "mode=train,batch=2,seq=512,layers=3"}) {
    INFO(set);
    nlohmann::json memo = run_json("run --hw configs/h100.yaml -w workloads/llama2-7b.yaml --set " + set, dir);
    nlohmann::json full = run_json("run --hw configs/h100.yaml -w workloads/llama2-7b.yaml --no-memo --set " + set, dir);
    CHECK(memo["simulation"]["events"].get<double>() < 0.5 * full["simulation"]["events"].get<double>());
    for (const char* k : {"total_time_s", "energy_j", "hbm_bytes", "gpu_busy_s"})
      CHECK(memo[k].get<double>() == Approx(full[k].get<double>()).epsilon(1e-9));
    for (const auto& [name, c] : full["components"].items())
      for (const auto& [stat, v] : c["stats"].items())
        CHECK(memo["components"][name]["stats"][stat].get<double>() == Approx(v.get<double>()).epsilon(1e-9).margin(1e-12));
    CHECK(memo["clock_hz"]["sustained"].get<double>() == Approx(full["clock_hz"]["sustained"].get<double>()).epsilon(1e-9));
  }
}
