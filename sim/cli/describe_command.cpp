#include "sim/cli/describe_command.h"

#include <cstdio>

#include "sim/config/hardware.h"
#include "sim/config/registry.h"
#include "sim/config/technology.h"
#include "sim/workload/generator.h"
#include "sim/workload/loader.h"

namespace xpu {
namespace {

void print_specs(std::ostream& out, const std::vector<ParamSpec>& specs) {
  size_t w = 4;
  for (const auto& s : specs) w = std::max(w, s.name.size());
  for (const auto& s : specs) {
    std::string def = s.default_value.empty() ? (s.optional ? "(optional)" : "(required)") : s.default_value;
    char head[256];
    std::snprintf(head, sizeof head, "  %-*s  %s", int(w), s.name.c_str(), s.type_text().c_str());
    out << head << "\n      default: " << def << "\n      " << s.doc << "\n";
  }
}

}  // namespace

bool describe(std::ostream& out, const std::string& what) {
  const auto& reg = Registry::instance();
  if (what.empty()) {
    out << "Component types (hardware YAML `type:`):\n";
    for (const auto& t : reg.types()) out << "  " << t << " - " << reg.find(t)->doc << "\n";
    out << "  connection - an entry of `connections:` (from, to, bandwidth, latency, energy_per_bit)\n";
    out << "\nWorkload generators (workload YAML `generator:`):\n";
    for (const auto& g : generator_names()) out << "  " << g << " - " << find_generator(g)->doc << "\n";
    out << "\nOp kinds (explicit workload `ops:` entries, `kind:`):\n ";
    for (const auto& k : op_kind_names()) out << " " << k;
    out << "\n\n`xpusim describe NAME` prints the parameters of one of them; `xpusim describe technology` the process "
           "nodes.\n";
    return true;
  }
  if (const ComponentKind* k = reg.find(what)) {
    out << what << ": " << k->doc << "\nParameters:\n";
    print_specs(out, k->params);
    for (const auto& [name, values] : k->presets) {
      out << "Preset " << name << ":";
      for (const auto& [key, v] : values) out << " " << key << "=" << v;
      out << "\n";
    }
    return true;
  }
  if (what == "technology") {
    out << "technology: the process node of a hardware config (top-level `technology: n4`, or `technology: {node: n4, "
           "FIELD: VALUE}` to replace figures).\nIt derives each block's area, static power and energies where the "
           "config does not write them, and the device's yield and price (`xpusim cost`).\nFields:\n";
    for (const auto& spec : technology_params()) {
      out << "  " << spec.name << "  " << spec.type_text() << "\n      " << spec.doc << "\n";
      for (const auto& [node, figures] : technology_nodes()) {
        const auto& f = figures.at(spec.name);
        out << "      " << node << ": " << f.value << "  (" << f.source << ")\n";
      }
    }
    out << "PHY kinds (compute_core `io:` lanes, hbm `phy:`), not scaled with the node:\n";
    for (const auto& [name, k] : phy_kinds()) {
      char buf[300];
      std::snprintf(buf, sizeof buf, "  %-9s per %s: %.3g mm2 PHY + %.3g mm2 controller at N7, %.4g GB/s, %.3g pJ/bit",
                    name.c_str(), k.unit.c_str(), k.area_mm2, k.controller_mm2_n7, k.lane_rate / 1e9,
                    k.energy_per_bit * 1e12);
      out << buf;
      if (k.price_per_gb > 0) {
        std::snprintf(buf, sizeof buf, ", $%.3g/GB, %.3g mm2 footprint", k.price_per_gb, k.footprint_mm2);
        out << buf;
      }
      out << "\n      " << k.source << "\n";
    }
    return true;
  }
  if (what == "connection") {
    out << "connection: an edge of the topology, listed under `connections:`\nParameters:\n";
    print_specs(out, connection_params());
    return true;
  }
  if (const Generator* g = find_generator(what)) {
    out << what << " (workload generator): " << g->doc << "\nParameters (in `params:`, `defaults:` or --set):\n";
    print_specs(out, g->specs);
    return true;
  }
  for (const auto& k : op_kind_names()) {
    if (k != what) continue;
    out << what << " (op kind in an explicit workload): besides name, kind, variant, dtype, layer, host_calls, after, inputs:\n";
    print_specs(out, op_param_specs(parse_op_kind(k)));
    return true;
  }
  return false;
}

}  // namespace xpu
