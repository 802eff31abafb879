#pragma once
// What-if analysis: the same workload rerun with one resource scaled at a time (matrix rate x2, HBM bandwidth x2, L2
// capacity and bandwidth x2, network link bandwidth x2, launch overheads x0, and any -p the user names), each in
// its own process, ranked by speedup over the baseline.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/engine/simulation.h"
#include "sim/workload/op.h"

namespace xpu {

struct WhatIfRow {
  std::string name;     // e.g. "HBM bandwidth x2"
  std::string change;   // the overrides applied, e.g. "hbm.bandwidth=6.7 TB/s"
  double time_s = 0, energy_j = 0, speedup = 0;
  std::string error;    // the variant could not run (its error message); time and speedup are 0
};

// Row 0 is the baseline; the others follow ranked by speedup, largest first. `extra`: user overrides, one row each
// ("path=value"). Must be called before this process elaborates any SystemC module (each run is a child process).
std::vector<WhatIfRow> run_whatif(const std::string& hw_path, const std::vector<std::string>& overrides,
                                  const Workload& wl, const RunOptions& opt, const std::vector<std::string>& extra,
                                  bool quiet);
nlohmann::json whatif_to_json(const std::vector<WhatIfRow>& rows);
std::string whatif_table(const std::vector<WhatIfRow>& rows);

}  // namespace xpu
