// Reports from a hand-built RunResult: no simulation, so these pin the output formats alone.
#include <catch2/catch.hpp>

#include "sim/config/errors.h"
#include "sim/report/progress.h"
#include "sim/report/csv.h"
#include "sim/report/json.h"
#include "sim/report/summary.h"
#include "sim/report/chrome_trace.h"
#include "tests/test_support.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

using namespace xpu;
using nlohmann::json;

namespace {

OpRecord make_op(size_t index, std::string name, std::string kind, std::string layer, std::string unit,
                 double start_us, double end_us, double flops, double bytes, Bound bound) {
  OpRecord op;
  op.index = index;
  op.name = std::move(name);
  op.kind = std::move(kind);
  op.layer = std::move(layer);
  op.unit = std::move(unit);
  op.variant = "default";
  op.dtype = "bf16";
  op.start_s = start_us / 1e6;
  op.end_s = end_us / 1e6;
  op.flops = flops;
  op.bytes = bytes;
  op.min_bytes = bytes / 2;
  op.tiles = 4;
  op.waves = 1;
  op.compute_s = flops / 1e15;
  op.memory_s = bytes / 3e12;
  op.bound = bound;
  op.energy_j = 0.01;
  return op;
}

// Two layers of q_proj + attention on "sm", a copy on "dma" overlapping layer 1, and an lm_head with a comma.
RunResult sample() {
  RunResult r;
  r.hw_name = "TestGPU";
  r.hw_file = "configs/test.yaml";
  r.workload_name = "tiny";
  r.workload_file = "workloads/tiny.yaml";
  r.workload_description = "two-layer toy decoder";
  r.total_time_s = 2e-3;
  r.gpu_busy_s = 2e-3;
  r.ops.push_back(make_op(0, "L0.q_proj", "matmul", "L0", "sm", 0, 400, 4e11, 1e8, Bound::compute));
  r.ops.push_back(make_op(1, "L0.attn", "attention", "L0", "sm", 400, 900, 1e11, 1.5e9, Bound::memory));
  r.ops.push_back(make_op(2, "L1.q_proj", "matmul", "L1", "sm", 900, 1300, 4e11, 1e8, Bound::compute));
  r.ops.push_back(make_op(3, "L1.kv_copy", "copy", "L1", "dma", 1000, 1200, 0, 5e8, Bound::memory));
  r.ops.push_back(make_op(4, "L1.attn", "attention", "L1", "sm", 1300, 1800, 1e11, 1.5e9, Bound::memory));
  r.ops.push_back(make_op(5, "lm_head, \"final\"", "matmul", "", "sm", 1800, 2000, 2e11, 4e8, Bound::compute));
  for (const auto& op : r.ops) {
    r.flops += op.flops;
    r.hbm_bytes += op.bytes;
  }
  r.peak_flops = 1e15;
  r.peak_hbm_bw = 3.35e12;
  r.energy_compute_j = 0.5;
  r.energy_data_j = 0.3;
  r.energy_static_j = 0.2;
  r.energy_j = 1.0;
  r.events = 123456;
  r.wall_s = 0.5;
  ComponentRecord sm;
  sm.name = "sm";
  sm.type = "compute_array";
  sm.area_mm2 = 600;
  sm.energy_dynamic_j = 0.6;
  sm.energy_static_j = 0.15;
  sm.utilization = 0.9;
  sm.stats = {{"tiles", 24}};
  ComponentRecord hbm;
  hbm.name = "hbm";
  hbm.type = "memory";
  hbm.area_mm2 = 100;
  hbm.energy_dynamic_j = 0.2;
  hbm.energy_static_j = 0.05;
  hbm.data_movement_j = 0.2;
  hbm.utilization = 0.55;
  r.components = {sm, hbm};
  r.area_mm2 = 700;
  // Every op on "sm" records its 4 tiles, two waves on lanes 0 and 1; "dma" records none.
  for (const auto& op : r.ops) {
    if (op.unit != "sm") continue;
    for (uint32_t k = 0; k < 4; ++k) {
      double s = op.start_s, d = op.duration_s() / 2;
      r.tiles.push_back({uint32_t(op.index), k % 2, s + (k / 2) * d, s + (k / 2 + 1) * d});
    }
  }
  r.effective_config = {{"sm", {{"count", 132}}}};
  return r;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> v;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) v.push_back(l);
  return v;
}

