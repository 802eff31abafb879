#include "sim/engine/machine.h"

#include <cstdio>
#include <map>

#include "models/network/net_element.h"
#include "sim/config/registry.h"

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

// The connection between two adjacent vertices of a path, as a data path element.
DataPort* edge_between(const Machine& m, size_t a, size_t b) {
  auto [e, ok] = boost::edge(a, b, m.hw->graph);
  return m.edges[m.hw->graph[e].connection].get();
}

// The data path along `p` (a block's vertex, then the vertices to its target): every connection, and every block on
// the way that is a DataPort and that `keep` accepts (`last`: the target itself). Returns the summed latency.
template <class Keep>
uint64_t collect_path(const Machine& m, const std::vector<size_t>& p, Keep keep, std::vector<DataPort*>& out) {
  uint64_t lat = 0;
  for (size_t k = 1; k < p.size(); ++k) {
    DataPort* edge = edge_between(m, p[k - 1], p[k]);
    out.push_back(edge);
    lat += edge->latency_ps();
    auto* port = dynamic_cast<DataPort*>(m.components[p[k]].get());
    if (port && keep(port, k + 1 == p.size())) {
      out.push_back(port);
      lat += port->latency_ps();
    }
  }
  return lat;
}

}  // namespace

void build_components_and_edges(const HardwareConfig& hw, Machine& m) {
  m.hw = &hw;
  for (const auto& c : hw.components)
    m.components.emplace_back(Registry::instance().find(c.type)->create(c.name, c.params));
  for (const auto& c : hw.connections) m.edges.push_back(std::make_unique<EdgePort>(c));

  auto cores = find_all<ComputeCore>(m.components);
  auto hosts = find_all<HostModule>(m.components);
  if (cores.size() != 1)
    throw InputError(SourceMark{hw.file, 0, 0}, "expected exactly one compute_core component, found " +
                                                    std::to_string(cores.size()) +
                                                    " (multi-device configs need the scale-out models)");
  if (hosts.size() != 1)
    throw InputError(SourceMark{hw.file, 0, 0},
                     "expected exactly one host component, found " + std::to_string(hosts.size()));
  m.core_index = cores[0];
  m.core = static_cast<ComputeCore*>(m.components[cores[0]].get());
  m.host = static_cast<HostModule*>(m.components[hosts[0]].get());
}

void bind_core_data_path(Machine& m) {
  const HardwareConfig& hw = *m.hw;
  size_t mem = SIZE_MAX;
  std::vector<size_t> best;
  for (size_t i = 0; i < m.components.size(); ++i) {
    if (!dynamic_cast<MainMemory*>(m.components[i].get())) continue;
    auto p = hw.path(m.core_index, i);
    if (!p.empty() && (best.empty() || p.size() < best.size())) { best = p; mem = i; }
  }
  if (mem == SIZE_MAX)
    throw hw.join_error(hw.components[m.core_index].mark, "compute core '" + hw.components[m.core_index].name +
                                                              "' has no connection path to a memory (hbm)");
  m.memory_index = mem;
  std::vector<DataPort*> to_cache, to_memory;
  uint64_t lat_cache = 0, lat_mem = 0;
  for (size_t i = 1; i < best.size(); ++i) {
    DataPort* edge = edge_between(m, best[i - 1], best[i]);
    auto* port = dynamic_cast<DataPort*>(m.components[best[i]].get());
    auto& list = m.cache ? to_memory : to_cache;
    list.push_back(edge);
    lat_mem += edge->latency_ps();
    if (port) {
      list.push_back(port);
      lat_mem += port->latency_ps();
    }
    if (!m.cache) {
      lat_cache = lat_mem;
      if (auto* c = dynamic_cast<CacheLevel*>(m.components[best[i]].get())) m.cache = c;
    }
  }
  if (!m.cache) { to_memory.insert(to_memory.begin(), to_cache.begin(), to_cache.end()); to_cache.clear(); }
  m.core->bind_memory(to_cache, m.cache, to_memory, lat_cache, lat_mem);
  // The board's power cap covers every block on the device; the host's CPU and the network's switches are not on it.
  double board_static = 0;
  for (const auto& c : m.components)
    if (c.get() != static_cast<Component*>(m.host) && !dynamic_cast<NetElement*>(c.get()))
      board_static += c->static_power_w();
  m.core->bind_power(board_static);
}

