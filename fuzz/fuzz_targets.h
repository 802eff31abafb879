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