std::vector<std::string> words_of(const std::string& line) {
  std::vector<std::string> v;
  std::istringstream in(line);
  for (std::string w; in >> w;) v.push_back(w);
  return v;
}

std::vector<json> events_with(const json& trace, const std::string& ph) {
  std::vector<json> v;
  for (const auto& e : trace.at("traceEvents"))
    if (e.at("ph") == ph) v.push_back(e);
  return v;
}

}  // namespace

TEST_CASE("bound names", "[reports]") {
  CHECK(std::string(bound_name(Bound::compute)) == "compute");
  CHECK(std::string(bound_name(Bound::interconnect)) == "interconnect");
  CHECK(std::string(bound_name(Bound::measured)) == "measured");
}

TEST_CASE("layer prefixes are stripped for aggregation", "[reports]") {
  CHECK(strip_layer_prefix("L3.q_proj", "L3") == "q_proj");
  CHECK(strip_layer_prefix("L3.q_proj", "") == "q_proj");
  CHECK(strip_layer_prefix("layer12/mlp.up", "") == "mlp.up");
  CHECK(strip_layer_prefix("layers.3.self_attn.q_proj", "") == "self_attn.q_proj");
  CHECK(strip_layer_prefix("lm_head", "") == "lm_head");
  CHECK(strip_layer_prefix("embed.tokens", "") == "embed.tokens");
}

TEST_CASE("summary shows totals and aggregates ops across layers", "[reports]") {
  RunResult r = sample();
  std::ostringstream out;
  print_summary(out, r);
  std::string s = out.str();
  CHECK(s.find("TestGPU (configs/test.yaml)") != std::string::npos);
  CHECK(s.find("two-layer toy decoder") != std::string::npos);
  CHECK(s.find("2.000 ms") != std::string::npos);
  CHECK(s.find("compute_array") != std::string::npos);
  CHECK(s.find("Top ops by time") != std::string::npos);
  CHECK(s.find("700.0 mm2") != std::string::npos);
  CHECK(s.find("500.0 W") != std::string::npos);

  bool found = false;
  for (const auto& line : lines_of(s)) {
    CHECK(line.size() <= 100);
    auto w = words_of(line);
    if (!w.empty() && w[0] == "q_proj") {
      found = true;
      REQUIRE(w.size() >= 8);
      CHECK(w[1] == "matmul");
      CHECK(w[2] == "2");
      CHECK(w[3] == "800.00");  // two 400 us ops
      CHECK(w[4] == "us");
      CHECK(w[5] == "40.0%");
      CHECK(w[6] == "1000.00");  // 8e11 flop in 0.8 ms
      CHECK(w.back() == "compute");
    }
    CHECK(line.find("L1.q_proj") == std::string::npos);
  }
  CHECK(found);

  std::ostringstream top1;
  print_summary(top1, r, 1);
  CHECK(top1.str().find("Top ops by time (1 of 4)") != std::string::npos);
}

