#include "sim/cli/describe_command.h"

#include <cstdio>

#include "sim/config/hardware.h"
#include "sim/config/registry.h"
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
    out << "\n\n`xpusim describe NAME` prints the parameters of one of them.\n";
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
    out << what << " (op kind in an explicit workload): besides name, kind, variant, dtype, layer, after, inputs:\n";
    print_specs(out, op_param_specs(parse_op_kind(k)));
    return true;
  }
  return false;
}

}  // namespace xpu
