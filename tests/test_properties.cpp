// Properties every result holds, over a seeded series of random valid design points (fuzz/sim_case.h: an H100 with
// its rates, sizes and power cap moved over decades, and one to six ops of every kind): time and energy finite and
// positive, busy shares at most 100 %, energy equal to the sum of the components, per-item figures that multiply
// back to the totals (check_invariants), and a doubled HBM bandwidth that never slows a run.
#include "test_support.h"

#include <random>

#include "fuzz/fuzz_targets.h"
#include "sim/config/units.h"

using namespace xpu;

namespace {

struct Point {
  std::string hw, wl;
  nlohmann::json result;
};

// Runs one case; false when the config or workload refuses it (a legitimate input error).
bool run_case(const fuzz::SimCase& c, const test::TempDir& dir, int i, const std::vector<std::string>& overrides,
              nlohmann::json& out) {
  const std::string hw = dir.write("hw" + std::to_string(i) + ".yaml", c.hw_yaml);
  const std::string wl = dir.write("wl" + std::to_string(i) + ".yaml", c.wl_yaml);
  try {
    RunOptions opt;
    opt.check_memory = false;
    out = simulate_in_child(load_hardware(hw, overrides), load_workload(wl, {}), opt);
    return true;
  } catch (const InputError&) {
    return false;
  }
}

}  // namespace

TEST_CASE("properties: random design points keep every invariant, and more HBM bandwidth never slows a run",
          "[properties]") {
  test::TempDir dir;
  std::mt19937 rng(20261202);
  const std::string base = std::string(XPUSIM_SOURCE_DIR) + "/configs/h100.yaml";
  int ran = 0;
  for (int i = 0; i < 40; ++i) {
    std::vector<uint8_t> bytes(200);
    for (auto& b : bytes) b = uint8_t(rng());
    fuzz::ByteReader in(bytes.data(), bytes.size());
    const fuzz::SimCase c = fuzz::make_sim_case(in, base);
    INFO("case " << i << "\n" << c.hw_yaml << c.wl_yaml);
    nlohmann::json r;
    if (!run_case(c, dir, i, {}, r)) continue;
    ++ran;
    CHECK(fuzz::check_invariants(r) == "");
    const std::string bw = r["effective_config"]["components"]["hbm"]["bandwidth"].get<std::string>();
    const double doubled = 2 * parse_quantity(bw, Dim::Bandwidth);
    nlohmann::json fast;
    REQUIRE(run_case(c, dir, i, {"hbm.bandwidth=" + fuzz::num(doubled / 1e12) + " TB/s"}, fast));
    INFO("HBM " << bw << " -> x2: " << r["total_time_s"] << " s -> " << fast["total_time_s"] << " s");
    CHECK(fast["total_time_s"].get<double>() <= r["total_time_s"].get<double>() * (1 + 1e-9));
  }
  CHECK(ran >= 30);  // the generator's points are valid designs: almost all of them run
}