TEST_CASE("JSON result has the documented keys and values", "[reports]") {
  RunResult r = sample();
  json j = result_to_json(r);
  for (const char* key : {"total_time_s", "gpu_busy_s", "energy_j", "energy", "area_mm2", "flops", "hbm_bytes",
                          "achieved_tflops", "achieved_hbm_GBps", "hardware", "workload", "simulation", "ops",
                          "components", "effective_config"})
    CHECK(j.contains(key));
  CHECK(j["total_time_s"].get<double>() == 2e-3);
  CHECK(j["energy"]["data_movement_j"].get<double>() == 0.3);
  CHECK(j["hardware"]["name"] == "TestGPU");
  CHECK(j["workload"]["description"] == "two-layer toy decoder");
  CHECK(j["simulation"]["events"] == 123456);
  CHECK(j["achieved_tflops"].get<double>() == Approx(r.flops / 2e-3 / 1e12));
  CHECK(j["achieved_hbm_GBps"].get<double>() == Approx(r.hbm_bytes / 2e-3 / 1e9));
  REQUIRE(j["ops"].size() == r.ops.size());
  const json& op = j["ops"][1];
  CHECK(op["name"] == "L0.attn");
  CHECK(op["bound"] == "memory");
  CHECK(op["duration_s"].get<double>() == Approx(500e-6));
  CHECK(op["tiles"] == 4);
  CHECK(op["modelled"] == true);
  for (const auto& f : op_field_names()) CHECK(op.contains(f));
  CHECK(j["components"]["sm"]["type"] == "compute_array");
  CHECK(j["components"]["hbm"]["data_movement_j"].get<double>() == 0.2);
  CHECK(j["components"]["sm"]["stats"]["tiles"] == 24);
  CHECK(j["effective_config"]["sm"]["count"] == 132);
}

TEST_CASE("JSON file round-trips", "[reports]") {
  std::string path = "/tmp/xpusim_test_reports_" + std::to_string(::getpid()) + ".json";
  json j = result_to_json(sample());
  write_json_file(path, j);
  std::ifstream in(path);
  CHECK(json::parse(in) == j);
  std::remove(path.c_str());
}

TEST_CASE("streamed result and trace files are byte-identical to the whole-document dumps", "[reports]") {
  xpu::test::TempDir dir;
  using xpu::test::read_file;
  auto same_bytes = [&](const RunResult& r) {
    write_json_file((dir.path / "whole.json"), result_to_json(r));
    CHECK(read_file(dir.path / "whole.json") ==
          result_to_json(r).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    write_result_json((dir.path / "streamed.json"), r);
    CHECK(read_file((dir.path / "streamed.json")) == read_file((dir.path / "whole.json")));
    write_json_file((dir.path / "whole.trace.json"), result_to_chrome_trace(r), -1);
    write_chrome_trace((dir.path / "streamed.trace.json"), r);
    CHECK(read_file((dir.path / "streamed.trace.json")) == read_file((dir.path / "whole.trace.json")));
  };
  RunResult r = sample();
  same_bytes(r);
  r.ops[0].name = "bad \xff utf-8 \"quoted\"";  // replaced and escaped the same way
  same_bytes(r);
  r.ops.clear();  // "ops": [] sorts between other keys
  r.tiles.clear();
  same_bytes(r);
  CHECK(read_file((dir.path / "streamed.json")).find("\"ops\": []") != std::string::npos);
}

TEST_CASE("JSON file writing reports an unwritable path", "[reports]") {
  const std::string bad = "/dev/null/out.json";  // a folder under a file: never creatable, even as root
  try {
    write_json_file(bad, result_to_json(sample()));
    FAIL("no exception");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find(bad) != std::string::npos);
  }
}

