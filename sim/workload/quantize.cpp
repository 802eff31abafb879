#include "sim/workload/quantize.h"

#include <unordered_set>

namespace xpu {

void quantize_weights(Workload& w, int bits, int64_t group) {
  std::unordered_set<std::string> produced;
  for (const auto& op : w.ops)
    for (const auto& t : op.writes) produced.insert(t.name);
  for (auto& op : w.ops) {
    if (op.kind != OpKind::matmul || op.reads.size() < 2) continue;
    const auto& s = std::get<MatmulShape>(op.shape);
    if (!s.b_shared || produced.count(op.reads[1].name)) continue;
    const double g = group > 0 ? double(group) : double(s.k);
    op.weight_bits = bits;
    op.weight_group = group;
    op.reads[1].bytes = double(s.k) * s.n * (bits / 8.0 + (bits <= 4 ? 4.0 : 2.0) / g);
  }
}

}  // namespace xpu
