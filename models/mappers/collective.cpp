// Collectives on a single device are no-ops; among several devices they need the interconnect models, which a
// single-accelerator config does not have, so such a workload is rejected with a clear message instead of a guess.
#include "models/kernel.h"

namespace xpu {
namespace {

class NoopKernel : public Kernel {
 public:
  NoopKernel() {
    mapping = "no-op (group of 1)";
    overhead_included = true;
  }
  void tile(uint64_t, TileWork&) override {}
};

std::unique_ptr<Kernel> map_collective(const Op& op, const MapContext&) {
  const auto& s = std::get<CollectiveShape>(op.shape);
  if (s.group <= 1) return std::make_unique<NoopKernel>();
  throw InputError(op.mark, "op '" + op.name + "': a " + s.op + " among " + std::to_string(s.group) +
                                " devices needs a multi-device config with an interconnect; this config has one device");
}

}  // namespace

XPU_REGISTER_MAPPER(OpKind::collective, "collective", map_collective);

}  // namespace xpu
