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
  if (!c.priced) out << "  " << (c.notes.empty() ? "no price" : c.notes.back()) << "\n";
  else out << fmt("  die $%.0f + HBM %.0f stacks %.0f GB $%.0f + interposer %.0f mm2 $%.0f + package $%.0f = $%.0f per "
             "device (after assembly yield)\n",
             c.die_usd, c.hbm_stacks, c.hbm_gb, c.hbm_usd, c.interposer_mm2, c.interposer_usd, c.package_usd,
             c.device_usd);
  out << fmt("Power per device from the technology: static %.0f W, full load %.0f W", c.static_w, c.full_load_w);
  if (c.tdp_w > 0) out << fmt(" (configured cap %.0f W: %+.1f %%)", c.tdp_w, 100 * (c.full_load_w / c.tdp_w - 1));
  out << "\n";
  for (const auto& n : c.notes) out << "  note: " << n << "\n";
}

}  // namespace xpu
