#include "sim/report/cost_report.h"

#include "sim/report/format.h"

namespace xpu {

void print_device_cost(std::ostream& out, const DeviceCost& c, bool parts) {
  if (!c.present) {
    out << "No `technology:` in this config: areas and static power are as written, and there is no price.\n";
    return;
  }
  out << fmt("Die area per device (technology %s)\n", c.node.c_str());
  for (const auto& b : c.blocks) {
    out << fmt("  %-28s %-13s %9.1f mm2  %5.1f %%  %s\n", b.name.c_str(), b.type.c_str(), b.mm2,
               100 * ratio(b.mm2, c.die_mm2), b.source.c_str());
    if (parts)
      for (const auto& p : b.parts) out << fmt("      %-40s %9.1f mm2\n", p.name.c_str(), p.mm2);
  }
  out << fmt("  %-42s %9.1f mm2\n", "die", c.die_mm2);
  out << fmt("Yield and price per device\n");
  out << fmt("  dies per 300 mm wafer %.0f, yield %.1f %% (%.1f %% if every defect killed the die)\n",
             c.dies_per_wafer, 100 * c.yield, 100 * c.yield_without_spares);
  out << fmt("  die $%.0f + HBM %.0f stacks %.0f GB $%.0f + interposer %.0f mm2 $%.0f + package $%.0f = $%.0f per "
             "device (after assembly yield)\n",
             c.die_usd, c.hbm_stacks, c.hbm_gb, c.hbm_usd, c.interposer_mm2, c.interposer_usd, c.package_usd,
             c.device_usd);
  out << fmt("Power per device from the technology: static %.0f W, full load %.0f W", c.static_w, c.full_load_w);
  if (c.tdp_w > 0) out << fmt(" (configured cap %.0f W: %+.1f %%)", c.tdp_w, 100 * (c.full_load_w / c.tdp_w - 1));
  out << "\n";
  for (const auto& n : c.notes) out << "  note: " << n << "\n";
}

nlohmann::json device_cost_json(const DeviceCost& c) {
  if (!c.present) return nullptr;
  nlohmann::json blocks = nlohmann::json::array();
  for (const auto& b : c.blocks) {
    nlohmann::json parts = nlohmann::json::object();
    for (const auto& p : b.parts) parts[p.name] = p.mm2;
    blocks.push_back({{"name", b.name}, {"type", b.type}, {"area_mm2", b.mm2}, {"source", b.source},
                      {"parts_mm2", parts}});
  }
  return {{"scope", "per device"},
          {"technology", c.node},
          {"die_mm2", c.die_mm2},
          {"blocks", blocks},
          {"dies_per_wafer", c.dies_per_wafer},
          {"yield", c.yield},
          {"yield_without_spares", c.yield_without_spares},
          {"die_usd", c.die_usd},
          {"hbm_stacks", c.hbm_stacks},
          {"hbm_gb", c.hbm_gb},
          {"hbm_usd", c.hbm_usd},
          {"interposer_mm2", c.interposer_mm2},
          {"interposer_usd", c.interposer_usd},
          {"package_usd", c.package_usd},
          {"device_usd", c.device_usd},
          {"static_w", c.static_w},
          {"full_load_w", c.full_load_w},
          {"tdp_w", c.tdp_w},
          {"notes", c.notes}};
}

nlohmann::json tco_json(const Tco& t, const std::string& item) {
  if (!t.present) return nullptr;
  return {{"scope", "the job's devices"},
          {"years", t.options.years},
          {"pue", t.options.pue},
          {"usd_per_kwh", t.options.usd_per_kwh},
          {"utilization", t.options.utilization},
          {"markup", t.options.markup},
          {"capex_usd", t.capex_usd},
          {"network_usd", t.network_usd},
          {"capex_usd_per_s", t.capex_usd_per_s},
          {"energy_usd_per_s", t.energy_usd_per_s},
          {"usd_per_step", t.usd_per_step},
          {"usd_per_million_items", t.usd_per_mitem},
          {"item", item},
          {"lifetime_usd", t.lifetime_usd}};
}

}  // namespace xpu
