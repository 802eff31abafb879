// The flow engine (collectives.engine: flow): max-min fair sharing from first principles, the same collectives as the
// exact chunk engine within 3 % on ring, torus, rail, fat-tree and NVSwitch networks of 8 to 1,024 devices with
// concurrent groups contending, identical link-disjoint groups simulated once with their energy counted for all, the
// three-tier SuperPOD fabric's published switch and cable counts, and the 405B step on 16,384 GPUs.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

#include "sim/config/hardware.h"
#include "sim/network/max_min.h"
#include "tests/test_support.h"

namespace fs = std::filesystem;
using namespace xpu;
using namespace xpu::test;

namespace {

std::string repo_path(const std::string& rel) { return fs::absolute(rel).lexically_normal().string(); }

// `base` with `network:` replaced by `net` and the collectives' engine set (one file per engine).
std::string with_engine(const TempDir& dir, const std::string& tag, const std::string& base, const std::string& net,
                        const std::string& engine) {
  return dir.write(tag + "-" + engine + ".yaml", "extends: " + repo_path(base) + "\nnetwork:\n" + net +
                                                     "  collectives: {engine: " + engine + "}\n");
}

double time_of(const std::string& args, const TempDir& dir, const std::string& tag, std::string* header = nullptr) {
  const std::string json = (dir.path / (tag + ".json")).string();
  Run r = xpusim("collective " + args + " --json '" + json + "'", dir);
  INFO("xpusim collective " << args << "\n" << r.output);
  REQUIRE(r.status == 0);
  if (header) *header = r.output;
  auto j = nlohmann::json::parse(read_file(json));
  REQUIRE(j["rows"].size() == 1);
  return j["rows"].back()["time_s"].get<double>();
}

}  // namespace

TEST_CASE("flow engine: max-min fair rates from progressive filling", "[flow]") {
  MaxMinFlows m;
  m.set_capacity(0, 100);  // link A
  m.set_capacity(1, 60);   // link B
  // Flow 0 crosses A and B, flow 1 only A, flow 2 only B: B fills first at 30 each for flows 0 and 2, then flow 1
  // takes what A has left (70). The textbook example of max-min fairness.
  const uint32_t f0 = m.add({{0, 1.0}, {1, 1.0}});
  const uint32_t f1 = m.add({{0, 1.0}});
  const uint32_t f2 = m.add({{1, 1.0}});
  m.solve();
  CHECK(m.rate(f0) == Approx(30));
  CHECK(m.rate(f2) == Approx(30));
  CHECK(m.rate(f1) == Approx(70));
  // A flow that puts two bytes on a link per unit (two streams of a ring over one link) gets half the units.
  m.remove(f2);
  m.remove(f1);
  const uint32_t f3 = m.add({{1, 2.0}});
  m.solve();
  CHECK(m.rate(f0) == Approx(20));
  CHECK(m.rate(f3) == Approx(20));
  // A flow limited by its own pipeline (window / (latency + serialisation) = 10) leaves the rest to the others.
  m.remove(f3);
  MaxMinFlows::Pipeline slow;
  slow.window = 10;
  slow.latency = 0.5;
  slow.serial = 0.5;
  const uint32_t f4 = m.add({{1, 1.0}}, slow);
  m.solve();
  CHECK(m.rate(f4) == Approx(10));
  CHECK(m.rate(f0) == Approx(50));
  CHECK(m.active() == 2);
}

