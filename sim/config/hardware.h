#pragma once
// Hardware config: YAML (with `extends:` overlays and `-p` overrides) validated against the registry, then turned
// into a Boost.Graph topology of components (vertices) and connections (edges with bandwidth and latency).
#include <boost/graph/adjacency_list.hpp>

#include <string>
#include <vector>

#include "sim/config/area_estimate.h"
#include "sim/config/config_tree.h"
#include "sim/config/params.h"
#include "sim/config/technology.h"
#include "sim/network/network_spec.h"

namespace xpu {

struct ComponentSpec {
  std::string name, type;
  ParamSet params;
  SourceMark mark;
  // With a `technology:`, what the kind's area model derived (sim/config/area_estimate.h); `area` and
  // `static_power` in `params` hold the derived values unless the config writes them.
  AreaEstimate estimate;
  std::string area_source = "as written";  // "derived" (from the technology), "as written" (explicit or default)
  bool static_derived = false;
};

struct ConnectionSpec {
  std::string from, to;
  double bandwidth = 0;       // bytes/s per direction; 0 = not a bottleneck
  double latency_s = 0;
  double energy_per_bit = 0;  // J/bit
  SourceMark mark;
};

struct VertexProps { size_t component = 0; };
struct EdgeProps { size_t connection = 0; };
using TopologyGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS, VertexProps, EdgeProps>;

struct HardwareConfig {
  std::string name, description, file;
  ConfigNode tree;  // effective config after overlays and overrides
  std::vector<ComponentSpec> components;
  std::vector<ConnectionSpec> connections;
  TopologyGraph graph;
  Technology technology;  // the process node and its figures; absent: areas and static power as written
  NetworkSpec network;  // copies of the device and how they are joined; absent: a single device
  SourceMark connections_mark;  // the `connections:` list in force (an overlay's list replaces the base's whole)

  // An error about how a component is joined, pointed at the `connections:` list in force when an overlay replaced
  // the base's (the component's own line is named in the message), else at the component.
  InputError join_error(const SourceMark& component, const std::string& what) const;

  int index_of(const std::string& component) const;  // -1 when absent
  // Components on the shortest path (by hop count) from `from` to `to`, both included; empty when unreachable.
  std::vector<size_t> path(size_t from, size_t to) const;
  // Connections along that path, in order.
  std::vector<size_t> path_connections(size_t from, size_t to) const;
};

// `overrides` are "path=value" strings (from -p). A path may start with `components.` or directly with a component
// name (`hbm.bandwidth=4 TB/s`).
HardwareConfig load_hardware(const std::string& path, const std::vector<std::string>& overrides = {});
// Same, from an already loaded tree (used by tests and sweeps).
HardwareConfig build_hardware(ConfigNode tree, const std::string& file);

// Parameters of a connection entry, declared once like a component's.
const std::vector<ParamSpec>& connection_params();

}  // namespace xpu
