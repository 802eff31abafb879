// Compute-in-memory tiles: one MVM's latency and energy from first principles, the published figures of the designs
// behind the CIM configs, and the mapping (placement, replicas, reloads, heterogeneous split) end to end.
#include <nlohmann/json.hpp>

#include "models/cim_array.h"
#include "test_support.h"

using namespace xpu;
using namespace xpu::test;
using Catch::Detail::Approx;

namespace {

// ISAAC's crossbar (ISCA 2016): 128 x 128, 2-bit cells, 1-bit DACs, one 1.28 GS/s ADC per crossbar.
CimArraySpec isaac(int64_t weight_bits, int64_t input_bits) {
  CimArraySpec a;
  a.rows = 128;
  a.columns = 128;
  a.bits_per_cell = 2;
  a.weight_bits = weight_bits;
  a.input_bits = input_bits;
  a.output_bits = 16;
  a.dac_bits = 1;
  a.rows_active = 128;
  a.adc_bits = 8;
  a.adcs_per_array = 1;
  a.array_read_s = 100e-9;
  a.adc_conversion_s = 0.78125e-9;
  a.accumulate_s = 1e-9;
  a.dac_j = 0.39e-12;
  a.array_j = 30.1e-12;
  a.adc_j = 1.5625e-12;
  a.shift_add_j = 0.0195e-12;
  a.accumulate_j = 0.05e-12;
  a.buffer_j_per_bit = 0.38e-12;
  a.write_j_per_cell = 2e-12;
  a.write_row_s = 86e-9;
  return a;
}

double component_power_w(const nlohmann::json& j, const std::string& name, bool with_buffers = true) {
  const auto& c = j["components"][name];
  double e = c["energy_dynamic_j"].get<double>() + c["energy_static_j"].get<double>();
  if (!with_buffers) e -= c["data_movement_j"].get<double>();
  return e / j["total_time_s"].get<double>();
}

}  // namespace

TEST_CASE("cim: one ISAAC crossbar MVM from first principles", "[cim]") {
  // 16-bit weights in 2-bit cells: 8 columns each, 16 weights per 128-column row; K = 128 fills one array.
  CimArraySpec a = isaac(16, 16);
  CimMatrixMap m = cim_map(a, 128, 16);
  REQUIRE(m.row_blocks == 1);
  REQUIRE(m.col_blocks == 1);
  CimPassCost c = cim_mvm(a, m);
  // 16 input bits x 1 row group; a cycle is the 100 ns read or 128 conversions x 0.78125 ns, both 100 ns.
  CHECK(c.cycles == 16);
  CHECK(c.cycle_s == Approx(100e-9));
  CHECK(c.latency_s == Approx(1.6e-6));
  CHECK(c.dac == 16 * 128);
  CHECK(c.activations == 16);
  CHECK(c.conversions == 16 * 128);
  CHECK(c.accumulations == 0);
  const double expect = 2048 * 0.39e-12 + 16 * 30.1e-12 + 2048 * 1.5625e-12 + 2048 * 0.0195e-12 +
                        (128 * 16 + 16 * 16) * 0.38e-12;
  CHECK(c.energy_j == Approx(expect).epsilon(1e-12));
  // Half the ADCs' speed: the ADC round (128 x 1.5625 ns) becomes the cycle.
  a.adc_conversion_s = 1.5625e-9;
  CHECK(cim_mvm(a, m).latency_s == Approx(16 * 200e-9));
  // Two ADCs per crossbar bring it back to the array read.
  a.adcs_per_array = 2;
  CHECK(cim_mvm(a, m).latency_s == Approx(1.6e-6));
}

TEST_CASE("cim: a matrix over several arrays adds row groups, partial sums and an adder tree", "[cim]") {
  CimArraySpec a = isaac(8, 8);  // 4 cells per weight: 32 weights per row
  a.rows_active = 64;             // two row groups per 128-row array
  CimMatrixMap m = cim_map(a, 300, 40);
  REQUIRE(m.row_blocks == 3);
  REQUIRE(m.col_blocks == 2);
  REQUIRE(m.arrays() == 6);
  CimPassCost c = cim_mvm(a, m);
  CHECK(c.cycles == 8 * 2);                          // 8 input bits x 2 row groups
  CHECK(c.latency_s == Approx(16 * 100e-9 + 3e-9));  // + ceil(log2(3 blocks x 2 groups)) adder stages
  CHECK(c.dac == 8 * 300 * 2);                       // every row of K driven per slice, in both column blocks
  CHECK(c.activations == 8 * 2 * 3 * 2);
  CHECK(c.conversions == 8 * 2 * 3 * (40 * 4));      // each used column converted per cycle in each row block
  CHECK(c.accumulations == 40 * (3 * 2 - 1));
}

