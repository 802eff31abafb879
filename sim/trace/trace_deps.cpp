#include "sim/trace/trace_deps.h"

#include <algorithm>
#include <functional>


namespace xpu {

namespace {
constexpr size_t kMaxInherited = 16;

void prune(std::vector<size_t>& v) {
  std::sort(v.begin(), v.end(), std::greater<size_t>());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  if (v.size() > kMaxInherited) v.resize(kMaxInherited);
}
}  // namespace

std::vector<std::vector<size_t>> resolve_deps(std::vector<std::vector<size_t>> deps,
                                              const std::vector<long>& op_of_node, size_t num_ops,
                                              size_t& cycle_edges_dropped) {
  const size_t n = deps.size();
  std::vector<std::vector<size_t>> out(num_ops), through(n);  // through[i]: ops a dropped node i leads to
  std::vector<char> state(n, 0);                               // 0 unvisited, 1 on the DFS path, 2 done
  std::vector<std::pair<size_t, size_t>> stack;                // node, next dependency to look at
  // Iterative depth-first search: host chains in real traces are far deeper than the call stack allows.
  for (size_t root = 0; root < n; ++root) {
    if (state[root]) continue;
    stack.push_back({root, 0});
    state[root] = 1;
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      if (next < deps[node].size()) {
        size_t d = deps[node][next++];
        if (d >= n) continue;
        if (state[d] == 1) {
          ++cycle_edges_dropped;
          deps[node][next - 1] = n;  // out of range from now on: ignored below
          continue;
        }
        if (state[d] == 0) {
          state[d] = 1;
          stack.push_back({d, 0});
        }
        continue;
      }
      std::vector<size_t> r;
      for (size_t d : deps[node]) {
        if (d >= n) continue;
        if (op_of_node[d] >= 0) r.push_back(size_t(op_of_node[d]));
        else r.insert(r.end(), through[d].begin(), through[d].end());
      }
      prune(r);
      if (op_of_node[node] >= 0) {
        size_t self = size_t(op_of_node[node]);
        r.erase(std::remove(r.begin(), r.end(), self), r.end());
        out[self] = std::move(r);
      } else {
        through[node] = std::move(r);
      }
      state[node] = 2;
      stack.pop_back();
    }
  }
  return out;
}

}  // namespace xpu
