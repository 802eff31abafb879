#include "models/host.h"

#include "sim/config/registry.h"

namespace xpu {

std::vector<ParamSpec> HostModule::param_specs() {
  return {
      p_qty("launch_overhead", Dim::Time, "5 us",
            "host CPU time per launched op (eager framework dispatch and the driver call)"),
      p_keyed_qty_map("op_overhead", Dim::Time, "{}", "op kind",
                      "host time per op of a kind when it differs from launch_overhead (e.g. eager embedding_bag "
                      "allocates and checks its index tensors on the CPU)"),
      p_qty("autograd_overhead", Dim::Time, "0 s",
            "host time once per backward pass before its first kernel: the autograd engine takes over on its own "
            "thread and walks the graph"),
      p_qty("launch_latency", Dim::Time, "2 us", "time from the launch call until the kernel can start on the device"),
      p_qty("kernel_gap", Dim::Time, "1 us", "idle gap between back-to-back kernels on one stream"),
      p_count("streams", "1", "compute ops that may run concurrently on the device (CUDA streams)", 1, 1024),
      p_count("comm_streams", "1", "collectives that may run at once, beside the compute streams (NCCL's own)", 1,
              1024),
  };
}

double HostModule::dispatch_s(const std::string& op_kind) const {
  const auto& m = params().dmap("op_overhead");
  auto it = m.find(op_kind);
  return it == m.end() ? launch_overhead_s() : it->second;
}

HostModule::HostModule(sc_core::sc_module_name name, const ParamSet& p) : Component(name, "host", p) {}

XPU_REGISTER_COMPONENT(HostModule, "host", "Host CPU that launches kernels, with launch overhead and latency",
                       HostModule::param_specs());

}  // namespace xpu
