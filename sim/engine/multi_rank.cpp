#include "sim/engine/multi_rank.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>

#include "models/network/net_element.h"
#include "models/sim_time.h"
#include "sim/engine/analysis.h"
#include "sim/engine/communication.h"
#include "sim/engine/dispatcher.h"
#include "sim/engine/machine.h"
#include "sim/engine/rank_rendezvous.h"

namespace xpu {
namespace {

// Builds one rank's device inside a module of its own, so each rank's blocks are named rank<k>.<block>.
struct RankScope : sc_core::sc_module {
  RankScope(sc_core::sc_module_name n, const std::function<void()>& build) : sc_core::sc_module(n) { build(); }
};

}  // namespace

MultiRankResult simulate_ranks(const HardwareConfig& hw, const std::vector<Workload>& ranks, const RunOptions& opt) {
  auto wall0 = std::chrono::steady_clock::now();
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  sc_core::sc_report_handler::set_actions("/IEEE_Std_1666/deprecated", sc_core::SC_DO_NOTHING);
  sim_time_overflow() = SimTimeOverflow{};
  const size_t R = ranks.size();
  if (R == 0) throw std::logic_error("simulate_ranks: no ranks");
  const int64_t devices = hw.network.present ? hw.network.devices : 1;
  if (!hw.network.present || devices < int64_t(R))
    throw InputError(SourceMark{hw.file, 0, 0}, "replaying " + std::to_string(R) +
                                                    " ranks needs a config with a network of at least " +
                                                    std::to_string(R) + " devices, but " + hw.file + " has " +
                                                    std::to_string(devices) + " (network.devices)");

  std::vector<std::unique_ptr<Machine>> machines;
  std::vector<std::unique_ptr<RankScope>> scopes;
  std::vector<Footprint> needs;
  MultiRankResult out;
  for (size_t r = 0; r < R; ++r) {
    machines.push_back(std::make_unique<Machine>());
    Machine& m = *machines.back();
    const Workload& wl = ranks[r];
    // The footprint walks every op: only where it is checked (and rank 0's, for the report).
    needs.push_back(opt.check_memory || r == 0 ? memory_footprint(wl) : Footprint{});
    const Footprint& need = needs.back();
    scopes.push_back(std::make_unique<RankScope>(("rank" + std::to_string(r)).c_str(), [&] {
      build_components_and_edges(hw, m);
      bind_core_data_path(m);
      place_engines(wl, m);
      bind_offload_tier(wl, need, opt.check_memory, m);
      if (opt.check_memory) check_device_memory(wl, need, m);
      if (opt.warm_inputs) warm_cache_with_inputs(wl, m);
    }));
  }
  // The network joins the ranks' devices; its links and switches are rank 0's copies of the config's templates.
  build_network(*machines[0]);
  std::vector<const Workload*> ptrs;
  for (const auto& w : ranks) ptrs.push_back(&w);
  RankRendezvous rendezvous(*machines[0]->network, ptrs);

  size_t total_ops = 0, done_ops = 0;
  for (const auto& w : ranks) total_ops += w.ops.size();
  KernelMemo memo;
  std::vector<std::unique_ptr<Dispatcher>> dispatchers;
  for (size_t r = 0; r < R; ++r) {
    Machine& m = *machines[r];
    RunOptions o = opt;
    if (opt.progress) o.progress = [&](size_t, size_t) { opt.progress(++done_ops, total_ops); };
    dispatchers.push_back(std::make_unique<Dispatcher>(("dispatcher" + std::to_string(r)).c_str(), ranks[r], *m.host,
                                                       *m.core, m.cache, rendezvous.port(r), o, m.offloaded,
                                                       m.engines));
    if (opt.memo_kernels && !opt.record_tiles) dispatchers.back()->use_memo(&memo, device_counters(m));
  }
  sc_core::sc_start();
  for (const auto& d : dispatchers)
    if (d->error()) std::rethrow_exception(d->error());
  if (machines[0]->network->error()) std::rethrow_exception(machines[0]->network->error());
  if (sim_time_overflow().set)
    throw InputError(SourceMark{ranks[0].source, 0, 0}, std::string("simulated time overflows: ") +
                                                           sim_time_overflow().where +
                                                           " took longer than xpusim's 64-bit picosecond clock holds");
  for (size_t r = 0; r < R; ++r)
    if (dispatchers[r]->completed() != ranks[r].ops.size()) {
      const std::string why = rendezvous.unmatched();
      throw InputError(SourceMark{ranks[r].source, 0, 0},
                       "the replay stopped with rank " + std::to_string(r) + " at op " +
                           std::to_string(dispatchers[r]->completed() + 1) + " of " +
                           std::to_string(ranks[r].ops.size()) + (why.empty() ? "" : ": " + why));
    }
  const double t = sc_core::sc_time_stamp().to_seconds();

  // Each rank's own figures first, then the job's.
  std::vector<RunResult> per(R);
  for (size_t r = 0; r < R; ++r) {
    RunResult& res = per[r];
    res.ops = dispatchers[r]->take_records();
    for (auto& op : res.ops) op.rank = int64_t(r);
    res.gpu_busy_s = dispatchers[r]->busy_s();
    res.gpu_active_s = dispatchers[r]->active_s();
    RankReport rep;
    rep.rank = r;
    rep.source = ranks[r].source;
    rep.ops = res.ops.size();
    for (const auto& op : res.ops) rep.end_s = std::max(rep.end_s, op.end_s);
    rep.busy_s = res.gpu_busy_s;
    rep.compute_s = covered_s(res.ops, is_compute);
    rep.comm_s = covered_s(res.ops, is_comm);
    rep.exposed_comm_s = exposed_s(res.ops, is_comm, is_compute);
    rep.wait_s = rendezvous.wait_s()[r];
    out.ranks.push_back(rep);
  }
  // The analysis (bounds, critical path) is of the rank that finished last: the one the step waits for.
  size_t last = 0;
  for (size_t r = 1; r < R; ++r)
    if (out.ranks[r].end_s > out.ranks[last].end_s) last = r;
  RunResult& job = out.job;
  collect_headline(ranks[last], *machines[last], t, per[last]);
  job.analysis = analysis_to_json(analyze_run(per[last], ranks[last]), per[last]);
  job.ops.reserve(total_ops);
  for (size_t r = 0; r < R; ++r) {
    job.gpu_busy_s += per[r].gpu_busy_s / double(R);
    job.gpu_active_s += per[r].gpu_active_s / double(R);
    job.events += machines[r]->core->events() + dispatchers[r]->events();
    for (OpEngine* e : machines[r]->engines) job.events += e->events();
    for (auto& op : per[r].ops) job.ops.push_back(std::move(op));
  }
  job.events += machines[0]->network->events();
  collect_headline(ranks[0], *machines[0], t, job);
  job.flops /= double(R);
  job.hbm_bytes /= double(R);
  job.job_devices = int64_t(R);
  job.ranks_replayed = int64_t(R);
  double clock = 0;
  for (const auto& m : machines) clock += m->core->sustained_clock_hz() / double(R);
  job.sustained_clock_hz = clock;
  job.workload_name = ranks[0].name + (R > 1 ? " (+" + std::to_string(R - 1) + " ranks)" : "");
  job.workload_description = std::to_string(R) + " ranks replayed together, " + std::to_string(total_ops) + " ops";

  // Components: every rank's device blocks (each counted once) and rank 0's network blocks, which are the network's.
  std::map<std::string, ComponentRecord> merged_comps;
  std::vector<std::string> order;
  for (size_t r = 0; r < R; ++r) {
    RunResult part;
    part.job_devices = 1;
    collect_component_records(*machines[r], t, part);
    for (auto& c : part.components) {
      if (r > 0 && c.scope == "system") continue;
      job.energy_data_j += c.data_movement_j;
      job.energy_compute_j += c.energy_dynamic_j - c.data_movement_j;
      job.energy_static_j += c.energy_static_j;
      auto it = merged_comps.find(c.name);
      if (it == merged_comps.end()) {
        order.push_back(c.name);
        if (c.scope != "system") job.area_mm2 += c.area_mm2;
        merged_comps.emplace(c.name, std::move(c));
        continue;
      }
      ComponentRecord& m = it->second;
      m.energy_dynamic_j += c.energy_dynamic_j;
      m.energy_static_j += c.energy_static_j;
      m.data_movement_j += c.data_movement_j;
      m.utilization += c.utilization;
    }
  }
  for (const auto& name : order) {
    ComponentRecord c = std::move(merged_comps[name]);
    if (c.scope != "system") {
      const double n = double(R);
      c.energy_dynamic_j /= n, c.energy_static_j /= n, c.data_movement_j /= n, c.utilization /= n;
      c.copies = n;
    }
    job.components.push_back(std::move(c));
  }
  job.energy_j = job.energy_compute_j + job.energy_data_j + job.energy_static_j;
  collect_memory_record(needs[0], *machines[0], job);
  collect_cost(hw, opt.tco, job);

  const auto& w = rendezvous.worst();
  if (w.wait_s > 0) {
    char buf[300];
    std::snprintf(buf, sizeof buf, "rank %zu waited %.3f us for rank %zu at '%s'", w.waiter, w.wait_s * 1e6, w.late,
                  w.op.c_str());
    out.worst_wait = buf;
  }
  out.kernels_reused = memo.hits;
  out.kernels_simulated = memo.misses;
  job.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  return out;
}

}  // namespace xpu
