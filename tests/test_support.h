#pragma once
// Helpers shared by the test files: a scratch folder, reading a file whole, and running the xpusim binary.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace xpu::test {

namespace fs = std::filesystem;

inline std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A fresh folder under the system temp folder, removed at scope exit.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "xpusim_test_XXXXXX").string();
    REQUIRE(mkdtemp(templ.data()) != nullptr);
    path = templ;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  // Writes `bytes` to `name` (subfolders created) and returns the full path.
  std::string write(const std::string& name, const std::string& bytes) const {
    fs::path p = path / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << bytes;
    return p.string();
  }
};

struct Run {
  int status = -1;     // exit status
  std::string output;  // stdout and stderr together
};

// Runs `cmd` through the shell from the repository root (the tests' working directory), its output to a file in
// `dir`.
inline Run shell(const std::string& cmd, const TempDir& dir) {
  fs::path out = dir.path / "output.txt";
  int raw = std::system(("{ " + cmd + " ; } > '" + out.string() + "' 2>&1").c_str());
  Run r;
  REQUIRE(raw != -1);
  REQUIRE(WIFEXITED(raw));
  r.status = WEXITSTATUS(raw);
  r.output = read_file(out);
  return r;
}

// Runs `xpusim <args>` from the repository root; args pass through the shell.
inline Run xpusim(const std::string& args, const TempDir& dir) {
  return shell(std::string("'") + XPUSIM_BINARY + "' " + args, dir);
}

// A protobuf message prefixed with its length as a varint: how Chakra .et files frame each message.
inline std::string varint_framed(const std::string& msg) {
  std::string out;
  uint64_t n = msg.size();
  do {
    uint8_t b = n & 0x7f;
    n >>= 7;
    out += char(n ? b | 0x80 : b);
  } while (n);
  return out + msg;
}

// Runs `xpusim <args> -q --top 0 --json …` (it must succeed) and returns the parsed result.
inline nlohmann::json run_json(const std::string& args, const TempDir& dir) {
  const std::string out = (dir.path / "r.json").string();
  Run r = xpusim(args + " -q --top 0 --json '" + out + "'", dir);
  INFO(r.output);
  REQUIRE(r.status == 0);
  return nlohmann::json::parse(read_file(out));
}

// The largest resident set of any finished child (and its children) of this test process, in MiB: each TEST_CASE
// is its own process under ctest, so this is the peak of the xpusim runs of that test.
inline double peak_child_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_CHILDREN, &u);
  return double(u.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

// AddressSanitizer builds (build-asan/) run several times slower with several times the memory: tests that check
// memory or run very large inputs scale down there.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

}  // namespace xpu::test
