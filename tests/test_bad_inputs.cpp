// The bad-input catalogue in tests/bad_inputs/: hardware configs, workloads, sweep specs and traces that xpusim must
// reject cleanly. Every case must exit with status 2 (an input error; never a crash, an abort or a signal), name
// the offending file (with file:line:col where the loader knows the line) and say what is wrong.
// tests/bad_inputs/cases.yaml lists the cases and documents the fields.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "test_support.h"

using namespace xpu::test;
namespace fs = std::filesystem;

namespace {

const fs::path kDir = "tests/bad_inputs";

struct Case {
  std::string file;  // relative to kDir
  std::vector<std::string> expect;
  int line = 0;
  std::string names;  // what the message must name; the case's path when empty
  std::string args;
};

std::vector<Case> load_cases() {
  YAML::Node root = YAML::LoadFile((kDir / "cases.yaml").string());
  REQUIRE(root.IsSequence());
  std::vector<Case> out;
  for (const auto& n : root) {
    Case c;
    c.file = n["file"].as<std::string>();
    for (const auto& e : n["expect"]) c.expect.push_back(e.as<std::string>());
    if (n["line"]) c.line = n["line"].as<int>();
    if (n["names"]) c.names = n["names"].as<std::string>();
    if (n["args"]) c.args = n["args"].as<std::string>();
    out.push_back(c);
  }
  return out;
}

std::string folder_of(const std::string& file) { return file.substr(0, file.find('/')); }

// The command for one case, from its folder.
std::string command(const Case& c, const TempDir& dir) {
  const std::string f = "'" + (kDir / c.file).string() + "'";
  const std::string kind = folder_of(c.file);
  std::string cmd;
  if (kind == "hw") cmd = "run --hw " + f + " -w workloads/examples/tiny-explicit.yaml -q";
  else if (kind == "workload") cmd = "run --hw configs/h100.yaml -w " + f + " -q";
  else if (kind == "sweep") cmd = "sweep " + f + " -q -j 1 --out '" + (dir.path / "sweep").string() + "'";
  else if (kind == "trace") cmd = "replay --hw configs/h100.yaml --trace " + f + " -q";
  else FAIL("tests/bad_inputs/cases.yaml: " + c.file + " is in no known folder (hw, workload, sweep, trace)");
  return cmd + (c.args.empty() ? "" : " " + c.args);
}

void run_folder(const std::string& folder) {
  int ran = 0;
  for (const Case& c : load_cases()) {
    if (folder_of(c.file) != folder) continue;
    ++ran;
    TempDir dir;
    const std::string cmd = command(c, dir);
    INFO("case " << c.file << ": xpusim " << cmd);
    Run r = xpusim(cmd, dir);
    INFO("output:\n" << r.output);
    // 2: an input error. 1 would be an unexpected exception, >= 3 or 128+N a crash or a signal.
    CHECK(r.status == 2);
    for (const auto& e : c.expect) CHECK(r.output.find(e) != std::string::npos);
    const std::string names = c.names.empty() ? (kDir / c.file).string() : c.names;
    if (c.line > 0) {
      // file:line:col
      const std::string at = names + ":" + std::to_string(c.line) + ":";
      CHECK(r.output.find(at) != std::string::npos);
    } else {
      CHECK(r.output.find(names + ": error: ") != std::string::npos);
    }
    CHECK(r.output.find("error:") != std::string::npos);
  }
  CHECK(ran > 0);
}

}  // namespace

TEST_CASE("bad inputs: every case file is in cases.yaml and every entry has a file", "[bad_inputs]") {
  std::set<std::string> listed, on_disk;
  for (const Case& c : load_cases()) {
    INFO(c.file);
    CHECK(listed.insert(c.file).second);  // no duplicate entries
    CHECK(!c.expect.empty());
  }
  for (const char* folder : {"hw", "workload", "sweep", "trace"})
    for (const auto& e : fs::recursive_directory_iterator(kDir / folder)) {
      if (!e.is_regular_file()) continue;
      const std::string rel = fs::relative(e.path(), kDir).generic_string();
      if (rel.find("/parts/") != std::string::npos) continue;
      on_disk.insert(rel);
    }
  for (const auto& f : on_disk) {
    INFO("a case file with no entry in cases.yaml: " << f);
    CHECK(listed.count(f));
  }
  for (const auto& f : listed) {
    INFO("an entry of cases.yaml with no file: " << f);
    CHECK(on_disk.count(f));
  }
}

TEST_CASE("bad inputs: hardware configs", "[bad_inputs]") { run_folder("hw"); }
TEST_CASE("bad inputs: workloads", "[bad_inputs]") { run_folder("workload"); }
TEST_CASE("bad inputs: sweep specs", "[bad_inputs]") { run_folder("sweep"); }
TEST_CASE("bad inputs: traces", "[bad_inputs]") { run_folder("trace"); }