TEST_CASE("flow engine: collectives within 3 % of the chunk engine, 8 to 1,024 devices, with contention", "[flow]") {
  TempDir dir;
  const std::string nvl =
      "    - {name: nvlink, topology: switched, group: 8, link: nvlink, switch: nvswitch, switches: 4, lanes: [5, 5, 4, "
      "4]}\n";
  struct Case {
    std::string tag, base, net, args;
  };
  const std::vector<Case> cases = {
      {"ring64", "configs/ring-16npus.yaml", "  devices: 64\n  tiers:\n    - {name: ring, topology: ring, group: 64, "
                                             "link: ring_link}\n", "--op all_reduce --sizes 256MiB:256MiB"},
      {"torus256", "configs/tpu-torus-256.yaml", "", "--op all_reduce --sizes 256MiB:256MiB"},
      {"torus256-groups", "configs/tpu-torus-256.yaml", "", "--op all_reduce --sizes 256MiB:256MiB -g 4"},
      {"dgx-nvls", "configs/dgx-h100.yaml", "", "--op all_reduce --sizes 256MiB:256MiB"},
      {"rail64-rings", "configs/h100-cluster-64.yaml", "", "--op all_reduce --sizes 256MiB:256MiB"},
      // Mid-size: a ring step is one chunk and the rings' chunks meet on the NVLink planes at every step.
      {"rail64-rings-32MiB", "configs/h100-cluster-64.yaml", "", "--op all_reduce --sizes 32MiB:32MiB"},
      {"rail64-hier-gather-32MiB", "configs/h100-cluster-64.yaml", "",
       "--op all_gather --sizes 32MiB:32MiB --algorithm hierarchical"},
      {"rail64-8-groups-1MiB", "configs/h100-cluster-64.yaml", "", "--op all_reduce --sizes 1MiB:1MiB -g 8 --stride 8"},
      {"rail64-tree", "configs/h100-cluster-64.yaml", "", "--op all_reduce --sizes 256MiB:256MiB --algorithm tree"},
      {"rail64-8-groups", "configs/h100-cluster-64.yaml", "", "--op all_reduce --sizes 256MiB:256MiB -g 8 --stride 8"},
      {"rail64-all-to-all", "configs/h100-cluster-64.yaml", "", "--op all_to_all --sizes 256MiB:256MiB"},
      {"rail64-broadcast", "configs/h100-cluster-64.yaml", "", "--op broadcast --sizes 256MiB:256MiB"},
      {"fattree256-8-groups", "configs/h100-cluster-64.yaml",
       "  devices: 256\n  tiers:\n" + nvl + "    - {name: ib, topology: fat_tree, group: 256, link: ib, switch: "
                                            "ibswitch, radix: 64}\n",
       "--op all_reduce --sizes 256MiB:256MiB -g 32 --stride 8"},
      {"rail1024-fat-tree", "configs/h100-cluster-64.yaml",
       "  devices: 1024\n  tiers:\n" + nvl + "    - {name: ib, topology: rail, group: 1024, link: ib, switch: "
                                             "ibswitch, radix: 64}\n",
       "--op all_reduce --sizes 64MiB:64MiB --algorithm hierarchical"},
      {"rail1024-128-groups", "configs/h100-cluster-64.yaml",
       "  devices: 1024\n  tiers:\n" + nvl + "    - {name: ib, topology: rail, group: 1024, link: ib, switch: "
                                             "ibswitch, radix: 64}\n",
       "--op all_reduce --sizes 64MiB:64MiB -g 128 --stride 8"},
  };
  for (const auto& c : cases) {
    // A case without its own network keeps the base config's and only sets the engine.
    auto config = [&](const std::string& engine) {
      if (!c.net.empty()) return with_engine(dir, c.tag, c.base, c.net, engine);
      return dir.write(c.tag + "-" + engine + ".yaml", "extends: " + repo_path(c.base) +
                                                           "\nnetwork:\n  collectives: {engine: " + engine + "}\n");
    };
    std::string header;
    const double chunk = time_of("--hw '" + config("chunk") + "' " + c.args, dir, c.tag + "-chunk");
    const double flow = time_of("--hw '" + config("flow") + "' " + c.args, dir, c.tag + "-flow", &header);
    INFO(c.tag << ": chunk " << chunk * 1e6 << " us, flow " << flow * 1e6 << " us");
    CHECK(header.find("flow engine") != std::string::npos);
    CHECK(flow == Approx(chunk).epsilon(0.03));
  }
}

