#include "sim/cost/device_cost.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>
#include <stdexcept>

#include "sim/config/units.h"

namespace xpu {
namespace {

// Blocks that are not on the accelerator die: the host CPU and memory pools sit elsewhere in the system.
const std::set<std::string>& off_die_types() {
  static const std::set<std::string> t = {"host", "memory_pool"};
  return t;
}
// A reticle field is 26 x 33 mm: a larger monolithic die needs stitching.
constexpr double kReticleMm2 = 858;
// Interposer area per mm² of silicon and stacks on it (keep-out, spacing, routing channels) [E].
constexpr double kInterposerSpread = 1.2;

}  // namespace

double dies_per_wafer(double die_mm2, const Technology& t) {
  if (die_mm2 <= 0) return 0;
  const double side = std::sqrt(die_mm2) + t["scribe"];
  const double a = side * side;
  const double d = t["wafer_diameter"] - 2 * t["edge_exclusion"];
  // Gross dies on a round wafer: area ratio less the partial dies along the edge (de Vries, IEEE TSM 2005).
  const double n = M_PI * d * d / (4 * a) - M_PI * d / std::sqrt(2 * a);
  return std::max(0.0, std::floor(n));
}

double die_yield(double area_mm2, const Technology& t) {
  const double alpha = t["defect_clustering"];
  return std::pow(1 + area_mm2 / 100 * t["defect_density"] / alpha, -alpha);
}

double spare_yield(double units, double spares, double unit_mm2, const Technology& t) {
  const double y = die_yield(unit_mm2, t);
  const long n = std::lround(units), s = std::lround(spares);
  // Binomial tail in logs (n can be in the thousands).
  double p = 0;
  for (long k = 0; k <= std::min(s, n); ++k) {
    double lc = std::lgamma(double(n) + 1) - std::lgamma(double(k) + 1) - std::lgamma(double(n - k) + 1);
    p += std::exp(lc + double(k) * std::log(std::max(1e-300, 1 - y)) + double(n - k) * std::log(y));
  }
  return std::min(1.0, p);
}

DeviceCost device_cost(const HardwareConfig& hw) {
  DeviceCost c;
  if (!hw.technology.present()) return c;
  const Technology& t = hw.technology;
  c.present = true;
  c.node = t.node;
  std::set<std::string> system_blocks;
  for (const auto& tier : hw.network.tiers) {
    if (!tier.link.empty()) system_blocks.insert(tier.link);
    if (!tier.switch_name.empty()) system_blocks.insert(tier.switch_name);
  }
  double repeated_mm2 = 0, spare_factor = 1;
  const double ovh = 1 + t["integration_overhead"];
  for (const auto& comp : hw.components) {
    if (off_die_types().count(comp.type) || system_blocks.count(comp.name)) continue;
    BlockArea b{comp.name, comp.type, comp.area_source, comp.params.qty("area"), {}};
    if (comp.area_source == "derived") b.parts = comp.estimate.parts;
    b.mm2 += comp.estimate.own_params_mm2;  // CIM tiles: their arrays and periphery, beside the common `area`
    c.die_mm2 += b.mm2;
    const AreaEstimate& e = comp.estimate;
    if (e.units > 0 && comp.area_source == "derived") {
      repeated_mm2 += e.units * e.unit_mm2 * ovh;
      spare_factor *= spare_yield(e.units, e.spares, e.unit_mm2 * ovh, t);
    }
    c.static_w += (comp.area_source == "derived" ? b.mm2 : 0) * t["leakage_w_per_mm2"] + e.idle_w;
    c.full_load_w += e.full_load_w;
    c.hbm_stacks += e.stacks;
    c.hbm_gb += e.stacks > 0 ? e.stack_gb : 0;
    c.hbm_usd += e.stacks > 0 ? e.stack_gb * e.stack_price_per_gb : 0;
    c.interposer_mm2 += e.stack_footprint_mm2;
    for (const auto& n : e.notes) c.notes.push_back(comp.name + ": " + n);
    if (comp.type == "compute_core" && comp.params.has("tdp")) c.tdp_w += comp.params.qty("tdp");
    c.blocks.push_back(std::move(b));
  }
  c.full_load_w += c.static_w;
  c.dies_per_wafer = dies_per_wafer(c.die_mm2, t);
  c.yield = die_yield(std::max(0.0, c.die_mm2 - repeated_mm2), t) * spare_factor;
  c.yield_without_spares = die_yield(c.die_mm2, t);
  if (c.dies_per_wafer < 1) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "no price: a %.0f mm² die does not fit on a %.0f mm wafer", c.die_mm2,
                  t["wafer_diameter"]);
    c.notes.push_back(buf);
    return c;
  }
  if (!(c.yield > 1e-9)) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "no price: a %.0f mm² die yields below one in a billion", c.die_mm2);
    c.notes.push_back(buf);
    return c;
  }
  if (c.die_mm2 > kReticleMm2) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "die of %.0f mm² exceeds the %.0f mm² reticle: it needs stitching or chiplets "
                  "(priced as one die)", c.die_mm2, kReticleMm2);
    c.notes.push_back(buf);
  }
  c.die_usd = t["wafer_price"] / (c.dies_per_wafer * c.yield);
  if (c.hbm_stacks > 0) {
    c.interposer_mm2 = (c.interposer_mm2 + c.die_mm2) * kInterposerSpread;
    c.interposer_usd = c.interposer_mm2 * t["interposer_price_per_mm2"];
  } else {
    c.interposer_mm2 = 0;
  }
  c.package_usd = t["package_price"];
  c.device_usd = (c.die_usd + c.hbm_usd + c.interposer_usd + c.package_usd) / t["assembly_yield"];
  c.priced = std::isfinite(c.device_usd);
  return c;
}

