// Area of compute-in-memory tiles from their structure: cells of each crossbar, the converters and row drivers at
// its edge, and per tile the input buffer and the shift-add, accumulate and routing logic. Where the config (or its
// preset, e.g. ISAAC's published tile) writes `array_area` or `tile_area`, that value is used instead.
#include <cmath>
#include <cstdio>

#include "sim/config/registry.h"

namespace xpu {
namespace {

constexpr double kMiB = 1048576.0;
// An 8-bit SAR ADC at 1.28 GS/s: 0.0012 mm² (ISAAC, ISCA 2016, Table 6, after Kull et al. 2013). Converters are
// analog and barely shrink with the node; area doubles per extra bit (a SAR's capacitor array).
constexpr double kAdc8Mm2 = 0.0012;
// Row drivers (DAC) and column sample-and-hold per line, and a digital macro's adder tree per column per row it
// sums, at N7 [E: ISAAC's DAC and S+H per line scaled from 32 nm; ISSCC 2022 15.5's macro].
constexpr double kLineDriverMm2 = 2e-7, kAdderPerRowMm2N7 = 2e-6;
// Per tile: shift-add, accumulate, output registers and its router share at N7 [E: ISAAC's 32 nm tile less its
// eDRAM and IMAs, ~0.13 mm², scaled by ~1/6 to N7].
constexpr double kTileLogicMm2N7 = 0.02;

bool written(const ParamSet& p, const char* name) { return p.at(name).mark.file != "default"; }

AreaEstimate cim_tile_area(const ParamSet& p, const Technology& t) {
  AreaEstimate e;
  const double tiles = double(p.count("tiles")), arrays = double(p.count("arrays_per_tile"));
  const double rows = double(p.count("rows")), cols = double(p.count("columns"));
  const double logic = t["logic_scale"];
  double array_mm2 = p.qty("array_area"), tile_mm2 = p.qty("tile_area");
  if (!written(p, "array_area")) {
    const double f_um = t["metal_half_pitch"] * 1e-3;
    // A cross-point cell is 4 F²; an SRAM compute cell (8T/10T with its bit-wise logic) ~1.5 macro bits.
    const double cell_mm2 = p.str("cell") == "sram" ? 1.5 * t.qty("sram_area_per_mib") / (kMiB * 8)
                                                    : 4 * f_um * f_um * 1e-6;
    const double adc_bits = double(p.count("adc_bits"));
    const double converters = adc_bits > 0 ? double(p.count("adcs_per_array")) * kAdc8Mm2 * std::pow(2.0, adc_bits - 8)
                                           : cols * rows * kAdderPerRowMm2N7 * logic;
    array_mm2 = rows * cols * cell_mm2 + converters + (rows + cols) * kLineDriverMm2;
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.9g mm2", array_mm2);
    e.defaults.push_back({"array_area", buf});
  }
  if (!written(p, "tile_area")) {
    tile_mm2 = p.qty("input_buffer") / kMiB * t.qty("sram_area_per_mib") + kTileLogicMm2N7 * logic;
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.9g mm2", tile_mm2);
    e.defaults.push_back({"tile_area", buf});
  }
  e.parts.push_back({written(p, "array_area") ? "arrays (array_area as written)" : "arrays: cells, converters, drivers",
                     tiles * arrays * array_mm2});
  e.parts.push_back({written(p, "tile_area") ? "tile periphery (tile_area as written)"
                                             : "tile periphery: input buffer, shift-add, router",
                     tiles * tile_mm2});
  e.own_params_mm2 = tiles * arrays * array_mm2 + tiles * tile_mm2;
  return e;
}

}  // namespace

XPU_REGISTER_AREA_MODEL("cim_tile", cim_tile_area);

}  // namespace xpu