void place_engines(const Workload& wl, Machine& m) {
  const HardwareConfig& hw = *m.hw;
  const size_t mem = m.memory_index;
  // Engines learn each resident tensor's class (weights, embeddings, ...) from here: they read ops, not footprints.
  std::map<std::string, std::string> classes;
  bool classified = false;
  for (size_t i = 0; i < m.components.size(); ++i) {
    auto* e = dynamic_cast<OpEngine*>(m.components[i].get());
    if (!e) continue;
    auto p = hw.path(i, mem);
    if (p.empty())
      throw hw.join_error(hw.components[i].mark, "'" + hw.components[i].name + "' has no connection path to '" +
                                                     hw.components[mem].name + "' (its inputs and weights come from there)");
    std::vector<DataPort*> path;
    // A cache on the way does not keep streamed inputs: they pass through to memory.
    const uint64_t lat = collect_path(
        m, p, [](DataPort* port, bool last) { return last || !dynamic_cast<CacheLevel*>(port); }, path);
    e->bind_memory(path, lat);
    if (!classified) { classes = resident_classes(wl); classified = true; }
    e->plan(wl, classes);
    m.in_engine_bytes += e->resident_bytes();
    m.engines.push_back(e);
  }
}

void bind_offload_tier(const Workload& wl, const Footprint& need, bool check_memory, Machine& m) {
  const HardwareConfig& hw = *m.hw;
  for (size_t i = 0; i < m.components.size() && !m.offload; ++i) {
    auto* tier = dynamic_cast<OffloadTier*>(m.components[i].get());
    if (!tier) continue;
    auto p = hw.path(m.core_index, i);
    if (p.empty()) continue;
    m.offload = tier;
    std::vector<DataPort*> to_pool;
    // Only the pool itself serves the offloaded bytes; blocks on the way are crossed by their connections.
    const uint64_t lat = collect_path(m, p, [](DataPort*, bool last) { return last; }, to_pool);
    m.core->bind_offload(to_pool, lat);
    for (const auto& [name, cls] : resident_classes(wl))
      if (tier->holds(cls)) m.offloaded.insert(name);
    for (const char* c : {"weights", "kv_cache", "optimizer", "embeddings"})
      if (tier->holds(c)) m.offloaded_bytes += need.of_class(c);
    if (check_memory && m.offloaded_bytes > tier->capacity_bytes()) {
      char buf[200];
      std::snprintf(buf, sizeof buf, "offloads %.2f GB to '%s' but its share per device is %.2f GB",
                    m.offloaded_bytes / 1e9, hw.components[i].name.c_str(), tier->capacity_bytes() / 1e9);
      throw InputError(SourceMark{wl.source, 0, 0}, "workload '" + wl.name + "' " + buf);
    }
  }
}

void check_device_memory(const Workload& wl, const Footprint& need, const Machine& m) {
  const double capacity = m.memory().capacity_bytes();
  const double elsewhere = m.offloaded_bytes + m.in_engine_bytes;
  if (need.total() - elsewhere <= capacity) return;
  char buf[160];
  std::snprintf(buf, sizeof buf, "needs %.2f GB of device memory but '%s' holds %.2f GB (short by %.2f GB): ",
                (need.total() - elsewhere) / 1e9, m.hw->components[m.memory_index].name.c_str(), capacity / 1e9,
                (need.total() - elsewhere - capacity) / 1e9);
  throw InputError(SourceMark{wl.source, 0, 0}, "workload '" + wl.name + "' " + buf + need.describe() +
                                                    "; use more devices, a smaller batch or a larger memory");
}

