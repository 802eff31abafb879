#include "sim/workload/collective_layout.h"

#include <algorithm>

namespace xpu {
namespace {

int64_t axis_size(const Workload& wl, const char* k) {
  auto it = wl.parallel.find(k);
  return it == wl.parallel.end() ? int64_t(1) : std::max<int64_t>(1, it->second);
}

}  // namespace

CollectiveLayout collective_layout(const Op& op, const Workload& wl) {
  const auto& s = std::get<CollectiveShape>(op.shape);
  CollectiveLayout l;
  l.group = s.group;
  if (wl.parallel.empty()) return l;
  const int64_t tp = axis_size(wl, "tp"), dpx = std::max(axis_size(wl, "dp"), axis_size(wl, "ep")),
                pp = axis_size(wl, "pp");
  l.world = axis_size(wl, "shards") * tp * dpx * pp;
  if (op.variant == "tensor_parallel") l.stride = 1;
  else if (op.variant == "data_parallel" || op.variant == "expert_parallel") l.stride = tp;
  else if (op.variant == "pipeline") {
    l.stride = tp * dpx;
    l.group = pp;
    l.chain = true;
  }
  return l;
}

int64_t job_ranks(const Workload& wl) {
  int64_t widest = 1;
  for (const auto& op : wl.ops)
    if (op.kind == OpKind::collective) widest = std::max(widest, std::get<CollectiveShape>(op.shape).group);
  if (wl.parallel.empty()) return widest;
  const int64_t tp = axis_size(wl, "tp"), dpx = std::max(axis_size(wl, "dp"), axis_size(wl, "ep")),
                pp = axis_size(wl, "pp");
  return std::max(widest, axis_size(wl, "shards") * tp * dpx * pp);
}

}  // namespace xpu
