#include "sim/config/hardware.h"

#include <boost/graph/breadth_first_search.hpp>

#include <algorithm>
#include <cstdio>
#include <map>

#include "sim/config/registry.h"

namespace xpu {

const std::vector<ParamSpec>& connection_params() {
  static const std::vector<ParamSpec> specs = [] {
    std::vector<ParamSpec> s = {
        p_string("from", "", "name of one endpoint component"),
        p_string("to", "", "name of the other endpoint component"),
        p_qty("bandwidth", Dim::Bandwidth, "0 B/s", "bandwidth per direction; 0 means the edge is not a bottleneck"),
        p_qty("latency", Dim::Time, "0 s", "one-way latency added to every transfer that crosses the edge"),
        p_qty("energy_per_bit", Dim::EnergyPerBit, "0 pJ/bit", "energy per bit that crosses the edge"),
    };
    return s;
  }();
  return specs;
}

int HardwareConfig::index_of(const std::string& n) const {
  for (size_t i = 0; i < components.size(); ++i)
    if (components[i].name == n) return static_cast<int>(i);
  return -1;
}

namespace {
std::vector<size_t> bfs_parents(const TopologyGraph& g, size_t from) {
  std::vector<size_t> parent(boost::num_vertices(g), SIZE_MAX);
  parent[from] = from;
  std::vector<size_t> queue{from};
  for (size_t qi = 0; qi < queue.size(); ++qi) {
    size_t v = queue[qi];
    for (auto [e, end] = boost::out_edges(v, g); e != end; ++e) {
      size_t u = boost::target(*e, g);
      if (parent[u] == SIZE_MAX) { parent[u] = v; queue.push_back(u); }
    }
  }
  return parent;
}
// Runs the kind's area model and fills what the config leaves out: `area` (with the block's share of the die's
// integration overhead), `static_power` (leakage of that area plus idle power such as DRAM refresh) and the energy
// parameters the model derives from the node. Written values win.
void derive_from_technology(ComponentSpec& c, ConfigNode& node, const ComponentKind& kind, const Technology& t) {
  const AreaModel* model = Registry::instance().area_model(c.type);
  if (!model) return;
  c.estimate = (*model)(c.params, t);
  const double blocks = c.estimate.total_mm2();
  c.estimate.parts.push_back({"integration (clock, power grid, test)", blocks * t["integration_overhead"]});
  const double area = c.estimate.total_mm2();
  bool changed = false;
  auto fill = [&](const std::string& key, const std::string& yaml) {
    if (node.find(key)) return false;
    ConfigNode v = parse_yaml(yaml, "technology " + t.node);
    v.mark = v.key_mark = t.mark;
    node.set(key, v);
    changed = true;
    return true;
  };
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g mm2", area - c.estimate.own_params_mm2);
  if (fill("area", buf)) c.area_source = "derived";
  std::snprintf(buf, sizeof buf, "%.9g W", area * t["leakage_w_per_mm2"] + c.estimate.idle_w);
  c.static_derived = fill("static_power", buf);
  for (const auto& [key, yaml] : c.estimate.defaults)
    if (!fill(key, yaml) && t["voltage"] != t["nominal_voltage"] && key.find("energy") != std::string::npos)
      c.estimate.notes.push_back(key + " as written: technology.voltage does not scale it (only what the node derives)");
  if (changed) c.params = validate_params(c.name, c.type, node, kind.params, {"type"});
}

}  // namespace

std::vector<size_t> HardwareConfig::path(size_t from, size_t to) const {
  auto parent = bfs_parents(graph, from);
  if (parent[to] == SIZE_MAX) return {};
  std::vector<size_t> out;
  for (size_t v = to; v != from; v = parent[v]) out.push_back(v);
  out.push_back(from);
  std::reverse(out.begin(), out.end());
  return out;
}

InputError HardwareConfig::join_error(const SourceMark& component, const std::string& what) const {
  if (connections_mark.file.empty() || connections_mark.file == component.file) return InputError(component, what);
  return InputError(connections_mark, what + " (component at " + component.str() +
                                          "): this `connections:` list is the one in force; it replaces the whole list "
                                          "of the config it extends");
}

std::vector<size_t> HardwareConfig::path_connections(size_t from, size_t to) const {
  auto verts = path(from, to);
  std::vector<size_t> out;
  for (size_t i = 1; i < verts.size(); ++i) {
    auto [e, ok] = boost::edge(verts[i - 1], verts[i], graph);
    if (ok) out.push_back(graph[e].connection);
  }
  return out;
}

HardwareConfig build_hardware(ConfigNode tree, const std::string& file) {
  HardwareConfig hw;
  hw.file = file;
  if (!tree.is_map()) throw InputError(tree.mark, "a hardware config must be a mapping with `components:`");
  // `calibration:` is what `xpusim calibrate` records in the overlays it writes (the fitted paths, the data, the
  // errors); `validate --cv` reads its `fitted` list.
  static const std::vector<std::string> top = {"name",    "description", "components", "connections",
                                               "network", "calibration", "technology"};
  for (const auto& [k, v] : tree.map) {
    if (std::find(top.begin(), top.end(), k) == top.end()) {
      std::string hint = closest_match(k, top);
      throw InputError(v.key_mark, "unknown top-level key '" + k + "'" +
                                       (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                                       "; expected name, description, extends, technology, components, connections, network, "
                                       "calibration");
    }
  }
  if (const ConfigNode* c = tree.find("calibration")) {
    if (!c->is_map()) throw InputError(c->mark, "`calibration:` must be a mapping (as `xpusim calibrate` writes it)");
    static const std::vector<std::string> keys = {"cases", "rows", "cross_validation", "fitted", "mape_pct"};
    for (const auto& [k, v] : c->map)
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) {
        std::string hint = closest_match(k, keys);
        throw InputError(v.key_mark, "unknown key 'calibration." + k + "'" +
                                         (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                                         "; expected cases, rows, cross_validation, fitted, mape_pct");
      }
    if (const ConfigNode* f = c->find("fitted"); f && !f->is_map())
      throw InputError(f->mark, "`calibration.fitted` must map each fitted path to its record");
  }
  if (const ConfigNode* t = tree.find("technology")) hw.technology = parse_technology(*t);
  if (const ConfigNode* n = tree.find("name")) hw.name = n->scalar;
  if (const ConfigNode* n = tree.find("description")) hw.description = n->scalar;
  const ConfigNode* comps = tree.find("components");
  if (!comps || !comps->is_map() || comps->map.empty())
    throw InputError(comps ? comps->mark : tree.mark, "expected `components:` mapping names to {type: ..., ...}");
  for (const auto& [name, node] : comps->map) {
    if (!node.is_map()) throw InputError(node.mark, "component '" + name + "': expected a mapping with `type:`");
    const ConfigNode* type = node.find("type");
    if (!type || !type->is_scalar()) {
      // Point at the component's name rather than at its first parameter.
      const SourceMark& at = type ? type->mark : node.key_mark.file.empty() ? node.mark : node.key_mark;
      throw InputError(at, "component '" + name + "': " + (type ? "`type:` expects a name" : "missing `type:`") +
                               " (`xpusim describe` lists the types)");
    }
    const ComponentKind* kind = Registry::instance().find(type->scalar);
    if (!kind) {
      std::string hint = closest_match(type->scalar, Registry::instance().types());
      throw InputError(type->mark, "component '" + name + "': unknown type '" + type->scalar + "'" +
                                       (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
    }
    ComponentSpec c;
    c.name = name;
    c.type = type->scalar;
    c.mark = node.key_mark;
    ConfigNode with_preset = node;
    apply_preset(*kind, with_preset);
    c.params = validate_params(name, c.type, with_preset, kind->params, {"type"});
    if (hw.technology.present()) derive_from_technology(c, with_preset, *kind, hw.technology);
    hw.components.push_back(std::move(c));
  }
  if (const ConfigNode* conns = tree.find("connections")) {
    hw.connections_mark = conns->key_mark.file.empty() ? conns->mark : conns->key_mark;
    if (!conns->is_list()) throw InputError(conns->mark, "`connections:` expects a list of {from: A, to: B, ...}");
    std::map<std::pair<std::string, std::string>, SourceMark> seen;
    for (const auto& item : conns->list) {
      if (!item.is_map()) throw InputError(item.mark, "a connection must be a mapping {from: A, to: B}");
      ParamSet p = validate_params("connection", "connection", item, connection_params(), {});
      ConnectionSpec c;
      c.from = p.str("from");
      c.to = p.str("to");
      c.bandwidth = p.qty("bandwidth");
      c.latency_s = p.qty("latency");
      c.energy_per_bit = p.qty("energy_per_bit");
      c.mark = item.mark;
      for (const auto& [end, key] : {std::pair{c.from, "from"}, std::pair{c.to, "to"}}) {
        if (hw.index_of(end) < 0) {
          std::vector<std::string> names;
          for (const auto& comp : hw.components) names.push_back(comp.name);
          std::string hint = closest_match(end, names);
          throw InputError(item.find(key)->mark, std::string("connection ") + key + ": no component named '" + end +
                                                     "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
        }
      }
      if (c.from == c.to) throw InputError(item.mark, "connection from '" + c.from + "' to itself");
      auto [it, fresh] = seen.emplace(std::minmax(c.from, c.to), item.mark);
      if (!fresh)
        throw InputError(item.mark, "duplicate connection between '" + c.from + "' and '" + c.to +
                                        "' (first listed at " + it->second.str() + ")");
      hw.connections.push_back(c);
    }
  }
  hw.graph = TopologyGraph(hw.components.size());
  for (size_t i = 0; i < hw.components.size(); ++i) hw.graph[i].component = i;
  for (size_t i = 0; i < hw.connections.size(); ++i) {
    auto [e, ok] = boost::add_edge(hw.index_of(hw.connections[i].from), hw.index_of(hw.connections[i].to), hw.graph);
    hw.graph[e].connection = i;
  }
  if (const ConfigNode* net = tree.find("network")) {
    hw.network = parse_network(*net);
    std::vector<std::string> names;
    for (const auto& comp : hw.components) names.push_back(comp.name);
    for (const auto& t : hw.network.tiers)
      for (const auto& [ref, what] : {std::pair{t.link, "link"}, std::pair{t.switch_name, "switch"}}) {
        if (ref.empty() || hw.index_of(ref) >= 0) continue;
        std::string hint = closest_match(ref, names);
        throw InputError(t.mark, "tier '" + t.name + "': " + what + " '" + ref + "' is not a component" +
                                     (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
      }
  }
  hw.tree = std::move(tree);
  if (hw.name.empty()) hw.name = file;
  return hw;
}

HardwareConfig load_hardware(const std::string& path, const std::vector<std::string>& overrides) {
  ConfigNode tree = load_with_extends(path);
  // `technology: n4` as {node: n4}, so that `-p technology.wafer_price=…` (and a sweep's `hw.technology.…`) can
  // replace one figure of the node.
  if (ConfigNode* t = tree.find("technology"); t && t->is_scalar()) {
    ConfigNode node = *t, map;
    map.kind = ConfigNode::Kind::Map;
    map.mark = t->mark;
    map.key_mark = t->key_mark;
    node.key_mark = t->mark;
    map.set("node", node);
    tree.set("technology", map);
  }
  for (const auto& o : overrides) {
    std::string a = o;
    // Shorthand: `hbm.bandwidth=...` means `components.hbm.bandwidth=...` when `hbm` is a component.
    auto dot = a.find('.');
    const ConfigNode* comps = tree.find("components");
    if (dot != std::string::npos && comps && comps->find(a.substr(0, dot))) a = "components." + a;
    apply_override(tree, a, "-p " + o);
  }
  return build_hardware(std::move(tree), path);
}

}  // namespace xpu
