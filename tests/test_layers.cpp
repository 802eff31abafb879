// The layering rules of docs/architecture.md, checked on the includes of every source file: data flows one way,
// from configuration through the engine to the reports, and a hardware block sees kernels, not ops.
#include <regex>
#include <string>
#include <vector>

#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using xpu::test::read_file;

struct Include {
  std::string file;  // relative to the source root
  int line;
  std::string target;  // what is between the quotes or angle brackets
};

std::vector<Include> includes_under(const std::string& folder) {
  const fs::path root = XPUSIM_SOURCE_DIR;
  std::vector<Include> out;
  static const std::regex inc(R"(^\s*#\s*include\s*[<"]([^>"]+)[>"])");
  for (const auto& e : fs::recursive_directory_iterator(root / folder)) {
    if (!e.is_regular_file()) continue;
    const auto ext = e.path().extension();
    if (ext != ".h" && ext != ".cpp") continue;
    std::istringstream in(read_file(e.path()));
    std::string text;
    int n = 0;
    while (std::getline(in, text)) {
      ++n;
      std::smatch m;
      if (std::regex_search(text, m, inc))
        out.push_back({fs::relative(e.path(), root).string(), n, m[1].str()});
    }
  }
  return out;
}

// Every include of a file under `folder` (except those `exempt` matches) that matches `forbidden`.
std::vector<std::string> violations(const std::string& folder, const std::string& forbidden,
                                    const std::string& exempt = "") {
  const std::regex bad(forbidden), skip(exempt.empty() ? "$^" : exempt);
  std::vector<std::string> out;
  for (const auto& i : includes_under(folder))
    if (std::regex_search(i.target, bad) && !std::regex_search(i.file, skip))
      out.push_back(i.file + ":" + std::to_string(i.line) + " includes " + i.target);
  return out;
}

// Each violation is printed on failure, one per line, with its file and line.
void check_none(const std::vector<std::string>& v) {
  std::string all;
  for (const auto& s : v) all += s + "\n";
  INFO(all);
  CHECK(v.empty());
}

}  // namespace

TEST_CASE("layers: the include checker finds includes", "[layers]") {
  // Guards the checks below against passing vacuously (a wrong root or a broken pattern finds nothing).
  CHECK(includes_under("sim/engine").size() > 20);
  CHECK_FALSE(violations("sim/engine", "^sim/engine/").empty());
}

TEST_CASE("layers: configuration knows no SystemC, no model, engine, report or workload", "[layers]") {
  check_none(violations("sim/config", R"(^systemc|^models/|^sim/(component|engine|report|cli|workload|trace|sweep|validate)/)"));
}

TEST_CASE("layers: the component base knows no model, engine, report or workload", "[layers]") {
  check_none(violations("sim/component", R"(^models/|^sim/(engine|report|cli|workload|trace|sweep|validate)/)"));
}

TEST_CASE("layers: workloads know no hardware, engine or report", "[layers]") {
  check_none(violations("sim/workload",
                   R"(^systemc|^models/|^sim/(component|engine|report|cli|trace|sweep|validate|network)/)"));
}

TEST_CASE("layers: hardware blocks read no op IR, only mappers and op engines do", "[layers]") {
  // The exemptions are the mappers (models/mappers/) and the op engines (the OpEngine interface and cim_tile).
  auto v = violations("models", R"(^sim/workload/)", R"(^models/(mappers/|op_engine\.h|cim_tile\.))");
  check_none(v);
  // No model, mapper or engine knows the simulation engine, the reports or the command line.
  auto w = violations("models", R"(^sim/(engine|report|cli|trace|sweep|validate)/)");
  check_none(w);
}

TEST_CASE("layers: the engine knows no report or command line, reports know no SystemC or model", "[layers]") {
  auto e = violations("sim/engine", R"(^sim/(report|cli|trace|sweep|validate)/)");
  check_none(e);
  auto r = violations("sim/report", R"(^systemc|^models/|^sim/(component|cli|trace|sweep|validate)/)");
  check_none(r);
  auto n = violations("sim/network", R"(^sim/(engine|report|cli|trace|sweep|validate)/)");
  check_none(n);
}

TEST_CASE("layers: the cost model knows configuration only: no SystemC, model, engine, report or workload", "[layers]") {
  // It prices a HardwareConfig; the area models it reads are registered by models/area/ through the registry.
  check_none(violations("sim/cost", R"(^systemc|^models/|^sim/(component|engine|report|cli|workload|trace|sweep|validate|network)/)"));
  check_none(violations("models/area", R"(^systemc|^models/|^sim/(component|engine|report|cli|workload|trace|sweep|validate|network|cost)/)"));
}
