// Replays every input saved under tests/fuzz_regressions/<target>/ (see the README there) through the function the
// libFuzzer harness of that target calls (fuzz/fuzz_targets.h): each must load or be rejected with xpu::InputError.
// Any other exception fails the test; a crash fails it too. Empty folders pass.
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "fuzz/fuzz_targets.h"
#include "tests/test_support.h"

namespace {

namespace fs = std::filesystem;

std::vector<fs::path> regression_inputs(const std::string& target) {
  fs::path dir = fs::path(XPUSIM_SOURCE_DIR) / "tests" / "fuzz_regressions" / target;
  std::vector<fs::path> files;
  if (fs::is_directory(dir))
    for (const auto& e : fs::directory_iterator(dir)) {
      std::string name = e.path().filename().string();
      if (e.is_regular_file() && name != "README.md" && name != ".gitkeep") files.push_back(e.path());
    }
  std::sort(files.begin(), files.end());
  return files;
}

void replay(const std::string& target, void (*run)(const uint8_t*, size_t)) {
  for (const fs::path& f : regression_inputs(target)) {
    INFO("tests/fuzz_regressions/" << target << "/" << f.filename().string());
    std::string bytes = xpu::test::read_file(f);
    CHECK_NOTHROW(run(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  }
}

}  // namespace

TEST_CASE("fuzz regressions: the folders exist", "[fuzz]") {
  fs::path dir = fs::path(XPUSIM_SOURCE_DIR) / "tests" / "fuzz_regressions";
  CHECK(fs::is_regular_file(dir / "README.md"));
  for (const char* t : {"fuzz_hardware_config", "fuzz_workload", "fuzz_sweep_spec", "fuzz_trace", "fuzz_requests",
                        "fuzz_simulation"})
    CHECK(fs::is_directory(dir / t));
}

TEST_CASE("fuzz regressions: hardware configs", "[fuzz]") { replay("fuzz_hardware_config", xpu::fuzz::hardware_config); }
TEST_CASE("fuzz regressions: workloads", "[fuzz]") { replay("fuzz_workload", xpu::fuzz::workload); }
TEST_CASE("fuzz regressions: sweep specs", "[fuzz]") { replay("fuzz_sweep_spec", xpu::fuzz::sweep_spec); }
TEST_CASE("fuzz regressions: traces", "[fuzz]") { replay("fuzz_trace", xpu::fuzz::trace); }
TEST_CASE("fuzz regressions: request streams", "[fuzz]") { replay("fuzz_requests", xpu::fuzz::requests); }
TEST_CASE("fuzz regressions: simulations", "[fuzz]") { replay("fuzz_simulation", xpu::fuzz::simulation); }