TEST_CASE("cim: a digital macro has no converter and takes two Booth-encoded input bits per cycle", "[cim]") {
  CimArraySpec a;
  a.rows = 32;
  a.columns = 48;
  a.bits_per_cell = 1;
  a.weight_bits = 8;
  a.input_bits = 8;
  a.dac_bits = 2;
  a.rows_active = 32;
  a.adc_bits = 0;
  a.adc_conversion_s = 1e-6;  // ignored without an ADC
  a.array_read_s = 1 / 195e6;
  a.accumulate_s = 0;
  CHECK(a.weights_per_row() == 6);
  CimMatrixMap m = cim_map(a, 256, 48);
  REQUIRE(m.arrays() == 64);
  CimPassCost c = cim_mvm(a, m);
  CHECK(c.cycles == 4);
  CHECK(c.latency_s == Approx(4 / 195e6));
  // 64 banks x 32 rows x 6 weights per 4 cycles at 195 MHz: the macro's published 1.2 TOPS.
  const double tops = 2.0 * 256 * 48 / c.latency_s / 1e12;
  CHECK(tops == Approx(1.198).epsilon(0.002));
}

TEST_CASE("cim: programming a matrix is bound by row writes or by the write drivers' bandwidth", "[cim]") {
  CimArraySpec a = isaac(8, 8);
  CimMatrixMap m = cim_map(a, 4096, 4096);
  CimProgramCost slow = cim_program(a, m, 1e15);  // unlimited drivers: 128 rows x 86 ns
  CHECK(slow.cells == 4096.0 * 4096 * 4);
  CHECK(slow.bytes == 4096.0 * 4096);
  CHECK(slow.time_s == Approx(128 * 86e-9));
  CHECK(slow.energy_j == Approx(4096.0 * 4096 * 4 * 2e-12));
  CimProgramCost narrow = cim_program(a, m, 1e9);  // 16.8 MB at 1 GB/s
  CHECK(narrow.time_s == Approx(4096.0 * 4096 / 1e9));
}

TEST_CASE("cim: the ISAAC chip at full load reproduces its published GOPS/mm2 and GOPS/W", "[cim][validation]") {
  auto pub = nlohmann::json::parse(read_file("tests/data/cim/published.json"))["isaac"];
  TempDir dir;
  // 126 row blocks x 128 column blocks = 16,128 crossbars = 168 tiles x 96: every crossbar busy.
  dir.write("load.yaml", "name: isaac-load\nops:\n"
                         "  - {name: mvm, kind: matmul, m: 4096, n: 2048, k: 16128, dtype: bf16, inputs: [x, w]}\n");
  auto j = run_json("run --hw " + pub["config"].get<std::string>() + " -w '" + (dir.path / "load.yaml").string() + "'",
                    dir);
  const double t = j["total_time_s"];
  const double gops = 2.0 * 16128 * 2048 * 4096 / t / 1e9;
  const double watts = component_power_w(j, "cim");
  const double area = j["components"]["cim"]["area_mm2"];
  INFO("GOPS " << gops << ", W " << watts << ", mm2 " << area);
  CHECK(j["components"]["cim"]["stats"]["replicas"] == 0);
  CHECK(area == Approx(pub["chip_area_mm2"].get<double>()).epsilon(0.01));
  CHECK(gops / area == Approx(pub["gops_per_mm2"].get<double>()).epsilon(0.25));
  CHECK(gops / watts == Approx(pub["gops_per_w"].get<double>()).epsilon(0.25));
  CHECK(watts == Approx(pub["chip_power_w"].get<double>()).epsilon(0.25));
}

TEST_CASE("cim: the digital SRAM-CIM macro at full load reproduces its published TOPS and TOPS/W", "[cim][validation]") {
  auto pub = nlohmann::json::parse(read_file("tests/data/cim/published.json"))["sram_macro"];
  TempDir dir;
  dir.write("load.yaml", "name: macro-load\nops:\n"
                         "  - {name: mvm, kind: matmul, m: 100000, n: 48, k: 256, dtype: int8, inputs: [x, w]}\n");
  auto j = run_json("run --hw " + pub["config"].get<std::string>() + " -w '" + (dir.path / "load.yaml").string() + "'",
                    dir);
  const double t = j["total_time_s"];
  const double tops = 2.0 * 256 * 48 * 100000 / t / 1e12;
  // The macro's figure covers the macro: not the buffers that feed it.
  const double watts = component_power_w(j, "cim", false);
  INFO("TOPS " << tops << ", W " << watts);
  CHECK(tops == Approx(pub["tops"].get<double>()).epsilon(0.25));
  CHECK(tops / watts == Approx(pub["tops_per_w"].get<double>()).epsilon(0.25));
  CHECK(j["components"]["cim"]["area_mm2"].get<double>() == Approx(pub["area_mm2"].get<double>()).epsilon(0.01));
}

