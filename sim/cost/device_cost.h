#pragma once
// Area, yield and price of one device, and its power at full load, from the hardware config's `technology:` and
// the area models of its blocks (sim/config/area_estimate.h).
#include <string>
#include <vector>

#include "sim/config/hardware.h"

namespace xpu {

struct BlockArea {
  std::string name, type, source;  // source: "derived" or "as written"
  double mm2 = 0;
  std::vector<AreaPart> parts;     // derived blocks only
};

struct DeviceCost {
  bool present = false;  // false: the config names no technology
  std::string node;
  std::vector<BlockArea> blocks;   // the device's blocks on the die
  double die_mm2 = 0;
  double dies_per_wafer = 0;
  double yield = 0;                // with the spare units fused off where defective
  double yield_without_spares = 0; // the same die if any defect killed it
  double die_usd = 0;              // per good die
  double hbm_stacks = 0, hbm_gb = 0, hbm_usd = 0;
  double interposer_mm2 = 0, interposer_usd = 0, package_usd = 0;
  double device_usd = 0;           // die + HBM + interposer + package, over the assembly yield
  bool priced = false;             // false: no die fits on a wafer, or none yields (`notes` says which)
  double static_w = 0;             // leakage of the die and idle of the stacks and PHYs, from the technology
  double full_load_w = 0;          // static + every resource at its sustained rate, from the technology's energies
  double tdp_w = 0;                // the compute core's configured power cap, for comparison (0: none)
  std::vector<std::string> notes;
};

DeviceCost device_cost(const HardwareConfig& hw);

// Pieces of the model, for tests and for `xpusim cost`.
double dies_per_wafer(double die_mm2, const Technology& t);
double die_yield(double area_mm2, const Technology& t);  // negative binomial
// Probability that at most `spares` of `units` identical units (each of `unit_mm2`) have a killer defect.
double spare_yield(double units, double spares, double unit_mm2, const Technology& t);

// Total cost of ownership of a run: the job's devices' price amortised over their life plus the energy the run
// drew (at the facility's PUE), per step and per million items (tokens or samples).
struct TcoOptions {
  double years = 4, pue = 1.3, usd_per_kwh = 0.08, utilization = 1.0;
  double markup = 1.0;  // price paid per device over its manufacturing cost (1: at cost; a vendor's margin: 3-10)
};
struct Tco {
  bool present = false;
  TcoOptions options;
  double capex_usd = 0;         // job devices x device price x markup + the job's share of the network
  double network_usd = 0;       // the job's share of the network's switches and links
  double capex_usd_per_s = 0;   // amortised over years x utilization
  double energy_usd_per_s = 0;  // the run's average system power x PUE x price
  double usd_per_step = 0;
  double usd_per_mitem = 0;     // 0 when the workload's items are not known
  double lifetime_usd = 0;      // capex + energy over the life at this run's power and utilization
};
// `network_usd`: the job's share of the network's switches and links at their `price` (not marked up).
Tco tco(const DeviceCost& c, double job_devices, double network_usd, double energy_j, double time_s, double items,
        const TcoOptions& o);
// Parses "years=4,pue=1.3,usd_per_kwh=0.08,utilization=0.7,markup=1" (any subset; empty: the defaults); throws
// std::invalid_argument naming the bad field.
TcoOptions parse_tco_options(const std::string& text);

}  // namespace xpu
