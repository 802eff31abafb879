#include "sim/simulation.h"

#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <memory>

#include "models/compute_core.h"
#include "models/network/net_element.h"
#include "models/op_engine.h"
#include "models/host.h"
#include "sim/analysis.h"
#include "sim/dispatcher.h"
#include "sim/edge_port.h"
#include "sim/network/network.h"
#include "sim/registry.h"
#include "sim/workload/footprint.h"

namespace xpu {
namespace {

nlohmann::json tree_to_json(const ConfigNode& n) {
  switch (n.kind) {
    case ConfigNode::Kind::Null: return nullptr;
    case ConfigNode::Kind::Scalar: return n.scalar;
    case ConfigNode::Kind::List: {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& i : n.list) a.push_back(tree_to_json(i));
      return a;
    }
    case ConfigNode::Kind::Map: {
      nlohmann::json o = nlohmann::json::object();
      for (const auto& [k, v] : n.map) o[k] = tree_to_json(v);
      return o;
    }
  }
  return nullptr;
}

template <class T>
std::vector<size_t> find_all(const std::vector<std::unique_ptr<Component>>& comps) {
  std::vector<size_t> out;
  for (size_t i = 0; i < comps.size(); ++i)
    if (dynamic_cast<T*>(comps[i].get())) out.push_back(i);
  return out;
}

}  // namespace

