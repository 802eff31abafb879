#include "sim/network/network_spec.h"

namespace xpu {

const std::vector<ParamSpec>& network_params() {
  static const std::vector<ParamSpec> s = {
      p_count("devices", "", "copies of the device (the compute core with its memories) in the system", 1, 1e7),
  };
  return s;
}

const std::vector<ParamSpec>& tier_params() {
  static const std::vector<ParamSpec> s = [] {
    std::vector<ParamSpec> v = {
        p_string("name", "", "name of the tier (e.g. nvlink, infiniband)"),
        p_choice("topology", "", {"switched", "ring", "torus", "mesh", "full_mesh", "fat_tree", "rail", "ocs"},
                 "how the devices of one instance are joined"),
        p_count("group", "", "devices per instance of the tier (a node: 8); must divide the device count", 1, 1e7),
        p_string("link", "", "component (link, d2d, photonic_link) each connection is made of"),
        p_string("switch", "", "component (switch, optical_circuit_switch) of switched, fat_tree, rail and ocs tiers"),
        p_count("switches", "1", "switched, ocs: switches per instance", 1, 1e6),
        p_count("radix", "64", "fat_tree, rail: ports per switch", 2, 1e6),
        p_real("oversubscription", "1", "fat_tree, rail: a leaf's (or a rail switch's) down-link bandwidth over its "
               "up-link bandwidth", 1, 64),
        p_choice("circuits", "on_demand", {"on_demand", "accumulate", "ring", "torus"},
                 "ocs: circuits for each collective's peers only (on_demand), kept and added to while ports last (accumulate), or a fixed ring/torus"),
    };
    ParamSpec lanes = p_string("lanes", "", "switched: lanes of the link from each device to each switch, e.g. [5, 5, 4, 4]");
    lanes.optional = true;
    lanes.default_value.clear();
    ParamSpec dims = p_string("dims", "", "torus, mesh: sizes of the dimensions, e.g. [8, 8, 16]");
    dims.optional = true;
    v.push_back(lanes);
    v.push_back(dims);
    for (auto& p : v)
      if (p.name == "switch") p.optional = true, p.default_value.clear();
    return v;
  }();
  return s;
}

const std::vector<ParamSpec>& collective_params() {
  static const std::vector<ParamSpec> s = {
      p_choice("algorithm", "auto", {"auto", "ring", "tree", "halving_doubling", "hierarchical", "in_switch", "direct"},
               "force an algorithm, or let the size and topology choose (auto, as NCCL's tuner does)"),
      p_qty("chunk", Dim::Bytes, "2 MiB", "bytes moved per pipeline step by all channels together"),
      p_qty("step_latency", Dim::Time, "0 s", "software synchronisation per algorithm step (flags, handshakes)"),
      p_qty("launch_latency", Dim::Time, "0 s", "fixed cost of each collective call (kernel launch, setup)"),
      p_real("protocol_efficiency", "1", "payload share of the wire after the library's flags and framing", 0.01, 1),
      p_count("window", "4", "chunks in flight per sender and peer", 1, 1024),
      p_qty("in_switch_min", Dim::Bytes, "2 MiB", "auto: in-switch reduction from this size on"),
      p_qty("tree_max", Dim::Bytes, "256 KiB", "auto: double binary trees up to this size across tiers"),
      p_bool("bidirectional", "true", "rings send half the data each way round"),
      p_choice("engine", "auto", {"auto", "chunk", "flow"},
               "chunk: every chunk reserves every link (exact); flow: fluid flows sharing links max-min fairly, rates "
               "recomputed when a flow starts or ends (fast at scale); auto: flow from `flow_from` devices on"),
      p_count("flow_from", "256", "auto: systems of this many devices or more use the flow engine", 1, 100000000),
  };
  return s;
}

namespace {

std::vector<int64_t> int_list(const ConfigNode* n, const std::string& what) {
  std::vector<int64_t> out;
  if (!n) return out;
  if (!n->is_list()) throw InputError(n->mark, what + ": expected a list of integers, e.g. [4, 4]");
  for (const auto& i : n->list) {
    char* end = nullptr;
    long long v = i.is_scalar() ? std::strtoll(i.scalar.c_str(), &end, 10) : 0;
    if (!i.is_scalar() || !end || *end || v < 1 || v > 10000000)
      throw InputError(i.mark, what + ": expected a positive integer, found '" + i.scalar + "'");
    out.push_back(v);
  }
  if (out.empty()) throw InputError(n->mark, what + ": expected at least one entry");
  return out;
}

}  // namespace

NetworkSpec parse_network(const ConfigNode& node) {
  NetworkSpec spec;
  spec.present = true;
  spec.mark = node.mark;
  if (!node.is_map()) throw InputError(node.mark, "`network:` expects a mapping with devices, tiers and collectives");
  ParamSet top = validate_params("network", "network", node, network_params(), {"tiers", "collectives"});
  spec.devices = int64_t(top.count("devices"));
  const ConfigNode* tiers = node.find("tiers");
  if (!tiers || !tiers->is_list() || tiers->list.empty())
    throw InputError(tiers ? tiers->mark : node.mark, "network: expected `tiers:`, a list of {name, topology, group, "
                                                      "link, ...} from the innermost (a node) outwards");
  int64_t prev = 1;
  for (const auto& t : tiers->list) {
    if (!t.is_map()) throw InputError(t.mark, "network tier: expected a mapping {name, topology, group, link, ...}");
    ConfigNode plain = t;
    plain.erase("lanes");
    plain.erase("dims");
    ParamSet p = validate_params("network tier", "network tier", plain, tier_params(), {});
    TierSpec ts;
    ts.mark = t.mark;
    ts.name = p.str("name");
    ts.topology = p.str("topology");
    ts.group = int64_t(p.count("group"));
    ts.link = p.str("link");
    if (p.has("switch") && p.at("switch").present) ts.switch_name = p.str("switch");
    ts.switches = int64_t(p.count("switches"));
    ts.radix = int64_t(p.count("radix"));
    ts.oversubscription = p.real("oversubscription");
    ts.circuits = p.str("circuits");
    ts.lanes = int_list(t.find("lanes"), "tier '" + ts.name + "' lanes");
    ts.dims = int_list(t.find("dims"), "tier '" + ts.name + "' dims");
    const std::string at = "tier '" + ts.name + "': ";
    if (spec.devices % ts.group)
      throw InputError(t.find("group")->mark, at + "group " + std::to_string(ts.group) + " does not divide the " +
                                                  std::to_string(spec.devices) + " devices");
    if (ts.group % prev)
      throw InputError(t.find("group")->mark, at + "group " + std::to_string(ts.group) +
                                                  " must be a multiple of the inner tier's group " + std::to_string(prev));
    // Settings a topology has no use for are refused rather than dropped.
    if (const ConfigNode* o = t.find("oversubscription"); o && ts.topology != "fat_tree" && ts.topology != "rail")
      throw InputError(o->mark, at + "oversubscription applies to fat_tree and rail tiers, not " + ts.topology);
    if (const ConfigNode* sw = t.find("switches"); sw && ts.topology == "rail" && ts.group / prev > ts.radix)
      throw InputError(sw->mark, at + std::to_string(ts.group / prev) + " nodes do not fit one radix-" +
                                     std::to_string(ts.radix) + " switch, so each rail is a fat tree whose cores the "
                                     "radix sizes; `switches` (spines between single-switch rails) does not apply");
    prev = ts.group;
    const bool needs_switch = ts.topology == "switched" || ts.topology == "fat_tree" || ts.topology == "rail" ||
                              ts.topology == "ocs";
    if (needs_switch && ts.switch_name.empty())
      throw InputError(t.mark, at + "topology " + ts.topology + " needs `switch:` naming a switch component");
    if ((ts.topology == "torus" || ts.topology == "mesh")) {
      if (ts.dims.empty()) ts.dims = {ts.group};
      int64_t prod = 1;
      for (auto d : ts.dims) prod *= d;
      if (prod != ts.group)
        throw InputError(t.find("dims") ? t.find("dims")->mark : t.mark,
                         at + "dims multiply to " + std::to_string(prod) + ", not the group of " + std::to_string(ts.group));
    }
    if (!ts.lanes.empty() && int64_t(ts.lanes.size()) != ts.switches)
      throw InputError(t.find("lanes")->mark, at + "lanes lists " + std::to_string(ts.lanes.size()) +
                                                  " entries for " + std::to_string(ts.switches) + " switches");
    if (ts.topology == "rail" && spec.tiers.empty())
      throw InputError(t.mark, at + "a rail tier joins the nodes of an inner tier; it cannot be the first tier");
    spec.tiers.push_back(ts);
  }
  if (prev != spec.devices)
    throw InputError(tiers->mark, "network: the outermost tier's group (" + std::to_string(prev) +
                                      ") must cover all " + std::to_string(spec.devices) + " devices");
  if (const ConfigNode* c = node.find("collectives")) {
    ParamSet p = validate_params("collectives", "collectives", *c, collective_params(), {});
    auto& cs = spec.collectives;
    cs.mark = c->mark;
    cs.algorithm = p.str("algorithm");
    cs.chunk = p.qty("chunk");
    cs.step_latency_s = p.qty("step_latency");
    cs.launch_latency_s = p.qty("launch_latency");
    cs.protocol_efficiency = p.real("protocol_efficiency");
    cs.window = int64_t(p.count("window"));
    cs.in_switch_min = p.qty("in_switch_min");
    cs.tree_max = p.qty("tree_max");
    cs.bidirectional = p.flag("bidirectional");
    cs.engine = p.str("engine");
    cs.engine_mark = p.at("engine").mark;
    cs.flow_from = int64_t(p.count("flow_from"));
    if (cs.chunk < 1) throw InputError(p.at("chunk").mark, "collectives.chunk must be at least 1 B");
  }
  return spec;
}

}  // namespace xpu
