#include "sim/cost/cost_json.h"

namespace xpu {

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
          {"hbm_stacks", c.hbm_stacks},
          {"hbm_gb", c.hbm_gb},
          {"hbm_usd", c.hbm_usd},
          {"interposer_mm2", c.interposer_mm2},
          {"interposer_usd", c.interposer_usd},
          {"package_usd", c.package_usd},
          {"device_usd", c.priced ? nlohmann::json(c.device_usd) : nlohmann::json(nullptr)},
          {"die_usd", c.priced ? nlohmann::json(c.die_usd) : nlohmann::json(nullptr)},
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