Tco tco(const DeviceCost& c, double job_devices, double network_usd, double energy_j, double time_s, double items,
        const TcoOptions& o) {
  Tco r;
  if (!c.present || !c.priced || time_s <= 0) return r;
  r.present = true;
  r.options = o;
  const double life_s = o.years * 365.25 * 86400;
  r.network_usd = network_usd;
  r.capex_usd = c.device_usd * o.markup * job_devices + network_usd;
  r.capex_usd_per_s = r.capex_usd / (life_s * o.utilization);
  r.energy_usd_per_s = energy_j / time_s * o.pue * o.usd_per_kwh / 3.6e6;
  r.usd_per_step = (r.capex_usd_per_s + r.energy_usd_per_s) * time_s;
  r.usd_per_mitem = items > 0 ? r.usd_per_step / items * 1e6 : 0;
  r.lifetime_usd = r.capex_usd + r.energy_usd_per_s * life_s * o.utilization;
  return r;
}

TcoOptions parse_tco_options(const std::string& text) {
  TcoOptions o;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    auto eq = item.find('=');
    if (eq == std::string::npos)
      throw std::invalid_argument("'" + item + "': expected KEY=VALUE with KEY one of years, pue, usd_per_kwh, "
                                  "utilization, markup");
    std::string k = item.substr(0, eq), v = item.substr(eq + 1);
    char* end = nullptr;
    double x = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || !std::isfinite(x))
      throw std::invalid_argument("'" + item + "': " + k + " expects a number");
    if (k == "years") o.years = x;
    else if (k == "pue") o.pue = x;
    else if (k == "usd_per_kwh") o.usd_per_kwh = x;
    else if (k == "utilization") o.utilization = x;
    else if (k == "markup") o.markup = x;
    else throw std::invalid_argument("'" + k + "': unknown field; expected years, pue, usd_per_kwh, utilization, markup");
    bool ok = k == "years" ? x > 0 && x <= 100
              : k == "pue" ? x >= 1 && x <= 10
              : k == "usd_per_kwh" ? x >= 0 && x <= 100
              : k == "markup" ? x >= 1 && x <= 100
              : x > 0 && x <= 1;
    if (!ok)
      throw std::invalid_argument("'" + item + "': out of range (years in (0, 100], pue in [1, 10], usd_per_kwh in "
                                  "[0, 100], utilization in (0, 1], markup in [1, 100])");
  }
  return o;
}

}  // namespace xpu
