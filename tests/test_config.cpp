// Hardware configs: loading, `extends:` overlays, `-p` overrides, and the error catalogue in tests/data/bad_configs/.
//
// The catalogue: every tests/data/bad_configs/*.yaml is a config that must be rejected. Its header says how:
//   # expect: <substring of the message>     (one or more)
//   # line: <N>                              (the line the error must point at)
//   # file: <path suffix>                    (optional: when the error lies in another file, e.g. an extends: parent)
// Add a file to add a case; files in subdirectories are helpers (extends: targets), not cases.
#include <catch2/catch.hpp>

#include "tests/test_support.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sim/config/config_tree.h"
#include "sim/config/errors.h"
#include "sim/config/hardware.h"

using namespace xpu;
namespace fs = std::filesystem;
using namespace xpu::test;

namespace {

const char* const kCatalogue = "tests/data/bad_configs";

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

const ComponentSpec& component(const HardwareConfig& hw, const std::string& name) {
  int i = hw.index_of(name);
  REQUIRE(i >= 0);
  return hw.components[size_t(i)];
}

// The InputError that `fn` throws; fails the test when it throws none.
template <class Fn>
InputError error_of(Fn&& fn) {
  try {
    fn();
  } catch (const InputError& e) {
    return e;
  }
  FAIL("expected an InputError, got none");
  throw 0;
}

HardwareConfig from_text(const std::string& text) { return build_hardware(parse_yaml(text, "mem.yaml"), "mem.yaml"); }


const std::string kMinimal =
    "name: tiny\n"
    "components:\n"
    "  gpu: {type: compute_core, units: 4, clock: 1 GHz}\n"
    "  hbm:\n"
    "    type: hbm\n"
    "    capacity: 16 GB\n"
    "    bandwidth: 1 TB/s\n"
    "connections:\n"
    "  - {from: gpu, to: hbm, latency: 10 ns}\n";

struct CatalogueCase {
  std::string path;
  std::vector<std::string> expect;
  int line = 0;
  std::string file;  // suffix of the file the error must name; the case itself when empty
};

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r"), b = s.find_last_not_of(" \t\r");
  return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

CatalogueCase read_case(const fs::path& p) {
  CatalogueCase c;
  c.path = p.generic_string();
  std::ifstream in(p);
  for (std::string line; std::getline(in, line);) {
    auto directive = [&](const std::string& key, std::string& value) {
      std::string prefix = "# " + key + ":";
      if (line.rfind(prefix, 0) != 0) return false;
      value = trim(line.substr(prefix.size()));
      return true;
    };
    std::string v;
    if (directive("expect", v)) c.expect.push_back(v);
    else if (directive("line", v)) c.line = std::atoi(v.c_str());
    else if (directive("file", v)) c.file = v;
  }
  return c;
}

std::vector<CatalogueCase> catalogue() {
  std::vector<CatalogueCase> out;
  for (const auto& entry : fs::directory_iterator(kCatalogue))
    if (entry.is_regular_file() && entry.path().extension() == ".yaml") out.push_back(read_case(entry.path()));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// Shipped configs

TEST_CASE("config: h100.yaml loads with its five components and four connections", "[config]") {
  HardwareConfig hw = load_hardware("configs/h100.yaml");
  CHECK(hw.name == "H100 SXM5 80GB");
  CHECK(hw.file == "configs/h100.yaml");
  REQUIRE(hw.components.size() == 5);
  REQUIRE(hw.connections.size() == 4);
  std::vector<std::string> names;
  for (const auto& c : hw.components) names.push_back(c.name);
  CHECK(names == std::vector<std::string>{"host", "gpu", "noc", "l2", "hbm"});
  CHECK(component(hw, "gpu").type == "compute_core");
  CHECK(component(hw, "gpu").params.count("units") == 132);
  CHECK(component(hw, "gpu").params.qty("clock") == Approx(1.98e9));
  CHECK(component(hw, "gpu").params.dmap("matrix_flops_per_clk").at("bf16") == 4096);
  CHECK(component(hw, "gpu").params.dmap("mac_energy").at("bf16") == Approx(1.7e-12));
  CHECK(component(hw, "gpu").params.real("matrix_efficiency") == Approx(0.80));
  CHECK(component(hw, "gpu").params.qty("tdp") == Approx(700));
  CHECK(component(hw, "l2").params.qty("capacity") == 52428800.0);
  CHECK(component(hw, "hbm").params.qty("bandwidth") == Approx(3.35e12));
  CHECK(component(hw, "hbm").params.qty("capacity") == Approx(80e9));
  CHECK(component(hw, "hbm").params.count("stacks") == 5);
  CHECK(component(hw, "hbm").params.qty("interleave") == 256.0);  // a default
  CHECK(component(hw, "hbm").params.at("interleave").mark.file == "default");

  const ConnectionSpec& pcie = hw.connections[0];
  CHECK(pcie.from == "host");
  CHECK(pcie.to == "gpu");
  CHECK(pcie.bandwidth == Approx(64e9));
  CHECK(pcie.latency_s == Approx(1e-6));
  CHECK(hw.connections[1].bandwidth == 0);  // not a bottleneck

  // Marks point into the file.
  const SourceMark& units = component(hw, "gpu").params.at("units").mark;
  CHECK(units.file == "configs/h100.yaml");
  // The line of "    units:" in the file, found by reading it, so edits above it do not break the test.
  std::ifstream f("configs/h100.yaml");
  int line_no = 0, units_line = 0;
  for (std::string l; std::getline(f, l);)
    if (++line_no && l.rfind("    units:", 0) == 0 && !units_line) units_line = line_no;
  CHECK(units.line == units_line);

  // The topology: host - gpu - noc - l2 - hbm.
  auto path = hw.path(size_t(hw.index_of("gpu")), size_t(hw.index_of("hbm")));
  REQUIRE(path.size() == 4);
  CHECK(hw.components[path[1]].name == "noc");
  CHECK(hw.components[path[2]].name == "l2");
  CHECK(hw.path_connections(size_t(hw.index_of("host")), size_t(hw.index_of("hbm"))).size() == 4);
}

TEST_CASE("config: h200.yaml extends h100.yaml and overrides the HBM", "[config]") {
  HardwareConfig hw = load_hardware("configs/h200.yaml");
  CHECK(hw.name == "H200 SXM 141GB");
  REQUIRE(hw.components.size() == 5);
  CHECK(hw.connections.size() == 4);
  const ParamSet& hbm = component(hw, "hbm").params;
  CHECK(hbm.qty("bandwidth") == Approx(4.8e12));
  CHECK(hbm.qty("capacity") == Approx(141e9));
  CHECK(hbm.count("stacks") == 6);
  CHECK(hbm.real("stream_efficiency") == Approx(0.81));
  CHECK(hbm.qty("latency") == Approx(450e-9));  // inherited
  CHECK(component(hw, "gpu").params.count("units") == 132);
  CHECK(component(hw, "l2").params.qty("capacity") == 52428800.0);

  // Overridden values point at the child, inherited ones at the parent.
  CHECK(ends_with(hbm.at("bandwidth").mark.file, "h200.yaml"));
  CHECK(ends_with(hbm.at("latency").mark.file, "h100.yaml"));
  CHECK(ends_with(component(hw, "gpu").params.at("units").mark.file, "h100.yaml"));

  // The effective tree has no `extends:` left and carries the child's values.
  CHECK(hw.tree.find("extends") == nullptr);
  std::string yaml = to_yaml(hw.tree);
  CHECK(contains(yaml, "4.8 TB/s"));
  CHECK_FALSE(contains(yaml, "3.35 TB/s"));
}

TEST_CASE("config: the effective config written back loads to the same hardware", "[config]") {
  HardwareConfig hw = load_hardware("configs/h200.yaml", {"hbm.bandwidth=5 TB/s"});
  HardwareConfig again = build_hardware(parse_yaml(to_yaml(hw.tree), "effective.yaml"), "effective.yaml");
  REQUIRE(again.components.size() == hw.components.size());
  CHECK(again.connections.size() == hw.connections.size());
  CHECK(component(again, "hbm").params.qty("bandwidth") == Approx(5e12));
  CHECK(component(again, "hbm").params.qty("capacity") == Approx(141e9));
  CHECK(component(again, "gpu").params.count("units") == 132);
  CHECK(again.connections[0].bandwidth == Approx(64e9));
}

// ---------------------------------------------------------------------------------------------------------------
// -p overrides

TEST_CASE("config: -p overrides apply, with or without the components. prefix", "[config]") {
  HardwareConfig hw = load_hardware("configs/h100.yaml", {"hbm.bandwidth=4 TB/s", "components.gpu.units=100"});
  CHECK(component(hw, "hbm").params.qty("bandwidth") == Approx(4e12));
  CHECK(component(hw, "gpu").params.count("units") == 100);
  CHECK(component(hw, "hbm").params.qty("capacity") == Approx(80e9));  // untouched
  const SourceMark& m = component(hw, "hbm").params.at("bandwidth").mark;
  CHECK(contains(m.str(), "-p hbm.bandwidth=4 TB/s"));

  HardwareConfig h200 = load_hardware("configs/h200.yaml", {"gpu.units=100", "hbm.stacks=8"});
  CHECK(component(h200, "gpu").params.count("units") == 100);
  CHECK(component(h200, "hbm").params.count("stacks") == 8);
  CHECK(component(h200, "hbm").params.qty("bandwidth") == Approx(4.8e12));
}

TEST_CASE("config: -p can set a parameter left at its default and a dtype map entry", "[config]") {
  HardwareConfig hw = load_hardware("configs/h100.yaml",
                                    {"hbm.interleave=512 B", "gpu.matrix_flops_per_clk={bf16: 8192}"});
  CHECK(component(hw, "hbm").params.qty("interleave") == 512.0);
  const auto& flops = component(hw, "gpu").params.dmap("matrix_flops_per_clk");
  CHECK(flops.at("bf16") == 8192);
  CHECK(flops.count("fp8") == 0);  // a map value replaces the whole map
}

TEST_CASE("config: a misspelled -p key names the typo and suggests the parameter", "[config]") {
  InputError e = error_of([] { load_hardware("configs/h100.yaml", {"hbm.bandwidht=1 TB/s"}); });
  std::string msg = e.what();
  INFO(msg);
  CHECK(contains(msg, "'bandwidht'"));
  CHECK(contains(msg, "did you mean 'bandwidth'"));
  CHECK(contains(msg, "-p hbm.bandwidht=1 TB/s"));
}

TEST_CASE("config: bad -p values are reported against the override", "[config]") {
  {
    InputError e = error_of([] { load_hardware("configs/h100.yaml", {"hbm.bandwidth=4"}); });
    INFO(e.what());
    CHECK(contains(e.what(), "-p hbm.bandwidth=4"));
    CHECK(contains(e.what(), "missing unit"));
  }
  {
    InputError e = error_of([] { load_hardware("configs/h100.yaml", {"gpu.units=4.5"}); });
    INFO(e.what());
    CHECK(contains(e.what(), "expected an integer"));
  }
  {
    InputError e = error_of([] { load_hardware("configs/h100.yaml", {"hbm.bandwidth"}); });
    INFO(e.what());
    CHECK(contains(e.what(), "not of the form path.to.key=value"));
  }
  {
    InputError e = error_of([] { load_hardware("configs/h100.yaml", {"hmb.bandwidth=1 TB/s"}); });
    INFO(e.what());
    CHECK(contains(e.what(), "unknown top-level key 'hmb'"));
  }
  {
    InputError e = error_of([] { load_hardware("configs/h100.yaml", {"gpu..units=4"}); });
    INFO(e.what());
    CHECK(contains(e.what(), "empty segment"));
  }
  {
    // The error names the override, not a line and column inside its one-line value.
    InputError e = error_of([] { load_hardware("configs/h100.yaml", {"hbm.bandwidth=[4"}); });
    INFO(e.what());
    CHECK(e.mark.str() == "-p hbm.bandwidth=[4");
    CHECK(contains(e.what(), "-p hbm.bandwidth=[4: error: "));
    CHECK(contains(e.what(), "invalid YAML"));
  }
  {
    InputError e = error_of([] { load_hardware("configs/h100.yaml", {"gpu.matrix_flops_per_clk={bf61: 3}"}); });
    INFO(e.what());
    CHECK(e.mark.str() == "-p gpu.matrix_flops_per_clk={bf61: 3}");
    CHECK(contains(e.what(), "did you mean 'bf16'"));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// In-memory configs

TEST_CASE("config: a minimal config built from text", "[config]") {
  HardwareConfig hw = from_text(kMinimal);
  CHECK(hw.name == "tiny");
  REQUIRE(hw.components.size() == 2);
  REQUIRE(hw.connections.size() == 1);
  CHECK(hw.connections[0].latency_s == Approx(10e-9));
  CHECK(component(hw, "hbm").params.at("bandwidth").mark.str() == "mem.yaml:7:16");
  CHECK(component(hw, "hbm").mark.line == 4);
  CHECK(hw.connections[0].mark.line == 9);
  CHECK(hw.index_of("nosuch") == -1);
}

TEST_CASE("config: in-memory errors carry mem.yaml and the line", "[config]") {
  struct Case { std::string text; int line; std::string needle; };
  const std::string head = "components:\n  gpu: {type: compute_core, units: 4, clock: 1 GHz}\n";  // lines 1-2
  const Case cases[] = {
      {head + "  hbm: {type: hbm, capacity: 1 GB, bandwidth: 1 TB/s, latncy: 1 ns}\n", 3, "did you mean 'latency'"},
      {head + "  hbm: {type: hbm, capacity: 1 GB, bandwidth: 1}\n", 3, "missing unit"},
      {head + "  hbm: {type: hbm, capacity: 1 GB, bandwidth: 1 GHz}\n", 3, "not a unit of bandwidth"},
      {head + "  hbm: {type: hbm, capacity: -1 GB, bandwidth: 1 TB/s}\n", 3, "negative size"},
      {head + "  hbm: {type: hbm, capacity: 1 GB, bandwidth: 1 TB/s, stacks: 2.5}\n", 3, "expected an integer"},
      {head + "  hbm: {type: hmb}\n", 3, "unknown type 'hmb'"},
      {head + "  hbm: {capacity: 1 GB}\n", 3, "missing `type:`"},
      {head + "connections:\n  - {from: gpu, to: nowhere}\n", 4, "no component named 'nowhere'"},
      {head + "connections:\n  - {from: gpu, to: gpu}\n", 4, "to itself"},
      {head + "connections: {from: gpu}\n", 3, "expects a list"},
      {head + "  gpu: {type: host}\n", 3, "duplicate key 'gpu'"},
      {head + "  hbm: {type: hbm, capacity: [1 GB}\n", 3, "invalid YAML"},
      {head + "extends: h100.yaml\n", 3, "unknown top-level key 'extends'"},  // only files resolve extends:
      {head + "nmae: x\n", 3, "did you mean 'name'"},
      {"components:\n  gpu:\n    type: compute_core\n    units: 4\n    clock: 1 GHz\n"
       "    vector_flops_per_clk: {fp32: 256, fp33: 1}\n", 6, "unknown dtype 'fp33'"},
      {"components:\n  gpu:\n    type: compute_core\n    units: 4\n    clock: 1 GHz\n"
       "    matrix_efficiency: 1.5\n", 6, "out of range"},
      {"components:\n  gpu:\n    type: compute_core\n    units: 0\n    clock: 1 GHz\n", 4, "out of range"},
      {"components: {}\n", 1, "expected `components:`"},
      {"name: nothing\n", 1, "expected `components:`"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    InputError e = error_of([&] { from_text(c.text); });
    INFO(e.what());
    CHECK(e.mark.file == "mem.yaml");
    CHECK(e.mark.line == c.line);
    CHECK(contains(e.what(), "mem.yaml:" + std::to_string(c.line) + ":"));
    CHECK(contains(e.what(), c.needle));
  }
}

TEST_CASE("config: out-of-range messages print the bounds readably", "[config]") {
  InputError e = error_of([] {
    from_text("components:\n  gpu: {type: compute_core, units: 4, clock: 1 GHz, matrix_efficiency: 1.5}\n");
  });
  std::string msg = e.what();
  INFO(msg);
  CHECK(contains(msg, "gpu.matrix_efficiency: 1.5 is out of range"));
  CHECK(contains(msg, "at least 0.01 and at most 1)"));
}

TEST_CASE("config: a duplicate connection names where the first one is", "[config]") {
  InputError e = error_of([] {
    from_text(kMinimal + "  - {from: hbm, to: gpu}\n");
  });
  INFO(e.what());
  CHECK(e.mark.line == 10);
  CHECK(contains(e.what(), "duplicate connection between 'hbm' and 'gpu'"));
  CHECK(contains(e.what(), "first listed at mem.yaml:9:"));
}

// ---------------------------------------------------------------------------------------------------------------
// extends: with files written on the fly

TEST_CASE("config: extends: paths are relative to the including file", "[config]") {
  TempDir dir;
  dir.write("base.yaml", kMinimal);
  std::string child = dir.write("variants/child.yaml",
                                "extends: ../base.yaml\n"
                                "name: child\n"
                                "components:\n"
                                "  hbm: {bandwidth: 2 TB/s}\n");
  HardwareConfig hw = load_hardware(child);
  CHECK(hw.name == "child");
  CHECK(component(hw, "hbm").params.qty("bandwidth") == Approx(2e12));
  CHECK(component(hw, "hbm").params.qty("capacity") == Approx(16e9));
  CHECK(ends_with(component(hw, "hbm").params.at("capacity").mark.file, "base.yaml"));
}

TEST_CASE("config: errors in an extends: parent point into the parent", "[config]") {
  TempDir dir;
  dir.write("base.yaml", "components:\n  hbm: {type: hbm, capacity: 1 GB, bandwidth: 1 TB/s, stack: 2}\n");
  std::string child = dir.write("child.yaml", "extends: base.yaml\nname: child\n");
  InputError e = error_of([&] { load_hardware(child); });
  INFO(e.what());
  CHECK(ends_with(e.mark.file, "base.yaml"));
  CHECK(e.mark.line == 2);
  CHECK(contains(e.what(), "did you mean 'stacks'"));
}

TEST_CASE("config: a file that extends itself is a cycle", "[config]") {
  TempDir dir;
  std::string self = dir.write("self.yaml", "# comment\nextends: self.yaml\n");
  InputError e = error_of([&] { load_hardware(self); });
  INFO(e.what());
  CHECK(contains(e.what(), "`extends:` cycle"));
  CHECK(ends_with(e.mark.file, "self.yaml"));
  CHECK(e.mark.line == 2);
}

TEST_CASE("config: a missing --hw file is an input error", "[config]") {
  InputError e = error_of([] { load_hardware("configs/no_such_config.yaml"); });
  CHECK(contains(e.what(), "configs/no_such_config.yaml"));
  CHECK(contains(e.what(), "cannot open"));
}

// ---------------------------------------------------------------------------------------------------------------
// The catalogue of bad configs

TEST_CASE("config: the bad-config catalogue is well formed", "[config][bad_configs]") {
  auto cases = catalogue();
  CHECK(cases.size() >= 16);
  for (const auto& c : cases) {
    INFO(c.path);
    CHECK_FALSE(c.expect.empty());
    CHECK(c.line > 0);
  }
}

TEST_CASE("config: every bad config is rejected with its expected message and line", "[config][bad_configs]") {
  for (const auto& c : catalogue()) {
    INFO("case " << c.path);
    bool threw = false;
    try {
      load_hardware(c.path);
    } catch (const InputError& e) {
      threw = true;
      std::string msg = e.what();
      INFO("message: " << msg);
      if (c.file.empty()) CHECK(e.mark.file == c.path);
      else CHECK(ends_with(e.mark.file, c.file));
      CHECK(e.mark.line == c.line);
      // The printed form: "<file>:<line>:<col>: error: ..."
      CHECK(msg.rfind(e.mark.file + ":" + std::to_string(c.line) + ":", 0) == 0);
      CHECK(contains(msg, ": error: "));
      for (const auto& needle : c.expect) {
        INFO("expected: " << needle);
        CHECK(contains(msg, needle));
      }
    } catch (const std::exception& e) {
      FAIL_CHECK("not an InputError: " << e.what());
      threw = true;
    }
    if (!threw) FAIL_CHECK("accepted, but it should be rejected");
  }
}
