// Collectives in a group of one are no-ops and a pipeline bubble is idle time on the device. Collectives among
// several devices run on the system's network (sim/network), which the dispatcher hands them to; reaching this
// mapper with a larger group means the config has no `network:`, and the workload is rejected instead of guessed.
#include "models/mappers/mapper.h"

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

std::unique_ptr<Kernel> map_collective(const Op& op, const MapContext& ctx) {
  const auto& s = std::get<CollectiveShape>(op.shape);
  if (s.op == "pipeline_bubble") {
    // 1F1B: with p stages and m micro-batches each stage idles (p - 1) micro-batch slots of forward and backward,
    // a (p - 1) / m share of the work it did for the m micro-batches simulated before this op.
    auto k = std::make_unique<NoopKernel>();
    k->fixed_s = s.steps > 0 ? double(s.group - 1) / double(s.steps) * ctx.busy_so_far_s : 0;
    k->mapping = "1F1B bubble: (" + std::to_string(s.group) + " - 1) / " + std::to_string(s.steps) +
                 " of the stage's work";
    return k;
  }
  if (s.group <= 1) return std::make_unique<NoopKernel>();
  throw InputError(op.mark, "op '" + op.name + "': a " + s.op + " among " + std::to_string(s.group) +
                                " devices needs a config with a `network:` of several devices (e.g. configs/dgx-h100.yaml); this one has a "
                                "single device");
}

}  // namespace

XPU_REGISTER_MAPPER(OpKind::collective, "collective", map_collective);

}  // namespace xpu