RunResult simulate(const HardwareConfig& hw, const Workload& wl, const RunOptions& opt) {
  auto wall0 = std::chrono::steady_clock::now();
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  sc_core::sc_report_handler::set_actions("/IEEE_Std_1666/deprecated", sc_core::SC_DO_NOTHING);

  std::vector<std::unique_ptr<Component>> comps;
  for (const auto& c : hw.components) comps.emplace_back(Registry::instance().find(c.type)->create(c.name, c.params));
  std::vector<std::unique_ptr<EdgePort>> edges;
  for (const auto& c : hw.connections) edges.push_back(std::make_unique<EdgePort>(c));

  auto cores = find_all<ComputeCore>(comps);
  auto hosts = find_all<HostModule>(comps);
  if (cores.size() != 1)
    throw InputError(SourceMark{hw.file, 0, 0}, "expected exactly one compute_core component, found " +
                                                    std::to_string(cores.size()) +
                                                    " (multi-device configs need the scale-out models)");
  if (hosts.size() != 1)
    throw InputError(SourceMark{hw.file, 0, 0},
                     "expected exactly one host component, found " + std::to_string(hosts.size()));
  auto* core = static_cast<ComputeCore*>(comps[cores[0]].get());
  auto* host = static_cast<HostModule*>(comps[hosts[0]].get());

  // Data path: the nearest main memory by hops; blocks up to the first cache serve hits, the rest serve misses.
  size_t mem = SIZE_MAX;
  std::vector<size_t> best;
  for (size_t i = 0; i < comps.size(); ++i) {
    if (!dynamic_cast<MainMemory*>(comps[i].get())) continue;
    auto p = hw.path(cores[0], i);
    if (!p.empty() && (best.empty() || p.size() < best.size())) { best = p; mem = i; }
  }
  if (mem == SIZE_MAX)
    throw InputError(hw.components[cores[0]].mark,
                     "compute core '" + hw.components[cores[0]].name + "' has no connection path to a memory (hbm)");
  std::vector<DataPort*> to_cache, to_memory;
  CacheLevel* cache = nullptr;
  uint64_t lat_cache = 0, lat_mem = 0;
  for (size_t i = 1; i < best.size(); ++i) {
    auto [e, ok] = boost::edge(best[i - 1], best[i], hw.graph);
    DataPort* edge = edges[hw.graph[e].connection].get();
    auto* port = dynamic_cast<DataPort*>(comps[best[i]].get());
    auto& list = cache ? to_memory : to_cache;
    list.push_back(edge);
    lat_mem += edge->latency_ps();
    if (port) {
      list.push_back(port);
      lat_mem += port->latency_ps();
    }
    if (!cache) {
      lat_cache = lat_mem;
      if (auto* c = dynamic_cast<CacheLevel*>(comps[best[i]].get())) cache = c;
    }
  }
  if (!cache) { to_memory.insert(to_memory.begin(), to_cache.begin(), to_cache.end()); to_cache.clear(); }
  core->bind_memory(to_cache, cache, to_memory, lat_cache, lat_mem);

  // Engines beside the core (CIM tiles) reach main memory over their own path; they place their weights now, and
  // what they hold no longer needs device memory.
  std::vector<OpEngine*> engines;
  double in_engines = 0;
  for (size_t i = 0; i < comps.size(); ++i) {
    auto* e = dynamic_cast<OpEngine*>(comps[i].get());
    if (!e) continue;
    auto p = hw.path(i, mem);
    if (p.empty())
      throw InputError(hw.components[i].mark, "'" + hw.components[i].name + "' has no connection path to '" +
                                                  hw.components[mem].name + "' (its inputs and weights come from there)");
    std::vector<DataPort*> path;
    uint64_t lat = 0;
    for (size_t k = 1; k < p.size(); ++k) {
      auto [edge_desc, ok] = boost::edge(p[k - 1], p[k], hw.graph);
      DataPort* edge = edges[hw.graph[edge_desc].connection].get();
      path.push_back(edge);
      lat += edge->latency_ps();
      if (auto* port = dynamic_cast<DataPort*>(comps[p[k]].get())) {
        // A cache on the way does not keep streamed inputs: they pass through to memory.
        if (dynamic_cast<CacheLevel*>(port) && k + 1 < p.size()) continue;
        path.push_back(port);
        lat += port->latency_ps();
      }
    }
    e->bind_memory(path, lat);
    e->plan(wl);
    in_engines += e->resident_bytes();
    engines.push_back(e);
  }

  // An offload tier (a memory pool) on a path from the core keeps whole classes of resident tensors.
  OffloadTier* pool = nullptr;
  std::set<std::string> offloaded;
  Footprint need = memory_footprint(wl);
  double pooled = 0;
  for (size_t i = 0; i < comps.size() && !pool; ++i) {
    auto* tier = dynamic_cast<OffloadTier*>(comps[i].get());
    if (!tier) continue;
    auto p = hw.path(cores[0], i);
    if (p.empty()) continue;
    pool = tier;
    std::vector<DataPort*> to_pool;
    uint64_t lat = 0;
    for (size_t k = 1; k < p.size(); ++k) {
      auto [e, ok] = boost::edge(p[k - 1], p[k], hw.graph);
      DataPort* edge = edges[hw.graph[e].connection].get();
      to_pool.push_back(edge);
      lat += edge->latency_ps();
      if (auto* port = dynamic_cast<DataPort*>(comps[p[k]].get()); port && k + 1 == p.size()) {
        to_pool.push_back(port);
        lat += port->latency_ps();
      }
    }
    core->bind_offload(to_pool, lat);
    for (const auto& [name, cls] : resident_classes(wl))
      if (tier->holds(cls)) offloaded.insert(name);
    for (const char* c : {"weights", "kv_cache", "optimizer", "embeddings"})
      if (tier->holds(c)) pooled += need.of_class(c);
    if (opt.check_memory && pooled > tier->capacity_bytes()) {
      char buf[200];
      std::snprintf(buf, sizeof buf, "offloads %.2f GB to '%s' but its share per device is %.2f GB", pooled / 1e9,
                    hw.components[i].name.c_str(), tier->capacity_bytes() / 1e9);
      throw InputError(SourceMark{wl.source, 0, 0}, "workload '" + wl.name + "' " + buf);
    }
  }
  // A workload that does not fit the device memory is reported rather than simulated as if it did.
  const double capacity = dynamic_cast<MainMemory*>(comps[mem].get())->capacity_bytes();
  const double elsewhere = pooled + in_engines;
  if (opt.check_memory && need.total() - elsewhere > capacity) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "needs %.2f GB of device memory but '%s' holds %.2f GB (short by %.2f GB): ",
                  (need.total() - elsewhere) / 1e9, hw.components[mem].name.c_str(), capacity / 1e9,
                  (need.total() - elsewhere - capacity) / 1e9);
    throw InputError(SourceMark{wl.source, 0, 0}, "workload '" + wl.name + "' " + buf + need.describe() +
                                                      "; use more devices, a smaller batch or a larger memory");
  }

  // Warm start: what the workload reads but never writes (weights, inputs), and what existed before the run (a KV
  // cache the step appends to), is left in the cache by the previous replay of the same work, as in CUDA-graph
  // timing loops or a decode step after the one before.
  if (opt.warm_inputs && cache) {
    std::map<std::string, double> produced;
    for (const auto& op : wl.ops)
      for (const auto& t : op.writes) produced[t.name] = std::max(produced[t.name], t.bytes);
    for (const auto& op : wl.ops)
      for (const auto& t : op.reads) {
        auto it = produced.find(t.name);
        if (it == produced.end() || t.bytes > it->second) cache->touch(t.name, t.bytes);
      }
  }

  RunResult res;
  if (opt.record_tiles) core->record_tiles(&res.tiles, opt.tile_limit);
  // Copies of the device joined by the `network:` tiers; the device above is device 0 and stands for every rank.
  std::unique_ptr<Network> network;
  if (hw.network.present) {
    std::map<std::string, NetElement*> elements;
    for (auto& c : comps)
      if (auto* e = dynamic_cast<NetElement*>(c.get())) elements[c->name()] = e;
    network = std::make_unique<Network>("network", hw.network, elements);
  }
  Dispatcher dispatcher("dispatcher", wl, *host, *core, cache, network.get(), opt, offloaded, engines);
  sc_core::sc_start();
  if (dispatcher.error()) std::rethrow_exception(dispatcher.error());
  if (network && network->error()) std::rethrow_exception(network->error());
  if (dispatcher.completed() != wl.ops.size())
    throw std::logic_error("simulation stopped with " + std::to_string(wl.ops.size() - dispatcher.completed()) +
                           " ops unfinished");
  double t = sc_core::sc_time_stamp().to_seconds();

  res.hw_name = hw.name;
  res.hw_file = hw.file;
  res.workload_name = wl.name;
  res.workload_file = wl.source;
  res.workload_description = wl.description;
  res.items = wl.items;
  res.item = wl.item;
  res.total_time_s = t;
  res.ops = dispatcher.take_records();  // moved: a million-op run holds its records once
  res.gpu_busy_s = dispatcher.busy_s();
  res.events = core->events() + dispatcher.events() + (network ? network->events() : 0);
  for (OpEngine* e : engines) res.events += e->events();
  res.devices = hw.network.present ? hw.network.devices : 1;
  for (const auto& op : res.ops) { res.flops += op.flops; res.hbm_bytes += op.bytes; }
  const UnitInfo& u = core->info();
  // The ceiling for the dtype that carries most of the arithmetic, at the datasheet rate.
  std::map<DType, double> flops_by_dtype;
  for (const auto& op : wl.ops) flops_by_dtype[op.dtype] += op.flops();
  DType main_dtype = DType::bf16;
  for (const auto& [d, f] : flops_by_dtype)
    if (f > flops_by_dtype[main_dtype]) main_dtype = d;
  res.peak_flops = u.matrix_peak(main_dtype) * u.units;
  for (OpEngine* e : engines) res.peak_flops += e->peak_flops();
  res.peak_hbm_bw = u.mem_bw;
  for (size_t i = 0; i < comps.size(); ++i) {
    Component& c = *comps[i];
    c.finish(t);
    ComponentRecord r;
    r.name = c.name();
    r.type = c.type();
    r.area_mm2 = c.area_mm2();
    r.energy_dynamic_j = c.dynamic_energy_j();
    r.energy_static_j = c.static_energy_j();
    r.data_movement_j = c.data_movement_energy_j();
    r.utilization = c.utilization(t);
    r.stats = c.stats().to_json();
    // Network blocks already count every instance; the device's blocks count once per device (SPMD ranks).
    r.copies = dynamic_cast<NetElement*>(&c) ? 1.0 : double(res.devices);
    r.scope = dynamic_cast<NetElement*>(&c) ? "system" : "device";
    res.energy_data_j += r.copies * r.data_movement_j;
    res.energy_compute_j += r.copies * (r.energy_dynamic_j - r.data_movement_j);
    res.energy_static_j += r.copies * r.energy_static_j;
    res.area_mm2 += r.area_mm2 * (r.scope == "device" ? 1.0 : 0.0);
    res.components.push_back(std::move(r));
  }
  for (const auto& e : edges) {
    if (e->bytes() <= 0 || (e->peak_bandwidth() <= 0 && e->energy_j() <= 0)) continue;
    ComponentRecord r;
    r.name = e->name();
    r.type = "connection";
    r.energy_dynamic_j = r.data_movement_j = e->energy_j();
    r.utilization = t > 0 ? e->busy_s() / t : 0;
    r.stats = {{"bytes", e->bytes()}};
    r.copies = double(res.devices);
    res.energy_data_j += r.copies * r.data_movement_j;
    res.components.push_back(std::move(r));
  }
  res.energy_j = res.energy_compute_j + res.energy_data_j + res.energy_static_j;
  res.effective_config = tree_to_json(hw.tree);
  res.memory = {{"weights_bytes", need.weights}, {"kv_cache_bytes", need.kv_cache}, {"optimizer_bytes", need.optimizer},
                {"activations_peak_bytes", need.activations}, {"total_bytes", need.total()},
                {"capacity_bytes", capacity}, {"embeddings_bytes", need.embeddings}, {"offloaded_bytes", pooled},
                {"in_engine_bytes", in_engines}};
  res.analysis = analysis_to_json(analyze_run(res, wl), res);
  res.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  return res;
}

}  // namespace xpu
