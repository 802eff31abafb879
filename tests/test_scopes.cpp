// Figures that say what they cover (issue 18, items 1, 3, 4, 5): whole-job energy per token under data parallelism,
// busy time that overlapping streams cannot push past the run, a pipeline bubble that is idle time and not a
// collective, and network switches whose busy share follows the traffic they carry.
#include "test_support.h"

using namespace xpu::test;

namespace {

double per_item_j(const nlohmann::json& r) { return r["energy_j"].get<double>() / r["workload"]["items"].get<double>(); }

}  // namespace

TEST_CASE("scopes: energy per token counts every replica's tokens, and idle devices are not charged", "[scopes]") {
  TempDir dir;
  const std::string wl = "-w workloads/llama2-7b.yaml --set mode=train,batch=8,seq=1024,layers=2";
  auto one = run_json("run --hw configs/h100.yaml " + wl, dir);
  auto dp8 = run_json("run --hw configs/dgx-h100.yaml " + wl + ",dp=8", dir);
  auto dp1 = run_json("run --hw configs/dgx-h100.yaml " + wl, dir);
  // Eight replicas make eight times the tokens for about eight times the energy: per token within the all-reduce and
  // the NVSwitches' share, not 8x.
  CHECK(dp8["workload"]["replicas"] == 8);
  CHECK(dp8["workload"]["items"].get<double>() == Approx(8 * one["workload"]["items"].get<double>()));
  CHECK(per_item_j(dp8) < 1.3 * per_item_j(one));
  CHECK(per_item_j(dp8) > per_item_j(one));
  CHECK(dp8["throughput_items_per_s"].get<double>() > 7 * one["throughput_items_per_s"].get<double>());
  // One replica on an eight-GPU system runs on one GPU: the other seven are not in the job's energy.
  CHECK(dp1["job_devices"] == 1);
  CHECK(dp1["devices"] == 8);
  CHECK(dp1["components"]["gpu"]["energy_dynamic_j"].get<double>() ==
        Approx(one["components"]["gpu"]["energy_dynamic_j"].get<double>()).epsilon(0.01));
  CHECK(dp1["energy_j"].get<double>() < 2 * one["energy_j"].get<double>());
  Run text = xpusim("run --hw configs/dgx-h100.yaml " + wl + " -q", dir);
  CHECK(text.output.find("7 idle, not counted") != std::string::npos);
  // Every headline figure of the JSON says what it covers.
  for (const char* k : {"total_time_s", "gpu_busy_s", "gpu_active_s", "energy_j", "average_power_w", "area_mm2",
                        "flops", "hbm_bytes", "throughput_items_per_s"}) {
    INFO(k);
    CHECK(dp8.contains(k));
    CHECK(dp8["scopes"].contains(k));
  }
}

TEST_CASE("scopes: GPU busy never exceeds the run, overlapping streams are reported as such", "[scopes]") {
  TempDir dir;
  auto r = run_json("run --hw configs/dgx-h100.yaml -w workloads/llama2-7b.yaml "
                    "--set mode=train,batch=8,seq=1024,layers=2,dp=8",
                    dir);
  const double t = r["total_time_s"], active = r["gpu_active_s"], sum = r["gpu_busy_s"];
  CHECK(active <= t);
  CHECK(active > 0.9 * t);
  CHECK(sum > active);  // the gradient all-reduces overlap the backward pass
  Run text = xpusim("run --hw configs/dgx-h100.yaml -w workloads/llama2-7b.yaml "
                    "--set mode=train,batch=8,seq=1024,layers=2,dp=8 -q",
                    dir);
  CHECK(text.output.find("over overlapping streams") != std::string::npos);
  CHECK(text.output.find("% of total, per device") != std::string::npos);
  // A switch that carried the all-reduces was busy for part of the run.
  CHECK(r["components"]["nvswitch"]["stats"]["bytes"].get<double>() > 0);
  CHECK(r["components"]["nvswitch"]["utilization"].get<double>() > 0);
  CHECK(r["components"]["nvswitch"]["utilization"].get<double>() <= 1);
}

TEST_CASE("scopes: a pipeline bubble is idle time, listed apart from the collectives", "[scopes]") {
  TempDir dir;
  const std::string args = "run --hw configs/dgx-h100.yaml -w workloads/llama2-7b.yaml "
                           "--set mode=train,batch=4,seq=512,layers=4,pp=2,microbatches=2";
  auto r = run_json(args, dir);
  double bubble = 0, busy = 0;
  for (const auto& op : r["ops"]) {
    if (op["variant"] == "pipeline_bubble") bubble += op["duration_s"].get<double>();
    else busy += op["duration_s"].get<double>();
  }
  REQUIRE(bubble > 0);
  CHECK(r["gpu_busy_s"].get<double>() == Approx(busy));  // the bubble is not device work
  Run text = xpusim(args + " -q", dir);
  INFO(text.output);
  CHECK(text.output.find("\n  pipeline bubble ") != std::string::npos);
  const size_t comm = text.output.find("Communication");
  REQUIRE(comm != std::string::npos);
  // The collectives' line does not carry the bubble's milliseconds.
  CHECK(text.output.substr(comm, 80).find(" us in collectives") != std::string::npos);
}
