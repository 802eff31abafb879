#include "sim/engine/result_json.h"

#include "sim/cost/cost_json.h"
#include "sim/engine/communication.h"

namespace xpu {

namespace {

double ratio(double a, double b) { return b > 0 ? a / b : 0; }

nlohmann::json component_to_json(const ComponentRecord& c) {
  return {{"type", c.type},
          {"scope", c.scope},
          {"copies", c.copies},
          {"area_mm2", c.area_mm2},
          {"energy_dynamic_j", c.energy_dynamic_j},
          {"energy_static_j", c.energy_static_j},
          {"data_movement_j", c.data_movement_j},
          {"utilization", c.utilization},
          {"stats", c.stats.is_null() ? nlohmann::json::object() : c.stats}};
}

}  // namespace

const std::vector<std::string>& op_field_names() {
  static const std::vector<std::string> names = {
      "index", "name", "kind", "variant", "layer", "dtype", "unit", "start_s", "end_s", "duration_s",
      "flops", "bytes", "cache_bytes", "min_bytes", "tiles", "waves", "compute_s", "memory_s", "cache_s",
      "launch_s", "bound", "energy_j", "clock_hz", "modelled", "mapping"};
  return names;
}

nlohmann::json op_to_json(const OpRecord& op) {
  nlohmann::json j = {{"index", op.index},       {"name", op.name},
          {"kind", op.kind},         {"variant", op.variant},
          {"layer", op.layer},       {"dtype", op.dtype},
          {"unit", op.unit},         {"start_s", op.start_s},
          {"end_s", op.end_s},       {"duration_s", op.duration_s()},
          {"flops", op.flops},       {"bytes", op.bytes},
          {"cache_bytes", op.cache_bytes}, {"min_bytes", op.min_bytes},
          {"tiles", op.tiles},       {"waves", op.waves},
          {"compute_s", op.compute_s}, {"memory_s", op.memory_s},
          {"cache_s", op.cache_s},   {"launch_s", op.launch_s},
          {"bound", bound_name(op.bound)}, {"energy_j", op.energy_j}, {"clock_hz", op.clock_hz}, {"mapping", op.mapping},
          {"modelled", op.modelled}};
  if (op.rank >= 0) j["rank"] = op.rank;
  return j;
}

nlohmann::json result_head_json(const RunResult& r) {
  nlohmann::json j;
  j["hardware"] = {{"name", r.hw_name}, {"file", r.hw_file}};
  j["workload"] = {
      {"name", r.workload_name}, {"file", r.workload_file}, {"description", r.workload_description},
      {"items", r.items}, {"item", r.item}, {"items_per_replica", r.items_per_replica}, {"replicas", r.replicas},
      {"items_scope", "whole job, per step"}};
  j["total_time_s"] = r.total_time_s;
  if (!r.analysis.is_null()) j["analysis"] = r.analysis;
  j["devices"] = r.devices;
  j["job_devices"] = r.job_devices;
  j["throughput_items_per_s"] = ratio(r.items, r.total_time_s);
  j["gpu_busy_s"] = r.gpu_busy_s;
  j["gpu_active_s"] = r.gpu_active_s;
  j["energy_j"] = r.energy_j;
  j["energy"] = {{"compute_j", r.energy_compute_j}, {"data_movement_j", r.energy_data_j},
                 {"static_j", r.energy_static_j}};
  j["average_power_w"] = ratio(r.energy_j, r.total_time_s);
  j["area_mm2"] = r.area_mm2;
  if (r.cost.present) {
    j["cost"] = device_cost_json(r.cost);
    j["full_load_power_w"] = r.cost.full_load_w;
  }
  if (r.cost.priced) {
    j["cost_usd"] = r.cost.device_usd;
    j["system_cost_usd"] = r.cost.device_usd * double(r.job_devices) + r.tco.network_usd;
  }
  if (r.tco.present) {
    j["tco"] = tco_json(r.tco, r.item);
    j["tco_usd_per_step"] = r.tco.usd_per_step;
    if (r.tco.usd_per_mitem > 0) {
      j["tco_usd_per_mitem"] = r.tco.usd_per_mitem;
      j["tco_usd_per_m" + (r.item == "token" ? std::string("tok") : r.item)] = r.tco.usd_per_mitem;
    }
  }
  j["flops"] = r.flops;
  j["hbm_bytes"] = r.hbm_bytes;
  j["peak_flops"] = r.peak_flops;
  j["clock_hz"] = {{"max", r.max_clock_hz}, {"sustained", r.sustained_clock_hz}, {"tdp_w", r.tdp_w},
                   {"scope", "per device"}};
  j["peak_hbm_Bps"] = r.peak_hbm_bw;
  j["achieved_tflops"] = ratio(r.flops, r.total_time_s) / 1e12;
  j["achieved_hbm_GBps"] = ratio(r.hbm_bytes, r.total_time_s) / 1e9;
  j["simulation"] = {{"events", r.events}, {"wall_s", r.wall_s}};
  {
    const CommunicationSummary c = summarize_communication(r.ops);
    if (!c.by_class.empty()) {
      nlohmann::json classes = nlohmann::json::object();
      for (const auto& [name, k] : c.by_class) classes[name] = {{"count", k.count}, {"time_s", k.time_s}};
      j["communication"] = {{"in_flight_s", c.in_flight_s},
                            {"exposed_s", c.exposed_s},
                            {"by_class", classes},
                            {"scope", "per device: the simulated rank's collectives; exposed: no kernel runs; a "
                                      "class's time_s sums its durations"}};
    }
  }
  j["stack"] = {{"name", r.stack},
                {"kernels", r.kernels},
                {"eager_kernels", r.eager_kernels},
                {"fused_bytes", r.fused_bytes},
                {"scope", "per device: ops of the simulated rank; fused_bytes: intermediate tensors kept on chip, each "
                          "written and read back once in eager"}};
  // What each headline figure covers: one device (the simulated rank), or the whole job (all its devices, the network).
  if (r.ranks_replayed > 0) {
    j["ranks_replayed"] = r.ranks_replayed;
    // Per-device figures of a multi-rank replay are means over its ranks; the "ranks" table has each one.
    const std::string mean = "per device: mean over the " + std::to_string(r.ranks_replayed) + " replayed ranks";
    j["scopes"] = {{"total_time_s", "whole job: the last rank's end"},
                   {"gpu_busy_s", mean + " (sum of op durations)"},
                   {"gpu_active_s", mean + " (time with at least one op running)"},
                   {"energy_j", "whole job: every replayed rank and the network"},
                   {"average_power_w", "whole job"},
                   {"area_mm2", "per device"},
                 {"cost_usd", "per device"},
                 {"system_cost_usd", "whole job: its devices and its share of the network's priced switches and links (not servers or facility)"},
                 {"tco_usd_per_step", "whole job"},
                   {"cost_usd", "per device"},
                   {"system_cost_usd", "whole job: its devices and its share of the network's priced switches and links (not servers or facility)"},
                   {"tco_usd_per_step", "whole job"},
                   {"flops", mean},
                   {"hbm_bytes", mean},
                   {"peak_flops", "per device"},
                   {"peak_hbm_Bps", "per device"},
                   {"achieved_tflops", mean},
                   {"achieved_hbm_GBps", mean},
                   {"throughput_items_per_s", "whole job"},
                   {"workload.items", "whole job, per step"},
                   {"components", "device blocks: mean over the ranks (copies: ranks); network blocks: all instances"}};
  } else {
    j["scopes"] = {{"total_time_s", "whole job: one step"},
                 {"gpu_busy_s", "per device: sum of op durations (overlapping streams count twice)"},
                 {"gpu_active_s", "per device: time with at least one op running"},
                 {"energy_j", "whole job: the job's devices and the network"},
                 {"average_power_w", "whole job"},
                 {"area_mm2", "per device"},
                 {"cost_usd", "per device"},
                 {"system_cost_usd", "whole job: its devices and its share of the network's priced switches and links (not servers or facility)"},
                 {"tco_usd_per_step", "whole job"},
                 {"flops", "per device"},
                 {"hbm_bytes", "per device"},
                 {"peak_flops", "per device"},
                 {"peak_hbm_Bps", "per device"},
                 {"achieved_tflops", "per device"},
                 {"achieved_hbm_GBps", "per device"},
                 {"throughput_items_per_s", "whole job: every data-parallel replica"},
                 {"workload.items", "whole job, per step"},
                 {"components", "device blocks: one device's figures (copies: devices in the job); network blocks: "
                                "all instances"}};
  }

  nlohmann::json comps = nlohmann::json::object();
  for (const auto& c : r.components) comps[c.name] = component_to_json(c);
  j["components"] = std::move(comps);

  j["effective_config"] = r.effective_config.is_null() ? nlohmann::json::object() : r.effective_config;
  j["memory"] = r.memory.is_null() ? nlohmann::json::object() : r.memory;
  return j;
}

nlohmann::json result_to_json(const RunResult& r) {
  nlohmann::json j = result_head_json(r);
  nlohmann::json ops = nlohmann::json::array();
  for (const auto& op : r.ops) ops.push_back(op_to_json(op));
  j["ops"] = std::move(ops);
  return j;
}

}  // namespace xpu
