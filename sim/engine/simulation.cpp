#include "sim/engine/simulation.h"

#include <chrono>

#include "sim/engine/dispatcher.h"
#include "sim/engine/kernel_memo.h"
#include "sim/engine/machine.h"
#include "sim/engine/analysis.h"
#include "models/sim_time.h"

namespace xpu {

RunResult simulate(const HardwareConfig& hw, const Workload& wl, const RunOptions& opt) {
  auto wall0 = std::chrono::steady_clock::now();
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  sc_core::sc_report_handler::set_actions("/IEEE_Std_1666/deprecated", sc_core::SC_DO_NOTHING);

  sim_time_overflow() = SimTimeOverflow{};
  Machine m;
  build_components_and_edges(hw, m);
  bind_core_data_path(m);
  place_engines(wl, m);
  const Footprint need = memory_footprint(wl);
  bind_offload_tier(wl, need, opt.check_memory, m);
  if (opt.check_memory) check_device_memory(wl, need, m);
  if (opt.warm_inputs) warm_cache_with_inputs(wl, m);

  RunResult res;
  if (opt.record_tiles) m.core->record_tiles(&res.tiles, opt.tile_limit);
  build_network(m);
  Dispatcher dispatcher("dispatcher", wl, *m.host, *m.core, m.cache, m.network.get(), opt, m.offloaded, m.engines);
  // Repeated layers run identical kernels: simulate each once (tile records, when kept, need every kernel's tiles).
  KernelMemo memo;
  if (opt.memo_kernels && !opt.record_tiles) dispatcher.use_memo(&memo, device_counters(m));
  sc_core::sc_start();
  if (dispatcher.error()) std::rethrow_exception(dispatcher.error());
  if (m.network && m.network->error()) std::rethrow_exception(m.network->error());
  if (sim_time_overflow().set)
    throw InputError(SourceMark{wl.source, 0, 0}, std::string("simulated time overflows: ") +
                                                     sim_time_overflow().where +
                                                     " took longer than xpusim's 64-bit picosecond clock holds; a rate "
                                                     "or bandwidth of the hardware config is far too low");
  if (dispatcher.completed() != wl.ops.size())
    throw std::logic_error("simulation stopped with " + std::to_string(wl.ops.size() - dispatcher.completed()) +
                           " ops unfinished");
  const double t = sc_core::sc_time_stamp().to_seconds();

  res.ops = dispatcher.take_records();  // moved: a million-op run holds its records once
  res.gpu_busy_s = dispatcher.busy_s();
  res.gpu_active_s = dispatcher.active_s();
  res.events = m.core->events() + dispatcher.events() + (m.network ? m.network->events() : 0);
  for (OpEngine* e : m.engines) res.events += e->events();
  collect_headline(wl, m, t, res);
  collect_component_records(m, t, res);
  collect_memory_record(need, m, res);
  collect_cost(hw, opt.tco, res);
  res.analysis = analysis_to_json(analyze_run(res, wl), res);
  res.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  return res;
}

}  // namespace xpu
