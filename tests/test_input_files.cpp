// Inputs that are not files, or files with no end (issue 18 item 15): every reader refuses a device, a directory or
// a socket before reading, and a read is bounded however large the file.
#include "test_support.h"

#include <fstream>

#include "sim/config/errors.h"
#include "sim/trace/trace_reader.h"

using namespace xpu::test;

namespace {

// Peak resident memory of this process (each TEST_CASE runs in its own process under ctest), in bytes.
double peak_rss_bytes() {
  std::ifstream s("/proc/self/status");
  std::string line;
  while (std::getline(s, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) * 1024;
  return 0;
}

}  // namespace

TEST_CASE("input files: devices and directories are refused by every reader, before any read", "[inputs]") {
  TempDir dir;
  const std::string ext = dir.write("ext.yaml", "extends: /dev/zero\n");
  struct Case { std::string args, expect; };
  const std::vector<Case> cases = {
      {"run --hw /dev/zero -w workloads/llama2-7b.yaml", "/dev/zero: error: expected a YAML file in a regular file"},
      {"run --hw configs/h100.yaml -w /dev/zero", "/dev/zero: error: expected a YAML file in a regular file"},
      {"run --hw '" + ext + "' -w workloads/llama2-7b.yaml", "ext.yaml:1:10: error: `extends:` names a device"},
      {"replay --hw configs/h100.yaml --trace /dev/zero", "/dev/zero: error: expected a trace in a regular file"},
      {"validate --hw configs/h100.yaml --cases /dev/zero", "/dev/zero: error: expected a cases file in a regular file"},
      {"sweep /dev/zero", "/dev/zero: error: expected a YAML file in a regular file"},
      {"validate --hw configs/h100.yaml --cases workloads/traces/kineto/kineto_dlrmv2_forward_b2048.json.gz",
       "gzip-compressed data: a cases file is plain JSON"},
  };
  for (const auto& c : cases) {
    Run r = xpusim(c.args + " -q", dir);
    INFO(c.args << "\n" << r.output);
    CHECK(r.status == 2);
    CHECK(r.output.find(c.expect) != std::string::npos);
  }
}

TEST_CASE("input files: a trace of 256 MiB of whitespace is read in bounded memory", "[inputs]") {
  TempDir dir;
  const std::string path = (dir.path / "ws.json").string();
  {
    std::ofstream f(path);
    f << "{\"traceEvents\": [";
    const std::string mib(1 << 20, ' ');
    for (int i = 0; i < 256; ++i) f << mib;
    f << "]}";
  }
  CHECK_THROWS_AS(xpu::read_trace(path), xpu::InputError);  // no GPU work in it: an input error, after the read
  CHECK(peak_rss_bytes() < 200e6);
}
