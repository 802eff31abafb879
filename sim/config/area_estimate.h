#pragma once
// What a component kind's area model derives from the block's parameters and the process technology: its area
// in parts, the share that is repeated units (which spares make tolerant of defects), the off-die parts its
// package carries (HBM stacks) and its draw at full load. Each model sits beside its component's SystemC model and
// registers with one line: XPU_REGISTER_AREA_MODEL("hbm", hbm_area).
#include <functional>
#include <string>
#include <vector>

#include "sim/config/params.h"
#include "sim/config/technology.h"

namespace xpu {

struct AreaPart {
  std::string name;
  double mm2 = 0;
};

struct AreaEstimate {
  std::vector<AreaPart> parts;  // on the die; their sum is the block's area
  // Repeated units (SMs, cores, tiles): `units` on the die, of which `spares` may be bad and fused off; `unit_mm2`
  // each (included in `parts`). The yield model counts a unit's defects apart from the rest of the die.
  double units = 0, spares = 0, unit_mm2 = 0;
  // Off the die, in the package: HBM stacks (count, GB, price per GB, footprint on the interposer).
  double stacks = 0, stack_gb = 0, stack_price_per_gb = 0, stack_footprint_mm2 = 0;
  double idle_w = 0;       // power beside the leakage of the area (DRAM refresh, PHY idle)
  double full_load_w = 0;  // dynamic draw with every resource at its sustained rate, from the technology's energies
  // Parameters the node implies (energy per action), as YAML text; used where the config does not write them.
  std::vector<std::pair<std::string, std::string>> defaults;
  std::vector<std::string> notes;  // what the model assumed that a user should know (e.g. stacks the bandwidth needs)
  // Area the kind composes from its own parameters (CIM: tiles x (tile_area + arrays x array_area), which the model
  // fills through `defaults`), outside the common `area`; that then carries only the block's share of integration.
  double own_params_mm2 = 0;
  double total_mm2() const {
    double a = 0;
    for (const auto& p : parts) a += p.mm2;
    return a;
  }
};

using AreaModel = std::function<AreaEstimate(const ParamSet&, const Technology&)>;

// Relative area (and switched energy) of one multiply-accumulate per dtype against bf16: a multiplier grows about
// as the square of its significand, the fp32 accumulator and operand staging stay. Documented in models/README.md.
double mac_area_factor(const std::string& dtype);

}  // namespace xpu
