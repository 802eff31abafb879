#pragma once
// Helpers shared by the workload generators and the explicit-ops loader: tensor byte sizes from op shapes, and a
// builder that appends ops and derives their dependencies from tensor names (an op depends on the last op that
// wrote each tensor it reads), so generated graphs follow the real dataflow rather than one long chain.
#include <map>
#include <string>
#include <vector>

#include "sim/workload/op.h"

namespace xpu {

// Bytes of the conventional inputs of `op` from its shape and dtype: matmul {A, B}; attention {Q, K, V};
// elementwise `inputs` x elements; norm/softmax {x}; embedding_bag {gathered rows}; concat/interaction {stacked
// features}; collective {bytes}.
std::vector<double> shape_input_bytes(const Op& op);
// Bytes of the single output (interaction: the pairwise dot products, features*(features-1)/2 per sample).
double shape_output_bytes(const Op& op);

class WorkloadBuilder {
 public:
  // Ops get `dtype` and `mark` (where the workload was defined, for error messages).
  WorkloadBuilder(Workload& w, DType dtype, SourceMark mark) : w_(w), dtype_(dtype), mark_(std::move(mark)) {}

  void set_layer(std::string layer) { layer_ = std::move(layer); }
  // Takes the ops already in the workload as producers, so ops added now depend on them by tensor name.
  void adopt_existing();
  DType dtype() const { return dtype_; }
  // A tensor of `elements` in the builder's dtype.
  TensorRef t(const std::string& name, double elements) const { return {name, elements * dtype_bytes(dtype_)}; }

  // Appends an op whose reads/writes are filled; adds deps on the producers of what it reads. Returns its index.
  size_t add(const std::string& name, OpKind kind, const std::string& variant, OpShape shape,
             std::vector<TensorRef> reads, std::vector<TensorRef> writes);
  // Appends an op with reads/writes sized from its shape: `ins` name the conventional inputs in order.
  size_t add_io(const std::string& name, OpKind kind, const std::string& variant, OpShape shape,
                const std::vector<std::string>& ins, const std::string& out);
  // C = A x B (+ bias when `bias` is named); B is a weight unless the shape says otherwise.
  // An op already added, to refine it (its variant, say).
  Op& op(size_t index) { return w_.ops[index]; }
  size_t size() const { return w_.ops.size(); }  // ops so far: the last added is size() - 1
  size_t matmul(const std::string& name, MatmulShape s, const std::string& a, const std::string& b,
                const std::string& c, const std::string& bias = "");

 private:
  Workload& w_;
  DType dtype_;
  SourceMark mark_;
  std::string layer_;
  std::map<std::string, size_t> producer_;  // tensor name -> last op that wrote it
};

}  // namespace xpu
