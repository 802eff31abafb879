// Area of a compute core from its structure: per unit, the matrix units (the widest MAC a dtype needs at its rate),
// the vector lanes, the register file and local memory, the unit's control; once, the front end and the off-chip
// PHYs listed in `io`. Spare units add area and are counted apart by the yield model.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "sim/config/registry.h"

namespace xpu {
namespace {

constexpr double kMiB = 1048576.0;
// A multi-ported register file takes about twice the area of a single-ported SRAM of the same capacity (CACTI).
constexpr double kRegisterFileFactor = 2.0;
// Each dtype a matrix unit supports beyond the first adds format conversion and alignment logic.
constexpr double kPerExtraDtype = 0.05;

AreaEstimate compute_core_area(const ParamSet& p, const Technology& t) {
  AreaEstimate e;
  const double units = double(p.count("units")), spares = double(p.count("spare_units")), n = units + spares;
  const double logic = t["logic_scale"];
  const double v2 = std::pow(t["voltage"] / t["nominal_voltage"], 2);
  double matrix_mac_area = 0;
  std::string widest;
  for (const auto& [d, flops] : p.dmap("matrix_flops_per_clk")) {
    double a = flops / 2 * mac_area_factor(d);
    if (a > matrix_mac_area) { matrix_mac_area = a; widest = d; }
  }
  const size_t dtypes = p.dmap("matrix_flops_per_clk").size();
  const double matrix = matrix_mac_area * t.qty("mac_area") * (1 + kPerExtraDtype * (dtypes > 0 ? dtypes - 1 : 0));
  double lanes = 0;
  for (const auto& [d, flops] : p.dmap("vector_flops_per_clk"))
    lanes = std::max(lanes, d == "fp32" ? flops / 2 : flops / 4);  // narrower dtypes run packed on fp32 lanes
  const double vector = lanes * t.qty("vector_lane_area");
  const double sram = (kRegisterFileFactor * p.qty("register_file") + p.qty("local_memory")) / kMiB *
                      t.qty("sram_area_per_mib");
  const double control = p.qty("unit_control_area") * logic;
  e.unit_mm2 = matrix + vector + sram + control;
  e.units = n;
  e.spares = spares;
  e.parts.push_back({"matrix units", n * matrix});
  e.parts.push_back({"vector lanes", n * vector});
  e.parts.push_back({"register file and local memory", n * sram});
  e.parts.push_back({"unit control", n * control});
  e.parts.push_back({"front end", p.qty("front_end_area") * logic});
  double io_w = 0;
  for (const auto& [kind, lanes_of] : p.dmap("io")) {
    const PhyKind& k = phy_kind(kind);
    char name[64];
    std::snprintf(name, sizeof name, "PHY %s x%g", kind.c_str(), lanes_of);
    e.parts.push_back({name, lanes_of * (k.area_mm2 + k.controller_mm2_n7 * logic)});
    e.idle_w += lanes_of * k.idle_w;
    io_w += lanes_of * k.lane_rate * 8 * 2 * k.energy_per_bit * 0.5;  // both directions at half their rate
  }
  // Full load: the enabled units' matrix rate at the share of peak kernels sustain, in bf16 (training's dtype)
  // where the unit has it, else in its widest dtype.
  const auto& rates = p.dmap("matrix_flops_per_clk");
  const std::string load_dtype = rates.count("bf16") ? "bf16" : widest;
  if (!load_dtype.empty())
    e.full_load_w = units * rates.at(load_dtype) / 2 * (p.qty("rated_clock") > 0 ? p.qty("rated_clock") : p.qty("clock")) *
                    p.real("matrix_efficiency") *
                    t.qty("mac_energy") * mac_area_factor(load_dtype) * v2;
  e.full_load_w += io_w;
  std::string mac = "{";
  char buf[96];
  for (const auto& [d, flops] : p.dmap("matrix_flops_per_clk")) {
    std::snprintf(buf, sizeof buf, "%s%s: %.6g pJ/MAC", mac.size() > 1 ? ", " : "", d.c_str(),
                  t.qty("mac_energy") * mac_area_factor(d) * v2 * 1e12);
    mac += buf;
  }
  if (mac.size() > 1) e.defaults.push_back({"mac_energy", mac + "}"});
  std::snprintf(buf, sizeof buf, "%.6g pJ/op", t.qty("vector_energy") * v2 * 1e12);
  e.defaults.push_back({"vector_energy", buf});
  return e;
}

}  // namespace

XPU_REGISTER_AREA_MODEL("compute_core", compute_core_area);

}  // namespace xpu
