#pragma once
// Dependencies between trace nodes when only some nodes become ops: ET and Chakra traces link GPU kernels through
// host ops, annotations and views that the simulator drops, so each kept op must inherit the ordering those dropped
// nodes carried. Shared by the execution-trace and Chakra readers.
#include <cstddef>
#include <vector>

namespace xpu {

// `deps[i]`: indices of the nodes node i depends on. `op_of_node[i]`: the op node i became, or -1 when dropped.
// Returns, per op, the ops it depends on: directly, or through chains of dropped nodes. Each op keeps at most the
// 16 latest such ops: the older ones are ordered before those already, and unbounded sets would grow
// quadratically on long host chains.
// Each edge that closes a dependency cycle (found depth-first, nodes in file order) is dropped and counted in
// `cycle_edges_dropped`, because real converted traces contain such edges (a host op made to wait for its own
// kernel); the caller warns about them.
std::vector<std::vector<size_t>> resolve_deps(std::vector<std::vector<size_t>> deps,
                                              const std::vector<long>& op_of_node, size_t num_ops,
                                              size_t& cycle_edges_dropped);

}  // namespace xpu