TEST_CASE("cim: weights that fit stay, spare arrays hold replicas that cut a prefill's time", "[cim]") {
  TempDir dir;
  const std::string wl = "-w workloads/llama2-7b.yaml --set mode=prefill,batch=1,seq=512,layers=2";
  auto rep = run_json("run --hw configs/cim-rram.yaml " + wl, dir);
  auto one = run_json("run --hw configs/cim-rram.yaml -p cim.replicate=false " + wl, dir);
  const auto& s = rep["components"]["cim"]["stats"];
  CHECK(s["reprograms"] == 0);
  CHECK(s["replicas"].get<double>() > 0);
  CHECK(one["components"]["cim"]["stats"]["replicas"] == 0);
  CHECK(s["arrays_used"].get<double>() <= s["arrays_total"].get<double>());
  double cim_rep = 0, cim_one = 0;
  for (const auto& op : rep["ops"]) if (op["unit"] == "cim") cim_rep += op["duration_s"].get<double>();
  for (const auto& op : one["ops"]) if (op["unit"] == "cim") cim_one += op["duration_s"].get<double>();
  CHECK(cim_rep < 0.5 * cim_one);
  // Weights in the arrays do not count against the HBM.
  CHECK(rep["memory"]["in_engine_bytes"].get<double>() > 0);
}

TEST_CASE("cim: weights beyond capacity are written at each use, and that shows in time, energy and wear", "[cim]") {
  TempDir dir;
  const std::string wl = "-w workloads/llama2-7b.yaml --set mode=decode,batch=1,kv=512,layers=2";
  auto fit = run_json("run --hw configs/cim-rram.yaml " + wl, dir);
  auto small = run_json("run --hw configs/cim-rram.yaml -p cim.tiles=64 " + wl, dir);
  const auto& s = small["components"]["cim"]["stats"];
  CHECK(s["reprograms"].get<double>() > 0);
  CHECK(s["program_time"].get<double>() > 0);
  CHECK(s["program_energy"].get<double>() > 0);
  CHECK(s["max_cell_writes"].get<double>() == s["reprograms"].get<double>() + 1);
  CHECK(s["lifetime"].get<double>() == Approx(1e8 / (s["reprograms"].get<double>() / small["total_time_s"].get<double>())));
  CHECK(small["total_time_s"].get<double>() > fit["total_time_s"].get<double>() + s["program_time"].get<double>() * 0.5);
  bool programming_bound = false;
  for (const auto& op : small["ops"]) programming_bound |= op["bound"] == "programming";
  CHECK(programming_bound);
  // overflow: digital leaves what does not fit to the compute core instead.
  auto dig = run_json("run --hw configs/cim-rram.yaml -p cim.tiles=64 -p cim.overflow=digital " + wl, dir);
  CHECK(dig["components"]["cim"]["stats"]["reprograms"] == 0);
  int on_core = 0, on_cim = 0;
  for (const auto& op : dig["ops"])
    if (op["kind"] == "matmul") (op["unit"] == "cim" ? on_cim : on_core)++;
  CHECK(on_core > 0);
  CHECK(on_cim > 0);
}

TEST_CASE("cim: a heterogeneous split keeps attention projections on the core and FFN weights in CIM", "[cim]") {
  TempDir dir;
  auto j = run_json("run --hw configs/cim-rram.yaml -p 'cim.match=\"*gate_proj,*up_proj,*down_proj\"' "
                    "-w workloads/llama2-7b.yaml --set mode=decode,batch=1,kv=512,layers=2",
                    dir);
  int checked = 0;
  for (const auto& op : j["ops"]) {
    const std::string name = op["name"];
    const bool ffn = name.find("gate_proj") != std::string::npos || name.find("up_proj") != std::string::npos ||
                     name.find("down_proj") != std::string::npos;
    if (op["kind"] == "matmul") {
      INFO(name);
      CHECK((op["unit"] == "cim") == ffn);
      ++checked;
    }
    if (op["kind"] == "attention") CHECK(op["unit"] == "digital");
  }
  CHECK(checked > 6);
}

