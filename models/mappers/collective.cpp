// Collectives on a single device are no-ops; among several devices they need the interconnect models, which a
// single-accelerator config does not have, so such a workload is rejected with a clear message instead of a guess.
#include "models/fabric.h"
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
  if (ctx.fabric) {
    auto k = std::make_unique<NoopKernel>();
    try {
      k->fixed_s = ctx.fabric->collective_seconds(s.op, double(s.bytes), s.group);
    } catch (const InputError& e) {
      throw InputError(op.mark, "op '" + op.name + "': " + std::string(e.what()).substr(7));
    }
    const double p = double(s.group);
    ctx.fabric->count(double(s.bytes) * (s.op == "all_reduce" ? 2 * (p - 1) / p : (p - 1) / p));
    k->mapping = "ring " + s.op + " among " + std::to_string(s.group);
    return k;
  }
  throw InputError(op.mark, "op '" + op.name + "': a " + s.op + " among " + std::to_string(s.group) +
                                " devices needs a multi-device config with an interconnect; this config has one device");
}

}  // namespace

XPU_REGISTER_MAPPER(OpKind::collective, "collective", map_collective);

}  // namespace xpu
