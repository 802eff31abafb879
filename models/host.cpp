#include "models/host.h"

#include <map>

#include "sim/config/registry.h"

namespace xpu {

std::vector<ParamSpec> HostModule::param_specs() {
  return {
      p_qty("launch_overhead", Dim::Time, "5 us",
            "host CPU time per launched op (eager framework dispatch and the driver call)"),
      p_keyed_qty_map("op_overhead", Dim::Time, "{}", "op kind",
                      "host time per op of a kind when it differs from launch_overhead (e.g. eager embedding_bag "
                      "allocates and checks its index tensors on the CPU)"),
      p_qty("reduction_overhead", Dim::Time, "0 s",
            "eager: host time per plain reduction of the model code (torch.mean, topk, argmax: a reduction's "
            "output sizing and kernel setup); 0 s: launch_overhead"),
      p_qty("view_overhead", Dim::Time, "0 s",
            "eager: host time per framework call that launches no kernel (a view, transpose, split or indexing of "
            "the model code: the Python call, the dispatcher, a new tensor's metadata)"),
      p_qty("backward_op_overhead", Dim::Time, "0 s",
            "host time per op of a backward pass, in place of launch_overhead: the autograd engine evaluates a node "
            "(its Python-free C++ bookkeeping, the dispatcher, the launch, the accumulation of leaf gradients) "
            "around each kernel; 0 s: the forward's per-op time"),
      p_qty("autograd_overhead", Dim::Time, "0 s",
            "host time once per backward pass before its first kernel: the autograd engine takes over on its own "
            "thread and walks the graph"),
      p_qty("launch_latency", Dim::Time, "2 us", "time from the launch call until the kernel can start on the device"),
      p_qty("compiled_launch_overhead", Dim::Time, "5 us",
            "stack compiled: host time per kernel that torch.compile's generated wrapper launches (no eager "
            "dispatch: the driver call and the launcher's argument packing, as the lean runtime's launch)"),
      p_qty("graph_launch", Dim::Time, "10 us",
            "stack graphs: host time to launch the whole step as one CUDA graph (one cudaGraphLaunch)"),
      p_qty("kernel_gap", Dim::Time, "1 us", "idle gap between back-to-back kernels on one stream"),
      p_qty("graph_kernel_gap", Dim::Time, "1 us",
            "idle gap between back-to-back kernels of one CUDA graph (stack graphs, and the graph replays of "
            "`validate --warm`); a stream's by default: gpt-fast's graph-replayed decode steps (A100) hold 1 us, while "
            "gpu-benches' ~1.4 us per small kernel in a graph (~2.5 us in a stream) and the H100 file's warm replays "
            "of tiny kernels would leave none (models/README.md)"),
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

// The software that drives the device is part of the machine a config describes. `eager_pytorch` is PyTorch eager
// mode as the H100 calibration ran it:
//  - per forward op, by kind: the CPU side of the H100 Kineto traces (llama2-7b decode: aten::linear 59 us,
//    rms_norm 119, scaled_dot_product_attention 99, add 19, silu 26; DLRMv2: embedding_bag 55) times 0.45, the
//    profiler's inflation: a profiled gpt2-small prefill iteration is host-bound at 12.5 ms where it runs in 5.86 ms
//    unprofiled (the smallest unprofiled/profiled ratio of the four traces: 0.47 gpt2, 0.57 decode, 0.58 DLRM
//    train, 0.68 DLRM forward);
//  - a plain reduction of the model code (torch.mean): aten::mean in the DLRMv2 training trace, 49 us, x 0.45;
//  - a call that launches nothing (view, transpose, split, indexing): the llama2-7b decode trace's top-level view-like
//    ops (5.9 us on average) plus the Python time between top-level ops (7.4 us per op), x 0.45;
//  - the autograd engine: once when it takes over a backward pass, then per backward op as it evaluates each node
//    around its launch (DLRMv2 training trace, profiled: EmbeddingBagBackward 127 us, AddmmBackward 189 us for three
//    kernels, ReluBackward 39 us, AccumulateGrad 30 us); both fitted by `xpusim calibrate --fit
//    host.backward_op_overhead,host.autograd_overhead` on the calibration file's models and attention rows.
// `lean` is a runtime that launches from C++ with no framework dispatch: only the driver's launch.
XPU_REGISTER_COMPONENT_WITH_PRESETS(
    HostModule, "host", "Host CPU that launches kernels, with launch overhead and latency", HostModule::param_specs(),
    (std::map<std::string, std::map<std::string, std::string>>{
        {"eager_pytorch",
         {{"launch_overhead", "10 us"},
          {"op_overhead",
           "{matmul: 26 us, norm: 53 us, attention: 45 us, elementwise: 10 us, softmax: 10 us, embedding_bag: 25 us}"},
          {"reduction_overhead", "22 us"},
          {"view_overhead", "6 us"},
          {"autograd_overhead", "88 us"},
          {"backward_op_overhead", "69 us"}}},
        {"lean",
         {{"launch_overhead", "5 us"},
          {"op_overhead", "{}"},
          {"reduction_overhead", "0 s"},
          {"view_overhead", "0 s"},
          {"autograd_overhead", "0 s"}}},
    }));

}  // namespace xpu
