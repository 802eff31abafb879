// Area of the on-chip SRAM (caches, scratchpads), the on-chip crossbar and the HBM interfaces, from capacity,
// bandwidth and stack count.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "sim/config/registry.h"

namespace xpu {
namespace {

constexpr double kMiB = 1048576.0;
// Tags (~6 %), ECC (8 bits per 64: 12.5 %) and repair rows on top of the data array.
constexpr double kTagEccOverhead = 0.25;
// Slice ports and the per-slice request queues of a banked cache, as a share of a crossbar of its bandwidth.
constexpr double kSlicePortShare = 0.75;

std::string pj_per_bit(double j) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.6g pJ/bit", j * 1e12);
  return buf;
}

double v2(const Technology& t) { return std::pow(t["voltage"] / t["nominal_voltage"], 2); }

AreaEstimate sram_area(const ParamSet& p, const Technology& t) {
  AreaEstimate e;
  const double tbps = p.qty("bandwidth") / 1e12;
  e.parts.push_back({"data arrays, tags and ECC",
                     p.qty("capacity") / kMiB * t.qty("sram_area_per_mib") * (1 + kTagEccOverhead)});
  e.parts.push_back({"slice ports", tbps * t.qty("crossbar_area_per_tbps") * kSlicePortShare});
  e.full_load_w = p.qty("bandwidth") * 0.5 * 8 * t.qty("sram_energy") * v2(t);
  e.defaults.push_back({"read_energy", pj_per_bit(t.qty("sram_energy") * v2(t))});
  e.defaults.push_back({"write_energy", pj_per_bit(1.15 * t.qty("sram_energy") * v2(t))});
  return e;
}

AreaEstimate noc_area(const ParamSet& p, const Technology& t) {
  AreaEstimate e;
  e.parts.push_back({"crossbar", p.qty("bandwidth") / 1e12 * t.qty("crossbar_area_per_tbps")});
  e.full_load_w = p.qty("bandwidth") * 0.5 * 8 * t.qty("crossbar_energy") * v2(t);
  e.defaults.push_back({"energy_per_bit", pj_per_bit(t.qty("crossbar_energy") * v2(t))});
  return e;
}

AreaEstimate hbm_area(const ParamSet& p, const Technology& t) {
  AreaEstimate e;
  const PhyKind& k = phy_kind(p.str("phy"));
  const double declared = double(p.count("stacks"));
  // Bandwidth costs stacks: a generation's stack carries at most its pin rate x 1024 bits.
  const double needed = std::max(declared, std::ceil(p.qty("bandwidth") / k.lane_rate - 1e-9));
  if (needed > declared) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "%.4g TB/s needs %g %s stacks at %.3g GB/s each (%g declared): priced and placed "
                  "as %g", p.qty("bandwidth") / 1e12, needed, k.name.c_str(), k.lane_rate / 1e9, declared, needed);
    e.notes.push_back(buf);
  }
  const double sites = needed + double(p.count("spare_stacks"));
  char name[64];
  std::snprintf(name, sizeof name, "PHY and controller %s x%g", k.name.c_str(), sites);
  e.parts.push_back({name, sites * (k.area_mm2 + k.controller_mm2_n7 * t["logic_scale"])});
  e.stacks = needed;
  e.stack_gb = p.qty("capacity") / 1e9;
  e.stack_price_per_gb = k.price_per_gb;
  e.stack_footprint_mm2 = sites * k.footprint_mm2;
  e.idle_w = needed * k.idle_w;
  e.full_load_w = p.qty("bandwidth") * 0.5 * 8 * k.energy_per_bit;
  e.defaults.push_back({"energy_per_bit", pj_per_bit(k.energy_per_bit)});
  return e;
}

}  // namespace

XPU_REGISTER_AREA_MODEL("sram", sram_area);
XPU_REGISTER_AREA_MODEL("noc", noc_area);
XPU_REGISTER_AREA_MODEL("hbm", hbm_area);

}  // namespace xpu
