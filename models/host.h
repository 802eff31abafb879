#pragma once
// The host CPU that launches kernels. It runs ahead of the device: each op costs it `launch_overhead` of CPU time
// (framework dispatch plus the driver call), and a kernel cannot start before its launch has reached the device.
#include "sim/component/component.h"

namespace xpu {

class HostModule : public Component {
 public:
  HostModule(sc_core::sc_module_name name, const ParamSet& p);
  static std::vector<ParamSpec> param_specs();

  double launch_overhead_s() const { return params().qty("launch_overhead"); }
  // Host time to dispatch one op of this kind: its entry in `op_overhead`, else `launch_overhead`.
  double dispatch_s(const std::string& op_kind) const;
  // Eager: host time of a plain reduction of the model code (torch.mean: `reduction_overhead`, not its kind's library
  // norm; launch_overhead when that is 0), and of one framework call that launches nothing (`view_overhead`).
  double reduction_dispatch_s() const {
    const double r = params().qty("reduction_overhead");
    return r > 0 ? r : launch_overhead_s();
  }
  double view_overhead_s() const { return params().qty("view_overhead"); }
  double launch_latency_s() const { return params().qty("launch_latency"); }
  double autograd_overhead_s() const { return params().qty("autograd_overhead"); }
  // Host time of one op of a backward pass (an optimizer update is not one: it is dispatched like a forward op).
  double backward_dispatch_s(const std::string& op_kind) const {
    const double b = params().qty("backward_op_overhead");
    return b > 0 ? b : dispatch_s(op_kind);
  }
  double kernel_gap_s() const { return params().qty("kernel_gap"); }
  double graph_kernel_gap_s() const { return params().qty("graph_kernel_gap"); }
  // Compiled stacks (sim/workload/stack.h): host time per kernel launched from generated code, and per CUDA graph.
  double compiled_launch_s() const { return params().qty("compiled_launch_overhead"); }
  double graph_launch_s() const { return params().qty("graph_launch"); }
  unsigned streams() const { return static_cast<unsigned>(params().count("streams")); }
  unsigned comm_streams() const { return static_cast<unsigned>(params().count("comm_streams")); }

  Stat launches{&stats_, "launches", "", "kernels launched"};
};

}  // namespace xpu
