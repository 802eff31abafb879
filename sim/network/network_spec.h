#pragma once
// The `network:` section of a hardware config: how many copies of the device there are and how tiers of links and
// switches join them (innermost tier first), plus how collectives run on it. Parsed and validated with the config, so
// mistakes are reported with their line before anything is simulated.
#include <cstdint>
#include <string>
#include <vector>

#include "sim/config/config_tree.h"
#include "sim/config/params.h"

namespace xpu {

struct TierSpec {
  std::string name;
  std::string topology;         // switched, ring, torus, mesh, full_mesh, fat_tree, rail, ocs
  int64_t group = 0;            // devices per instance of this tier
  std::string link;             // component name of the link template
  std::string switch_name;      // component name of the switch template (switched, fat_tree, rail, ocs)
  int64_t switches = 1;         // per instance (switched, ocs)
  std::vector<int64_t> lanes;   // switched: link lanes from each device to each switch
  std::vector<int64_t> dims;    // torus, mesh: sizes (product = group)
  int64_t radix = 64;           // fat_tree, rail: switch ports
  double oversubscription = 1;  // fat_tree, rail: leaf down/up bandwidth
  std::string circuits = "on_demand";  // ocs: on_demand, ring, torus
  SourceMark mark;
};

struct CollectiveSettings {
  std::string algorithm = "auto";  // auto, ring, tree, halving_doubling, hierarchical, in_switch, direct
  double chunk = 2 * 1048576.0;    // bytes moved per pipeline step by all channels together
  double step_latency_s = 0;       // software synchronisation per algorithm step
  double launch_latency_s = 0;     // per collective call
  double protocol_efficiency = 1;  // payload share of the wire after the library's own flags and framing
  int64_t window = 4;              // chunks in flight per sender and peer
  double in_switch_min = 2 * 1048576.0;  // auto uses in-switch reduction from this size
  double tree_max = 256 * 1024.0;        // auto uses trees up to this size across tiers
  bool bidirectional = true;       // rings send half the data each way
  std::string engine = "auto";     // auto, chunk, flow
  SourceMark engine_mark;
  int64_t flow_from = 256;         // auto: the flow engine from this many devices
  SourceMark mark;
};

struct NetworkSpec {
  bool present = false;
  int64_t devices = 1;
  std::vector<TierSpec> tiers;
  CollectiveSettings collectives;
  SourceMark mark;
};

NetworkSpec parse_network(const ConfigNode& node);
const std::vector<ParamSpec>& network_params();
const std::vector<ParamSpec>& tier_params();
const std::vector<ParamSpec>& collective_params();

}  // namespace xpu
