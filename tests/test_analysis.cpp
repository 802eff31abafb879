// Explanations of a run: the time split by bound, the critical path and slack, the roofline points, and the
// what-if ranking of resources.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>

#include "test_support.h"

using namespace xpu::test;
using Catch::Detail::Approx;

TEST_CASE("analysis: the time split covers the run and the critical path ends with the last op", "[analysis]") {
  TempDir dir;
  auto j = run_json("run --hw configs/h100.yaml -w workloads/llama2-7b.yaml --set mode=decode,batch=16,kv=2048", dir);
  const auto& a = j["analysis"];
  double sum = 0;
  for (const auto& [k, v] : a["time_by_bound_s"].items()) sum += v.get<double>();
  CHECK(sum == Approx(j["total_time_s"].get<double>()).epsilon(1e-9));
  // Decode at batch 16 waits on HBM most of the time (the rest on the eager host's launches and on latency).
  CHECK(a["time_by_bound_s"]["memory"].get<double>() > 0.7 * j["total_time_s"].get<double>());
  const auto& path = a["critical_path"];
  REQUIRE(path.size() > 0);
  double last_end = 0;
  for (const auto& op : j["ops"]) last_end = std::max(last_end, op["end_s"].get<double>());
  CHECK(path.back()["end_s"].get<double>() == Approx(last_end));
  // One stream: every op is on the path, none has slack.
  CHECK(path.size() == j["ops"].size());
  for (const auto& s : a["slack_s"]) CHECK(s.get<double>() < 1e-12);
  // Roofline: every op with arithmetic has a point below the machine's ceilings.
  const auto& roof = a["roofline"];
  for (const auto& p : roof["points"]) {
    CHECK(p["achieved_flops"].get<double>() <= roof["peak_flops"].get<double>() * 1.0001);
  }
  CHECK(roof["points"].size() > 200);
}

TEST_CASE("analysis: collectives on their own streams leave slack on the ops they overlap", "[analysis]") {
  TempDir dir;
  auto j = run_json("run --hw configs/dgx-h100.yaml -w workloads/llama2-7b.yaml "
                    "--set mode=train,batch=8,seq=1024,layers=2,dp=8",
                    dir);
  const auto& a = j["analysis"];
  size_t with_slack = 0;
  for (const auto& s : a["slack_s"]) with_slack += s.get<double>() > 1e-9;
  CHECK(with_slack > 0);
  CHECK(a["critical_path"].size() < j["ops"].size());
  CHECK(a["time_by_bound_s"].contains("interconnect"));
}

TEST_CASE("whatif: HBM bandwidth ranks first for decode, the matrix rate for a large prefill", "[analysis][whatif]") {
  TempDir dir;
  const std::string json = (dir.path / "w.json").string();
  // A decode step long enough on the device that the eager host (about 0.35 ms of CPU per layer) is not its bound.
  Run r = xpusim("whatif --hw configs/h100.yaml -w workloads/llama2-7b.yaml --set mode=decode,batch=32,kv=3072 "
                 "-p gpu.units=66 -q --json '" + json + "'",
                 dir);
  INFO(r.output);
  REQUIRE(r.status == 0);
  auto rows = nlohmann::json::parse(read_file(json));
  REQUIRE(rows.size() >= 7);
  CHECK(rows[0]["name"] == "baseline");
  CHECK(rows[1]["name"] == "HBM bandwidth x2");
  CHECK(rows[1]["speedup"].get<double>() > 1.5);
  for (size_t i = 2; i < rows.size(); ++i) CHECK(rows[i]["speedup"].get<double>() <= rows[i - 1]["speedup"].get<double>());
  bool user_row = false;
  for (const auto& row : rows) user_row |= row["name"] == "-p gpu.units=66";
  CHECK(user_row);
  Run p = xpusim("whatif --hw configs/h100.yaml -w workloads/llama2-7b.yaml --set mode=prefill,batch=4,seq=2048,layers=4 "
                 "-q --json '" + json + "'",
                 dir);
  REQUIRE(p.status == 0);
  auto prows = nlohmann::json::parse(read_file(json));
  CHECK(prows[1]["name"] == "matrix rate x2");
  CHECK(prows[1]["speedup"].get<double>() > 1.05);
  // A matrix unit twice as fast is fed twice as fast (shared memory), or the row would measure the operand path.
  CHECK(prows[1]["change"].get<std::string>().find("operand_feed_bytes_per_clk=256") != std::string::npos);
}