TEST_CASE("Chrome trace has op slices, thread names, tiles and counters", "[reports]") {
  RunResult r = sample();
  json t = json::parse(result_to_chrome_trace(r).dump());  // must survive a text round trip
  CHECK(t["displayTimeUnit"] == "ns");

  std::map<std::string, json> ops;
  size_t tile_slices = 0;
  for (const auto& e : events_with(t, "X")) {
    if (e["cat"] == "tile") ++tile_slices;
    else ops[e["name"]] = e;
  }
  REQUIRE(ops.size() == r.ops.size());
  for (const auto& op : r.ops) {
    const json& e = ops.at(op.name);
    CHECK(e["ts"].get<double>() == Approx(op.start_s * 1e6));
    CHECK(e["dur"].get<double>() == Approx(op.duration_s() * 1e6));
    CHECK(e["args"]["kind"] == op.kind);
    CHECK(e["args"]["bound"] == bound_name(op.bound));
    CHECK(e["args"]["tiles"] == op.tiles);
  }
  CHECK(tile_slices == r.tiles.size());
  CHECK(ops.at("L0.q_proj")["tid"] != ops.at("L1.kv_copy")["tid"]);

  std::map<std::string, json> threads;
  std::set<std::string> processes;
  for (const auto& e : events_with(t, "M")) {
    if (e["name"] == "thread_name") threads[e["args"]["name"]] = e;
    if (e["name"] == "process_name") processes.insert(e["args"]["name"].get<std::string>());
  }
  CHECK(threads.count("sm"));
  CHECK(threads.count("dma"));
  CHECK(threads.count("lane 0"));
  CHECK(threads.count("lane 1"));
  CHECK(processes.count("TestGPU"));
  CHECK(processes.count("sm tiles"));
  CHECK(threads["sm"]["tid"] == ops.at("L0.q_proj")["tid"]);

  auto counters = events_with(t, "C");
  bool bw = false, fl = false;
  for (const auto& c : counters) {
    if (c["name"] == "HBM bandwidth" && c["ts"].get<double>() == Approx(0)) {
      bw = true;
      CHECK(c["args"]["GB/s"].get<double>() == Approx(1e8 / 400e-6 / 1e9));
    }
    if (c["name"] == "Compute" && c["ts"].get<double>() == Approx(0)) {
      fl = true;
      CHECK(c["args"]["TFLOP/s"].get<double>() == Approx(4e11 / 400e-6 / 1e12));
    }
  }
  CHECK(bw);
  CHECK(fl);
  // The copy on "dma" overlaps L1.q_proj: their bandwidths add.
  bool overlap = false;
  for (const auto& c : counters)
    if (c["name"] == "HBM bandwidth" && c["ts"].get<double>() == Approx(1000)) {
      overlap = true;
      CHECK(c["args"]["GB/s"].get<double>() == Approx(1e8 / 400e-6 / 1e9 + 5e8 / 200e-6 / 1e9));
    }
  CHECK(overlap);
  CHECK(counters.back()["args"].begin().value().get<double>() == 0);
}

TEST_CASE("ops overlapping on one unit get separate tracks", "[reports]") {
  RunResult r = sample();
  r.ops.push_back(make_op(6, "side", "matmul", "", "sm", 100, 300, 1, 1, Bound::latency));
  json t = result_to_chrome_trace(r);
  std::set<std::string> names;
  for (const auto& e : events_with(t, "M"))
    if (e["name"] == "thread_name" && e["pid"] == 1) names.insert(e["args"]["name"].get<std::string>());
  CHECK(names == std::set<std::string>{"sm", "sm #2", "dma"});
}

TEST_CASE("trace keeps the first tiles and marks the truncation", "[reports]") {
  RunResult r = sample();
  json t = result_to_chrome_trace(r, 3);
  size_t tiles = 0;
  for (const auto& e : events_with(t, "X")) tiles += e["cat"] == "tile";
  CHECK(tiles == 3);
  auto instants = events_with(t, "i");
  REQUIRE(instants.size() == 1);
  CHECK(instants[0]["args"]["kept"] == 3);
  CHECK(instants[0]["args"]["total"] == r.tiles.size());
  CHECK(instants[0]["ts"].get<double>() == Approx(r.tiles[3].start_s * 1e6));
  CHECK(events_with(result_to_chrome_trace(r), "i").empty());
}

TEST_CASE("trace notes tiles the engine did not record", "[reports]") {
  RunResult r = sample();
  r.tiles.resize(5);
  auto instants = events_with(result_to_chrome_trace(r), "i");
  REQUIRE(instants.size() == 1);
  CHECK(instants[0]["args"]["kept"] == 5);
  CHECK(instants[0]["args"]["total"] == 20);
}