void warm_cache_with_inputs(const Workload& wl, Machine& m) {
  // What existed before the run (weights, inputs, a KV cache the step appends to) is what is read beyond what the
  // workload itself writes, as in CUDA-graph timing loops or a decode step after the one before.
  if (!m.cache) return;
  std::map<std::string, double> produced, touched;
  double unnamed = 0;
  for (const auto& op : wl.ops) {
    for (const auto& t : op.writes) produced[t.name] = std::max(produced[t.name], t.bytes);
    for (const auto* list : {&op.reads, &op.writes})
      for (const auto& t : *list)
        if (t.name.empty()) unnamed += t.bytes;
        else touched[t.name] = std::max(touched[t.name], t.bytes);
  }
  // The run before this one touched the whole footprint in the same order: a cyclic stream. Under LRU, one larger
  // than the cache leaves nothing the next pass reaches before evicting it (an add of two 16 MB inputs into a 16 MB
  // output replays at the HBM rate on a 50 MB L2).
  double footprint = unnamed;
  for (const auto& [name, bytes] : touched) footprint += bytes;
  if (footprint > m.cache->usable_bytes()) return;
  for (const auto& op : wl.ops)
    for (const auto& t : op.reads) {
      auto it = produced.find(t.name);
      if (it == produced.end() || t.bytes > it->second) m.cache->touch(t.name, t.bytes);
    }
}

void build_network(Machine& m) {
  // The device above is device 0 and stands for every rank.
  if (!m.hw->network.present) return;
  std::map<std::string, NetElement*> elements;
  for (auto& c : m.components)
    if (auto* e = dynamic_cast<NetElement*>(c.get())) elements[c->basename()] = e;
  m.network = std::make_unique<Network>("network", m.hw->network, elements);
}

DeviceCounters device_counters(Machine& m) {
  DeviceCounters c;
  for (auto& b : m.components)
    if (!dynamic_cast<NetElement*>(b.get()) && b.get() != static_cast<Component*>(m.host)) c.blocks.push_back(b.get());
  for (auto& e : m.edges) c.edges.push_back(e.get());
  return c;
}

void collect_headline(const Workload& wl, const Machine& m, double total_s, RunResult& res) {
  const HardwareConfig& hw = *m.hw;
  res.hw_name = hw.name;
  res.hw_file = hw.file;
  res.workload_name = wl.name;
  res.workload_file = wl.source;
  res.workload_description = wl.description;
  res.devices = hw.network.present ? hw.network.devices : 1;
  // The job spans tp x pp x dp devices (expert groups sit inside the data-parallel ranks); each data-parallel replica
  // produces the workload's items. The simulated device is one rank: the job's totals are its figures times the
  // job's devices, and the system's other devices (if any) are idle and not counted.
  auto degree = [&](const char* k) {
    auto it = wl.parallel.find(k);
    return it == wl.parallel.end() ? int64_t(1) : std::max<int64_t>(1, it->second);
  };
  res.replicas = degree("dp");
  // A replayed rank declares no parallelism, but its collectives say how many devices took part.
  int64_t widest = 1;
  for (const auto& op : wl.ops)
    if (op.kind == OpKind::collective) widest = std::max(widest, std::get<CollectiveShape>(op.shape).group);
  res.job_devices = std::min<int64_t>(res.devices, std::max(widest, degree("tp") * degree("pp") * res.replicas));
  res.items_per_replica = wl.items;
  res.items = wl.items * double(res.replicas);
  res.item = wl.item;
  res.total_time_s = total_s;
  res.stack = wl.stack;
  res.kernels = wl.ops.size();
  res.eager_kernels = wl.eager_kernels ? wl.eager_kernels : wl.ops.size();
  res.fused_bytes = wl.fused_bytes;
  for (const auto& op : res.ops) { res.flops += op.flops; res.hbm_bytes += op.bytes; }
  const UnitInfo& u = m.core->info();
  // The ceiling for the dtype that carries most of the arithmetic, at the datasheet rate.
  std::map<DType, double> flops_by_dtype;
  for (const auto& op : wl.ops) flops_by_dtype[op.dtype] += op.flops();
  DType main_dtype = DType::bf16;
  for (const auto& [d, f] : flops_by_dtype)
    if (f > flops_by_dtype[main_dtype]) main_dtype = d;
  res.peak_flops = u.matrix_peak(main_dtype) * u.units;
  for (OpEngine* e : m.engines) res.peak_flops += e->peak_flops();
  res.peak_hbm_bw = u.mem_bw;
  res.max_clock_hz = u.clock_hz;
  res.sustained_clock_hz = m.core->sustained_clock_hz();
  res.tdp_w = m.core->tdp_w();
  res.effective_config = tree_to_json(hw.tree);
}