TEST_CASE("cim: bad CIM parameters are refused with the file and line", "[cim][bad_input]") {
  TempDir dir;
  auto cfg = [&](const std::string& extra) {
    return dir.write("bad.yaml", "extends: " + (fs::current_path() / "configs/cim-rram.yaml").string() +
                                     "\ncomponents:\n  cim:\n" + extra);
  };
  struct Case { std::string yaml, expect; };
  for (const Case& c : {Case{"    weight_bits: 32\n    columns: 8\n", "columns"},
                        Case{"    cell: sram\n", "an sram cell holds 1 bit"},
                        Case{"    ops: matmul, attention\n", "cannot run on CIM"},
                        Case{"    overflow: spill\n", "overflow"},
                        Case{"    adc_energy: 2 pJ\n", "adc_energy"}}) {
    Run r = xpusim("run --hw '" + cfg(c.yaml) + "' -w workloads/llama2-7b.yaml -q", dir);
    INFO(c.yaml << r.output);
    CHECK(r.status == 2);
    CHECK(r.output.find("bad.yaml:") != std::string::npos);
    CHECK(r.output.find(c.expect) != std::string::npos);
  }
}

TEST_CASE("compare: one row per config, per-token figures, and a config that cannot run says why", "[cim][cli]") {
  TempDir dir;
  const std::string json = (dir.path / "cmp.json").string();
  // An H100 with 8 GB of HBM cannot hold Llama-2-7B; the CIM device keeps its weights in the arrays.
  const std::string small = dir.write("small.yaml", "extends: " + (fs::current_path() / "configs/h100.yaml").string() +
                                                        "\ncomponents:\n  hbm: {capacity: 8 GB}\n");
  Run r = xpusim("compare --hw configs/cim-rram.yaml --hw '" + small +
                     "' -w workloads/llama2-7b.yaml --set mode=decode,batch=2,kv=256 -q --json '" + json + "'",
                 dir);
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(r.output.find("energy/token") != std::string::npos);
  CHECK(r.output.find("cim-rram ") != std::string::npos);
  CHECK(r.output.find("needs") != std::string::npos);
  auto j = nlohmann::json::parse(read_file(json));
  REQUIRE(j.size() == 2);
  CHECK(j[0]["workload"]["items"] == 2);
  CHECK(j[0]["workload"]["item"] == "token");
  CHECK(j[1].contains("error"));
  // A bad config is refused before anything runs.
  Run bad = xpusim("compare --hw configs/cim-rram.yaml --hw tests/data/bad_configs/" +
                       std::string("$(ls tests/data/bad_configs | head -1)") + " -w workloads/llama2-7b.yaml -q",
                   dir);
  CHECK(bad.status == 2);
}

TEST_CASE("cim: fewer ADC bits resolve fewer rows per cycle and cost less per conversion", "[cim]") {
  TempDir dir;
  const std::string wl = "-w workloads/llama2-7b.yaml --set mode=decode,batch=1,kv=256,layers=1";
  auto full = run_json("run --hw configs/cim-rram.yaml " + wl, dir);
  auto six = run_json("run --hw configs/cim-rram.yaml -p cim.adc_bits=6 " + wl, dir);
  auto mapping = [](const nlohmann::json& j) {
    for (const auto& op : j["ops"])
      if (op["name"] == "L0.q_proj") return op["mapping"].get<std::string>();
    return std::string();
  };
  // 8-bit ADC: all 128 rows at once, 8 one-bit cycles. 6-bit: 2^(6-2-1+2) = 32 rows, so 4 groups x 8 = 32 cycles.
  CHECK(mapping(full).find("8 cycles x 100 ns") != std::string::npos);
  CHECK(mapping(six).find("32 cycles x 100 ns") != std::string::npos);
  const auto& a = full["components"]["cim"]["stats"];
  const auto& b = six["components"]["cim"]["stats"];
  CHECK(b["adc_conversions"].get<double>() == Approx(4 * a["adc_conversions"].get<double>()).epsilon(0.01));
  // Four times the conversions at a quarter of the energy each (2^-2): the same ADC energy, more array activations.
  CHECK(b["array_activations"].get<double>() > 3.9 * a["array_activations"].get<double>());
  TempDir d2;
  Run bad = xpusim("run --hw configs/cim-rram.yaml -p cim.adc_bits=2 -p cim.bits_per_cell=4 " + wl + " -q", d2);
  CHECK(bad.status == 2);
  CHECK(bad.output.find("cannot resolve even one row") != std::string::npos);
}
