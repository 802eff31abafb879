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

}  // namespace xpu::fuzz