TEST_CASE("whatif: a trace can be ranked too, and bad requests are refused", "[analysis][whatif]") {
  TempDir dir;
  Run none = xpusim("whatif --hw configs/h100.yaml -q", dir);
  CHECK(none.status == 2);
  CHECK(none.output.find("--workload or --trace") != std::string::npos);
  const std::string json = (dir.path / "t.json").string();
  Run t = xpusim("whatif --hw configs/h100.yaml --trace workloads/traces/kineto/kineto_gpt2-small_prefill_b8_s1024_kv0_L12.json.gz "
                 "-q --json '" + json + "'", dir);
  INFO(t.output);
  REQUIRE(t.status == 0);
  auto rows = nlohmann::json::parse(read_file(json));
  CHECK(rows[0]["name"] == "baseline");
  CHECK(rows[0]["time_s"].get<double>() > 0);
  CHECK(rows[1]["speedup"].get<double>() >= 1.0);
  Run bad = xpusim("whatif --hw configs/h100.yaml -w workloads/llama2-7b.yaml -p gpu.unitz=3 -q", dir);
  CHECK(bad.status == 0);  // a row that cannot run says why; the others still rank
  CHECK(bad.output.find("unitz") != std::string::npos);
}

TEST_CASE("trace: counter tracks for HBM bandwidth, compute, power and, with a network, link bandwidth", "[analysis]") {
  TempDir dir;
  const std::string trace = (dir.path / "t.json").string();
  Run r = xpusim("run --hw configs/dgx-h100.yaml -w workloads/llama2-7b.yaml --set mode=train,batch=8,seq=1024,layers=2,dp=8 "
                 "-q --top 0 --trace '" + trace + "'",
                 dir);
  REQUIRE(r.status == 0);
  auto j = nlohmann::json::parse(read_file(trace));
  const auto& ev = j.is_object() ? j["traceEvents"] : j;
  std::map<std::string, double> peak;
  for (const auto& e : ev)
    if (e.value("ph", "") == "C")
      for (const auto& [k, v] : e["args"].items()) peak[e["name"]] = std::max(peak[e["name"]], v.get<double>());
  CHECK(peak["HBM bandwidth"] > 0);
  CHECK(peak["Compute"] > 0);
  CHECK(peak["Power (one device)"] > 60);   // at least the H100's static power
  CHECK(peak["Power (one device)"] < 2000);
  CHECK(peak["Link bandwidth (payload per device)"] > 0);
}

TEST_CASE("analysis: each unit's busy share over time matches its ops", "[analysis]") {
  TempDir dir;
  auto j = run_json("run --hw configs/dgx-h100.yaml -w workloads/llama2-7b.yaml "
                    "--set mode=train,batch=8,seq=1024,layers=2,dp=8",
                    dir);
  const auto& b = j["analysis"]["busy_over_time"];
  REQUIRE(b["buckets"] == 100);
  for (const auto& unit : {"gpu", "network"}) {
    // The union of the unit's op intervals, against the buckets' sum.
    std::vector<std::pair<double, double>> iv;
    for (const auto& op : j["ops"])
      if (op["unit"] == unit) iv.push_back({op["start_s"].get<double>(), op["end_s"].get<double>()});
    std::sort(iv.begin(), iv.end());
    double busy = 0, cs = -1, ce = -1;
    for (auto [s, e] : iv) {
      if (s > ce) { busy += std::max(0.0, ce - cs); cs = s; ce = e; }
      else ce = std::max(ce, e);
    }
    busy += std::max(0.0, ce - cs);
    double sum = 0;
    for (const auto& x : b["units"][unit]) sum += x.get<double>();
    INFO(unit);
    CHECK(sum * b["bucket_s"].get<double>() == Approx(busy).epsilon(1e-6));
  }
}
