#pragma once
// The one place that knows what PyTorch's aten ops mean in the op IR, shared by the Kineto and execution-trace
// readers: each reader turns its record of a call (names, argument shapes, types, concrete scalars) into an
// AtenCall, and gets back an op with its shape, dtype and sized tensor reads/writes, or the reason it has none.
#include <optional>
#include <string>
#include <vector>

#include "sim/trace/trace_names.h"
#include "sim/workload/op.h"

namespace xpu {

struct TensorArg {
  std::vector<int64_t> dims;
  double elem_bytes = 0;  // 0 = unknown: the op's dtype is used
  std::string id;         // identity of the storage when the trace records one (ET), else empty
  std::string device;     // "cuda:0", "cpu", or empty when not recorded (Kineto: GPU assumed)
  int64_t numel() const;
};

struct AtenArg {
  std::string type;               // as recorded: "c10::BFloat16", "Tensor(float)", "Scalar", "Bool", "" (None)...
  std::vector<TensorArg> tensors; // one for a tensor, several for a tensor list, none for other arguments
  std::string value;              // concrete value as text where recorded ("True", "0.", "[4096]"), else empty
};

struct AtenCall {
  std::string name;     // "aten::mm"
  std::vector<AtenArg> args;
  std::string kernel;   // name of the GPU kernel it launched, when known (may say "causal")
};

// Where a read of the mapped op comes from: call argument and tensor within it; arg -1 = not an argument.
struct ReadSource {
  int arg = -1;
  int tensor = 0;
};

struct MappedOp {
  Op op;                          // name, kind, variant, dtype, shape and sized reads/writes; TensorRef names empty
  std::vector<ReadSource> read_from;  // one per op.reads
};

struct MapResult {
  std::optional<MappedOp> op;
  std::string why;  // when no op: the reason, for the skipped-op report
};

MapResult map_aten(const AtenCall& call);

// Ops that never launch a kernel themselves (views, allocation, metadata); their children still may.
bool launches_no_kernel(const std::string& name);

}  // namespace xpu