void collect_component_records(const Machine& m, double t, RunResult& res) {
  for (const auto& cp : m.components) {
    Component& c = *cp;
    c.finish(t);
    ComponentRecord r;
    r.name = c.basename();
    r.type = c.type();
    r.area_mm2 = c.area_mm2();
    r.energy_dynamic_j = c.dynamic_energy_j();
    r.energy_static_j = c.static_energy_j();
    r.data_movement_j = c.data_movement_energy_j();
    r.utilization = c.utilization(t);
    r.stats = c.stats().to_json();
    // Network blocks already count every instance; the device's blocks count once per device (SPMD ranks).
    r.copies = dynamic_cast<NetElement*>(&c) ? 1.0 : double(res.job_devices);
    r.scope = dynamic_cast<NetElement*>(&c) ? "system" : "device";
    res.energy_data_j += r.copies * r.data_movement_j;
    res.energy_compute_j += r.copies * (r.energy_dynamic_j - r.data_movement_j);
    res.energy_static_j += r.copies * r.energy_static_j;
    res.area_mm2 += r.area_mm2 * (r.scope == "device" ? 1.0 : 0.0);
    res.components.push_back(std::move(r));
  }
  for (const auto& e : m.edges) {
    if (e->bytes() <= 0 || (e->peak_bandwidth() <= 0 && e->energy_j() <= 0)) continue;
    ComponentRecord r;
    r.name = e->name();
    r.type = "connection";
    r.energy_dynamic_j = r.data_movement_j = e->energy_j();
    r.utilization = t > 0 ? e->busy_s() / t : 0;
    r.stats = {{"bytes", e->bytes()}};
    r.copies = double(res.job_devices);
    res.energy_data_j += r.copies * r.data_movement_j;
    res.components.push_back(std::move(r));
  }
  res.energy_j = res.energy_compute_j + res.energy_data_j + res.energy_static_j;
}

void collect_cost(const HardwareConfig& hw, const TcoOptions& o, RunResult& res) {
  res.cost = device_cost(hw);
  // Network blocks count their instances over the whole system; the job pays its devices' share.
  double network = 0;
  for (const auto& c : res.components) {
    if (c.scope != "system") continue;
    const int i = hw.index_of(c.name);
    if (i < 0 || !hw.components[size_t(i)].params.has("price")) continue;
    network += c.stats.value("instances", 0.0) * hw.components[size_t(i)].params.real("price");
  }
  if (res.devices > 0) network *= double(res.job_devices) / double(res.devices);
  res.tco = tco(res.cost, double(res.job_devices), network, res.energy_j, res.total_time_s, res.items, o);
}

void collect_memory_record(const Footprint& need, const Machine& m, RunResult& res) {
  res.memory = {{"weights_bytes", need.weights},          {"kv_cache_bytes", need.kv_cache},
                {"optimizer_bytes", need.optimizer},      {"activations_peak_bytes", need.activations},
                {"total_bytes", need.total()},            {"capacity_bytes", m.memory().capacity_bytes()},
                {"embeddings_bytes", need.embeddings},    {"gradients_bytes", need.gradients},
                {"offloaded_bytes", m.offloaded_bytes},
                {"in_engine_bytes", m.in_engine_bytes}};
}

}  // namespace xpu
