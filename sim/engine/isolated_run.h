#pragma once
// SystemC elaborates once per process, so anything that simulates more than one design point (tests comparing two
// configs, calibration runs, sweeps) runs each simulation in a forked child that sends its JSON result back.
#include <nlohmann/json.hpp>

#include <functional>

#include "sim/engine/simulation.h"

namespace xpu {

// Runs `simulate` in a child process and returns result_to_json of its result. A user error in the child is
// rethrown here as InputError with the same message; a crash of the child is a std::runtime_error.
// The calling process must not have elaborated any SystemC module itself.
nlohmann::json simulate_in_child(const HardwareConfig& hw, const Workload& wl, const RunOptions& opt = {});
// The same for any simulation: `f` runs in a child and its JSON comes back (errors as above).
nlohmann::json run_in_child(const std::function<nlohmann::json()>& f);

}  // namespace xpu
