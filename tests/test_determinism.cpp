// Determinism: the same inputs give byte-identical results, apart from the fields that hold host wall-clock time.
// Those fields are exactly: "simulation": {"wall_s": ...} in run/compare JSON, and the wall_s column of a sweep's
// results table. Anything else that differs between two runs (unordered or pointer-keyed iteration, time-dependent
// values, scheduling of parallel sweep points) is a bug.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>
#include <vector>

#include "test_support.h"

using namespace xpu::test;
using nlohmann::json;

namespace {

// Removes the wall-clock field from one run's result: simulation.wall_s (and nothing else).
void drop_wall_time(json& result) {
  REQUIRE(result.is_object());
  REQUIRE(result.contains("simulation"));
  REQUIRE(result["simulation"].contains("wall_s"));
  result["simulation"].erase("wall_s");
}

// The result JSON of a run (object) or of a compare (array of results), with wall time removed, dumped.
std::string normalized(const std::string& path) {
  json j = json::parse(read_file(path));
  if (j.is_array()) {
    REQUIRE(!j.empty());
    for (auto& r : j) drop_wall_time(r);
  } else {
    drop_wall_time(j);
  }
  return j.dump(1);
}

void same_twice(const std::string& args) {
  TempDir dir;
  const std::string a = (dir.path / "a.json").string(), b = (dir.path / "b.json").string();
  auto ra = xpusim(args + " -q --json '" + a + "'", dir);
  REQUIRE(ra.status == 0);
  auto rb = xpusim(args + " -q --json '" + b + "'", dir);
  REQUIRE(rb.status == 0);
  const std::string na = normalized(a), nb = normalized(b);
  CHECK(na.size() > 1000);
  if (na != nb) {
    // Point at the first difference rather than printing two huge documents.
    size_t i = 0;
    while (i < na.size() && i < nb.size() && na[i] == nb[i]) ++i;
    const size_t from = i > 200 ? i - 200 : 0;
    INFO("first difference at byte " << i << "\nfirst:  " << na.substr(from, 400) << "\nsecond: " << nb.substr(from, 400));
    FAIL("the two runs' JSON differ");
  }
}

// Splits a CSV line on commas, honouring double quotes (the exporter quotes fields with commas or quotes).
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') out.back() += c, ++i;
      else if (c == '"') quoted = false;
      else out.back() += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

// The exported table with the wall_s column dropped and the rows sorted by (point_id, workload), one line per row.
std::vector<std::string> sweep_table(const std::string& csv_path) {
  std::istringstream in(read_file(csv_path));
  std::string line;
  std::vector<std::vector<std::string>> rows;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) rows.push_back(csv_fields(line));
  }
  REQUIRE(rows.size() > 1);
  const auto& header = rows.front();
  const auto wall = std::find(header.begin(), header.end(), "wall_s");
  REQUIRE(wall != header.end());
  REQUIRE(header.at(0) == "point_id");
  REQUIRE(header.at(1) == "workload");
  const size_t wall_col = size_t(wall - header.begin());
  std::sort(rows.begin() + 1, rows.end(), [](const auto& a, const auto& b) {
    return std::tie(a.at(0), a.at(1)) < std::tie(b.at(0), b.at(1));
  });
  std::vector<std::string> out;
  for (const auto& r : rows) {
    REQUIRE(r.size() == header.size());
    std::string joined;
    for (size_t i = 0; i < r.size(); ++i)
      if (i != wall_col) joined += r[i] + '\x1f';
    out.push_back(joined);
  }
  return out;
}

}  // namespace

TEST_CASE("determinism: h100 llama2-7b decode JSON is identical twice", "[determinism]") {
  same_twice("run --hw configs/h100.yaml -w workloads/llama2-7b.yaml --set mode=decode");
}

TEST_CASE("determinism: h100 dlrmv2 JSON is identical twice", "[determinism]") {
  same_twice("run --hw configs/h100.yaml -w workloads/dlrmv2.yaml");
}

TEST_CASE("determinism: dgx-h100 training with collectives JSON is identical twice", "[determinism]") {
  same_twice("run --hw configs/dgx-h100.yaml -w workloads/llama2-7b.yaml --set mode=train,batch=8,seq=1024,layers=2,dp=8");
}

TEST_CASE("determinism: cim-rram JSON is identical twice", "[determinism]") {
  same_twice("run --hw configs/cim-rram.yaml -w workloads/dlrmv2.yaml");
  same_twice("run --hw configs/cim-rram.yaml -w workloads/llama2-7b.yaml --set mode=decode,batch=1,kv=512,layers=2");
}

TEST_CASE("determinism: compare JSON is identical twice", "[determinism]") {
  same_twice("compare --hw configs/h100.yaml configs/a100.yaml configs/cim-rram.yaml -w workloads/llama2-7b.yaml "
             "--set mode=decode,layers=4");
}

TEST_CASE("determinism: a sweep gives the same table with -j 1 and -j 4", "[determinism]") {
  TempDir dir;
  const std::string d1 = (dir.path / "j1").string(), d4 = (dir.path / "j4").string();
  const std::string c1 = (dir.path / "j1.csv").string(), c4 = (dir.path / "j4.csv").string();
  REQUIRE(xpusim("sweep configs/sweeps/hbm-cores-l2.yaml -q -j 1 --out '" + d1 + "'", dir).status == 0);
  REQUIRE(xpusim("sweep configs/sweeps/hbm-cores-l2.yaml -q -j 4 --out '" + d4 + "'", dir).status == 0);
  REQUIRE(xpusim("sweep export '" + d1 + "' --csv '" + c1 + "'", dir).status == 0);
  REQUIRE(xpusim("sweep export '" + d4 + "' --csv '" + c4 + "'", dir).status == 0);
  const auto t1 = sweep_table(c1), t4 = sweep_table(c4);
  CHECK(t1.size() == 25);  // header + 24 points
  REQUIRE(t1.size() == t4.size());
  for (size_t i = 0; i < t1.size(); ++i) {
    INFO("row " << i);
    CHECK(t1[i] == t4[i]);
  }
}
