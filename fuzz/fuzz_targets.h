#pragma once
// What each fuzz target does with one input, shared by the libFuzzer harnesses (fuzz/fuzz_*.cpp) and by
// tests/test_fuzz_regressions.cpp, which replays tests/fuzz_regressions/<target>/* in the normal build.
// xpu::InputError is the one expected way to reject an input and is caught here; any other exception escapes
// (libFuzzer reports it as a crash; the test fails).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_common.h"
#include "sim/config/errors.h"
#include "sim/config/hardware.h"
#include "sim/serve/request_stream.h"
#include "sim/serve/serve_report.h"
#include "sim/sweep/spec.h"
#include "sim/trace/trace_reader.h"
#include "sim/workload/loader.h"
#include "sim/engine/isolated_run.h"
#include "fuzz/sim_case.h"

namespace xpu::fuzz {

// Hardware config YAML -> load_hardware (registry validation, topology), then build_hardware on the effective tree
// as sweeps do. Written to configs/ so that `extends: h100.yaml` resolves.
inline void hardware_config(const uint8_t* data, size_t size) {
  std::string path = write_input("configs/fuzz_hw.yaml", data, size);
  try {
    HardwareConfig hw = load_hardware(path);
    build_hardware(hw.tree, path);
  } catch (const InputError&) {
  }
}

// Workload YAML -> load_workload (generators, explicit ops, validation).
inline void workload(const uint8_t* data, size_t size) {
  std::string path = write_input("workloads_fuzz.yaml", data, size);
  try {
    load_workload(path, {});
  } catch (const InputError&) {
  }
}

// Sweep spec YAML -> load_sweep_spec and the plan of the spec and of each variant. Written to configs/sweeps/ so
// that ../h100.yaml and ../../workloads/*.yaml resolve.
inline void sweep_spec(const uint8_t* data, size_t size) {
  std::string path = write_input("configs/sweeps/fuzz_sweep.yaml", data, size);
  try {
    SweepSpec s = load_sweep_spec(path);
    plan_points(s);
    for (const auto& v : s.variants) plan_points(s, v.params);
    s.columns();
  } catch (const InputError&) {
  }
}

// Profiler trace -> read_trace. The first byte picks the file name, and so the reader: .json, .json.gz or .et
// (Chakra protobuf); the rest is the content. Seeds in fuzz/corpus/fuzz_trace/ carry that byte.
inline void trace(const uint8_t* data, size_t size) {
  if (size == 0) return;
  static const char* const names[] = {"trace.json", "trace.json.gz", "trace.et"};
  std::string path = write_input(names[data[0] % 3], data + 1, size - 1);
  try {
    read_trace(path);
  } catch (const InputError&) {
  }
}

// Request streams: the first byte picks what the rest is. 0: a request trace CSV -> read_request_trace. 1: text
// split at its first newline into a length distribution and an arrival process (the forms of --prompt-tokens and
// --arrivals), then a short synthetic stream from them. 2: an SLO (--slo). Every stream that loads must be sorted,
// start at 0 (a trace) and hold only positive lengths.
inline void requests(const uint8_t* data, size_t size) {
  if (size == 0) return;
  const std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    switch (data[0] % 3) {
      case 0: {
        const std::string path = write_input("requests.csv", data + 1, size - 1);
        const auto reqs = read_request_trace(path);
        for (size_t i = 0; i < reqs.size(); ++i)
          if (reqs[i].prompt_tokens < 1 || reqs[i].output_tokens < 1 || !(reqs[i].arrival_s >= 0) ||
              (i && reqs[i].arrival_s < reqs[i - 1].arrival_s) || (i == 0 && reqs[i].arrival_s != 0))
            std::abort();
        break;
      }
      case 1: {
        const size_t nl = rest.find('\n');
        const LengthDist d = parse_length_dist(rest.substr(0, nl), "--prompt-tokens", true);
        const ArrivalProcess a = parse_arrivals(nl == std::string::npos ? "poisson:1" : rest.substr(nl + 1), "--arrivals");
        const auto reqs = synthetic_requests(a, d, d, 64, 7);
        for (size_t i = 0; i < reqs.size(); ++i)
          if (reqs[i].prompt_tokens < 1 || !(reqs[i].arrival_s >= 0) || (i && reqs[i].arrival_s < reqs[i - 1].arrival_s))
            std::abort();
        break;
      }
      default:
        parse_slo(rest);
    }
  } catch (const InputError&) {
  }
}

// Bytes -> a small valid design point (fuzz/sim_case.h) -> one simulation in a child process -> the invariants
// every result must hold. Input errors (a shape the config refuses) are fine; a crash, a hang the fuzzer times out,
// or a broken invariant (a negative time, energy that does not add up, a busy share over 100 %) aborts.
inline void simulation(const uint8_t* data, size_t size) {
  ByteReader in(data, size);
  const SimCase c = make_sim_case(in, std::string(XPUSIM_SOURCE_DIR) + "/configs/h100.yaml");
  const std::string hw_path = write_input("configs/fuzz_sim_hw.yaml", reinterpret_cast<const uint8_t*>(c.hw_yaml.data()),
                                          c.hw_yaml.size());
  const std::string wl_path = write_input("fuzz_sim_wl.yaml", reinterpret_cast<const uint8_t*>(c.wl_yaml.data()),
                                          c.wl_yaml.size());
  nlohmann::json r;
  try {
    HardwareConfig hw = load_hardware(hw_path);
    Workload wl = load_workload(wl_path, {});
    RunOptions opt;
    opt.check_memory = false;
    r = simulate_in_child(hw, wl, opt);
  } catch (const InputError&) {
    return;
  }
  const std::string why = check_invariants(r);
  if (!why.empty()) {
    std::fprintf(stderr, "fuzz_simulation: %s\n--- config\n%s--- workload\n%s", why.c_str(), c.hw_yaml.c_str(),
                 c.wl_yaml.c_str());
    std::abort();
  }
}

}  // namespace xpu::fuzz
