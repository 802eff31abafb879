#pragma once
// Chakra execution traces written by the tests themselves: nodes, attributes and the file's framing.
#include <cstdint>
#include <string>
#include <vector>

#include "chakra_et.pb.h"
#include "tests/test_support.h"

namespace xpu::test {

// A Chakra file: GlobalMetadata then the nodes, each length-prefixed with a varint.
inline std::string chakra_bytes(const std::vector<xpu_chakra::Node>& nodes) {
  auto framed = varint_framed;
  xpu_chakra::GlobalMetadata meta;
  meta.set_version("0.0.4");
  std::string out = framed(meta.SerializeAsString());
  for (const auto& n : nodes) out += framed(n.SerializeAsString());
  return out;
}

inline xpu_chakra::Node chakra_node(uint64_t id, const std::string& name, xpu_chakra::NodeType type, uint64_t dur,
                             std::vector<uint64_t> deps, bool cpu = false) {
  xpu_chakra::Node n;
  n.set_id(id);
  n.set_name(name);
  n.set_type(type);
  n.set_duration_micros(dur);
  for (auto d : deps) n.add_data_deps(d);
  auto* a = n.add_attr();
  a->set_name("is_cpu_op");
  a->set_bool_val(cpu);
  return n;
}

inline void add_attr(xpu_chakra::Node& n, const std::string& name, int64_t v) {
  auto* a = n.add_attr();
  a->set_name(name);
  a->set_int64_val(v);
}

}  // namespace xpu::test