TEST_CASE("flow engine: identical link-disjoint groups simulated once, their traffic counted for all", "[flow]") {
  TempDir dir;
  // 128 nodes: a tensor-parallel all-reduce runs in every node at once, each group on its own NVSwitches.
  const std::string net =
      "  devices: 1024\n  tiers:\n    - {name: nvlink, topology: switched, group: 8, link: nvlink, switch: nvswitch, "
      "switches: 4, lanes: [5, 5, 4, 4]}\n    - {name: ib, topology: rail, group: 1024, link: ib, switch: ibswitch, "
      "radix: 64}\n";
  const std::string wl = dir.write("tp.yaml",
                                   "name: tp all-reduce\nops:\n"
                                   "  - {name: ar, kind: collective, op: all_reduce, bytes: 256 MiB, group: 8}\n");
  auto run = [&](const std::string& engine) {
    const std::string hw = with_engine(dir, "tp1024", "configs/h100-cluster-64.yaml", net, engine);
    const std::string json = (dir.path / ("tp-" + engine + ".json")).string();
    Run r = xpusim("run --hw '" + hw + "' -w '" + wl + "' -q --top 0 --json '" + json + "'", dir);
    INFO(r.output);
    REQUIRE(r.status == 0);
    return nlohmann::json::parse(read_file(json));
  };
  auto chunk = run("chunk"), flow = run("flow");
  auto op = [](const nlohmann::json& r) { return r["ops"][0]; };
  CHECK(op(flow)["mapping"].get<std::string>().find("one simulated") != std::string::npos);
  CHECK(op(chunk)["mapping"].get<std::string>().find("one simulated") == std::string::npos);
  CHECK(op(flow)["duration_s"].get<double>() == Approx(op(chunk)["duration_s"].get<double>()).epsilon(0.03));
  // Every node's NVLink traffic is in the energy, not only the simulated group's.
  const double e_chunk = chunk["components"]["nvlink"]["energy_dynamic_j"].get<double>();
  const double e_flow = flow["components"]["nvlink"]["energy_dynamic_j"].get<double>();
  CHECK(e_chunk > 0);
  CHECK(e_flow == Approx(e_chunk).epsilon(0.01));
}

TEST_CASE("flow engine: the 16,384-GPU SuperPOD fabric has the published switch and cable counts", "[flow]") {
  TempDir dir;
  // A data-parallel all-reduce across all 2,048 nodes (one rank per node on each rail, ring of rings) after a
  // tensor-parallel one inside every node.
  const std::string wl = dir.write("dp.yaml",
                                   "name: tp and dp all-reduce\nops:\n"
                                   "  - {name: tp, kind: collective, op: all_reduce, bytes: 64 MiB, group: 8}\n"
                                   "  - {name: dp, kind: collective, op: all_reduce, bytes: 64 MiB, group: 16384}\n");
  const std::string json = (dir.path / "16k.json").string();
  Run r = xpusim("run --hw configs/h100-cluster-16k.yaml -w '" + wl + "' -q --top 0 --json '" + json + "'", dir);
  INFO(r.output);
  REQUIRE(r.status == 0);
  auto j = nlohmann::json::parse(read_file(json));
  const double T = j["total_time_s"].get<double>();
  // Static power counts every instance: 700 W per Quantum-2 switch, 15 W of optics per NDR cable.
  const double switches = j["components"]["ibswitch"]["energy_static_j"].get<double>() / (700 * T);
  const double cables = j["components"]["ib"]["energy_static_j"].get<double>() / (15 * T);
  CHECK(switches == Approx(512 + 512 + 256));  // leaf, spine, core at 64 scalable units
  CHECK(cables == Approx(3 * 16384));          // node-leaf, leaf-spine, spine-core
  for (const auto& op : j["ops"]) {
    INFO(op["name"] << ": " << op["mapping"]);
    CHECK(op["mapping"].get<std::string>().find("flow engine") != std::string::npos);  // auto at 16,384 devices
  }
  // The all-reduce across nodes is limited by the 400 Gb/s NICs: it takes longer than the one inside the nodes.
  CHECK(j["ops"][1]["duration_s"].get<double>() > j["ops"][0]["duration_s"].get<double>());
  // The torus counterpart loads with its 16 x 32 x 32 shape.
  HardwareConfig torus = load_hardware("configs/tpu-torus-16k.yaml");
  CHECK(torus.network.devices == 16384);
  CHECK(torus.network.tiers.at(0).dims == std::vector<int64_t>{16, 32, 32});
}

TEST_CASE("flow engine: a training step reports its communication by class and what no kernel hides", "[flow]") {
  TempDir dir;
  const std::string json = (dir.path / "train.json").string();
  Run r = xpusim("run --hw configs/h100-cluster-64.yaml -w workloads/llama2-70b.yaml --set "
                 "mode=train,batch=8,seq=1024,layers=8,tp=8,pp=4,dp=2,microbatches=4 --no-memory-check --top 0 "
                 "--json '" + json + "'",
                 dir);
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(r.output.find("by class") != std::string::npos);
  auto c = nlohmann::json::parse(read_file(json))["communication"];
  for (const char* k : {"tensor_parallel", "pipeline", "data_parallel"}) {
    INFO(k);
    REQUIRE(c["by_class"].contains(k));
    CHECK(c["by_class"][k]["time_s"].get<double>() > 0);
  }
  CHECK(c["exposed_s"].get<double>() >= 0);
  CHECK(c["exposed_s"].get<double>() <= c["in_flight_s"].get<double>() * (1 + 1e-9));
}