TEST_CASE("tiles resident together on one lane get separate rows", "[reports]") {
  RunResult r = sample();
  r.tiles.push_back({0, 0, 50e-6, 250e-6});  // overlaps both halves of op 0's lane-0 tiles
  json t = result_to_chrome_trace(r, 1000);
  std::set<std::string> names;
  for (const auto& e : events_with(t, "M"))
    if (e["name"] == "thread_name" && e["pid"] == 2) names.insert(e["args"]["name"].get<std::string>());
  CHECK(names == std::set<std::string>{"lane 0", "lane 0 #2", "lane 1"});
}

TEST_CASE("trace caps tiles at the default limit", "[reports]") {
  RunResult r = sample();
  r.tiles.clear();
  for (uint32_t k = 0; k < kMaxTraceTiles + 10; ++k) r.tiles.push_back({0, k % 64, 0, 1e-9});  // all overlapping
  json t = result_to_chrome_trace(r);
  size_t tiles = 0;
  for (const auto& e : t["traceEvents"]) tiles += e.contains("cat") && e["cat"] == "tile";
  CHECK(tiles == kMaxTraceTiles);
  CHECK(events_with(t, "i").size() == 1);
}

TEST_CASE("ops CSV has a header, a row per op and quoted fields", "[reports]") {
  RunResult r = sample();
  std::ostringstream out;
  write_ops_csv(out, r);
  auto lines = lines_of(out.str());
  REQUIRE(lines.size() == 1 + r.ops.size());
  CHECK(lines[0].rfind("index,name,kind,variant,layer,dtype,unit,start_s,end_s,duration_s,", 0) == 0);
  CHECK(lines[1].rfind("0,L0.q_proj,matmul,default,L0,bf16,sm,0.0,0.0004,0.0004,", 0) == 0);
  CHECK(lines[6].rfind("5,\"lm_head, \"\"final\"\"\",matmul,", 0) == 0);
  CHECK(lines[1].find(",compute,") != std::string::npos);
  size_t columns = std::count(lines[0].begin(), lines[0].end(), ',');
  CHECK(std::count(lines[2].begin(), lines[2].end(), ',') == long(columns));
}

TEST_CASE("reports are deterministic", "[reports]") {
  RunResult r = sample();
  CHECK(result_to_json(r).dump() == result_to_json(sample()).dump());
  CHECK(result_to_chrome_trace(r).dump() == result_to_chrome_trace(sample()).dump());
  std::ostringstream a, b, c, d;
  print_summary(a, r);
  print_summary(b, sample());
  CHECK(a.str() == b.str());
  write_ops_csv(c, r);
  write_ops_csv(d, sample());
  CHECK(c.str() == d.str());
}

TEST_CASE("empty result still reports", "[reports]") {
  RunResult r;
  std::ostringstream out;
  print_summary(out, r);
  CHECK(out.str().find("Total time") != std::string::npos);
  json j = result_to_json(r);
  CHECK(j["ops"].is_array());
  CHECK(j["components"].is_object());
  CHECK(result_to_chrome_trace(r)["traceEvents"].is_array());
  std::ostringstream csv;
  write_ops_csv(csv, r);
  CHECK(lines_of(csv.str()).size() == 1);
}

TEST_CASE("progress is silent for short runs and prints after the quiet period", "[reports]") {
  std::ostringstream quiet;
  {
    Progress p("sim", 1000, quiet, true);
    for (uint64_t i = 0; i <= 1000; ++i) p.update(i);
    p.finish();
  }
  CHECK(quiet.str().empty());

  std::ostringstream log;
  Progress p("sim", 1000, log, false, 0.0);
  p.update(500);
  CHECK(log.str().find("sim:  50.0% 500/1.0k") != std::string::npos);
  CHECK(log.str().find('\r') == std::string::npos);
  p.finish();
  CHECK(log.str().find("sim: done") != std::string::npos);

  std::ostringstream tty;
  Progress q("sim", 0, tty, true, 0.0);
  q.update(7);
  CHECK(tty.str().rfind("\rsim: 7, ", 0) == 0);
  q.finish();
  CHECK(tty.str().back() == '\r');
}
