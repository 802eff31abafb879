#pragma once
// The op IR: what a workload asks the machine to do. Generators, the workload YAML loader and trace readers all
// produce it; mappers lower each op into tile work on the hardware modules.
#include <climits>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "sim/config/dtype.h"
#include "sim/config/errors.h"

namespace xpu {

enum class OpKind { matmul, attention, elementwise, norm, softmax, embedding_bag, concat, interaction, collective };
const char* op_kind_name(OpKind k);
OpKind parse_op_kind(const std::string& s);  // throws std::invalid_argument
const std::vector<std::string>& op_kind_names();

// C[batch][m][n] = A[batch][m][k] x B[batch][k][n]; `b_shared` when every batch uses the same B (weights).
struct MatmulShape { int64_t batch = 1, m = 0, n = 0, k = 0; bool b_shared = true; };
// Flash-attention style: Q [batch, heads_q, seq_q, head_dim], K/V [batch, heads_kv, seq_kv, head_dim].
// Decode is seq_q = 1 (per step) with seq_kv the KV-cache length. heads_q % heads_kv == 0 (grouped-query).
struct AttentionShape {
  int64_t batch = 1, heads_q = 1, heads_kv = 1, seq_q = 1, seq_kv = 1, head_dim = 64;
  bool causal = true;
  bool backward = false;  // the backward pass of the same attention (training)
};
// `inputs` tensors of `elements` each are read, one of `elements` written; flops per output element.
struct ElementwiseShape { int64_t elements = 0; int64_t inputs = 1; double flops_per_element = 1; };
// layernorm/rmsnorm/softmax over `cols` for each of `rows`.
struct RowShape { int64_t rows = 0, cols = 0; };
// `tables` tables of `rows` x `dim`; `batch` bags per table of `pooling` lookups each, summed.
struct EmbeddingBagShape { int64_t tables = 1, rows = 0, dim = 0, batch = 0, pooling = 1; };
// concat: `features` vectors of `dim` per sample -> one; interaction: pairwise dot products among them.
struct FeatureShape { int64_t batch = 0, features = 0, dim = 0; };
// A collective among `group` devices on `bytes` per device (all_reduce, all_gather, reduce_scatter, all_to_all,
// broadcast, send_recv).
// `steps`: for a pipeline bubble (op "pipeline_bubble"), the micro-batches of the step.
// From a multi-rank trace: `pg` names the process group (collectives of one group are matched across ranks by their
// order in it); a point-to-point send or receive (op "send_recv") names its `peer` rank, its `tag`, and which side it is.
struct CollectiveShape {
  CollectiveShape(std::string op_ = "all_reduce", int64_t bytes_ = 0, int64_t group_ = 1, int64_t steps_ = 0)
      : op(std::move(op_)), bytes(bytes_), group(group_), steps(steps_) {}
  std::string op = "all_reduce";
  int64_t bytes = 0;
  int64_t group = 1;
  int64_t steps = 0;
  std::string pg;
  int64_t peer = -1;
  int64_t tag = 0;
  bool recv = false;
};

using OpShape = std::variant<MatmulShape, AttentionShape, ElementwiseShape, RowShape, EmbeddingBagShape,
                             FeatureShape, CollectiveShape>;

// A named tensor an op reads or writes; names let the cache model know what earlier ops left on chip.
struct TensorRef {
  std::string name;
  double bytes = 0;
};

struct Op {
  std::string name;
  OpKind kind = OpKind::elementwise;
  std::string variant;  // finer kind: gelu, silu_mul, add, rmsnorm, layernorm, rope, ...
  DType dtype = DType::bf16;
  DType out_dtype = DType::bf16;  // e.g. fp8 matmul with bf16 output
  OpShape shape;
  std::vector<TensorRef> reads;   // by convention matmul: {A, B}; attention: {Q, K, V}
  std::vector<TensorRef> writes;
  std::vector<size_t> deps;       // indices of ops that must finish first
  std::string layer;              // grouping label for reports ("layer 3"), may be empty
  // Weight-only quantization of a matmul's B operand: bits per weight (0: the op's dtype) and the weights sharing one
  // scale; the kernel dequantizes B to the compute dtype as it loads it.
  int weight_bits = 0;
  int64_t weight_group = 0;
  // A matmul with pointwise ops fused into its epilogue (stack compiled): the extra bytes it reads per output (a
  // residual, the other half of a gated activation; reads[2...]) and the epilogue's arithmetic.
  double epilogue_read_bytes = 0, epilogue_flops = 0;
  // The schedule of the GEMM library that ran a matmul ("data_parallel", "stream_k"; empty: the device's
  // `gemm_schedule`): which kernels a library version picks is software, so a measurement says which it saw.
  std::string gemm_schedule;
  // Framework calls that launch nothing, made on the host just before this op (views, transposes, splits, tensor
  // indexing in the model code): eager mode pays `host.view_overhead` for each; compiled code has none.
  int host_calls = 0;
  double measured_us = -1;        // from traces: measured duration, used when the op is not modelled
  SourceMark mark;                // where it was defined (workload file line), for errors

  double flops() const;           // useful arithmetic (2 per MAC)
  double min_bytes() const;       // each input read once, each output written once
};

struct Workload {
  std::string name;
  std::string source;             // file it came from
  std::vector<Op> ops;
  std::string description;        // e.g. "llama2-7b decode batch 16 kv 2048 (32 layers)"
  // false: each op is issued as soon as its dependencies allow, with no host CPU time, launch latency or gap between
  // kernels (Chakra ETs, whose nodes ASTRA-sim's feeder issues that way; their host nodes are separate).
  bool host_dispatch = true;
  // The software stack (sim/workload/stack.h): "eager", "compiled" or "graphs"; with the kernels the eager graph had
  // and the bytes of intermediate tensors that fusion keeps on chip (each written once and read back once in eager).
  std::string stack = "eager";
  size_t eager_kernels = 0;
  double fused_bytes = 0;
  size_t backward_start = SIZE_MAX;  // first op of a backward pass (the host pays the autograd engine's start there)
  // Parallel layout of the job this workload is one rank of (tp, pp, dp, ep); empty: groups of contiguous devices.
  std::map<std::string, int64_t> parallel;
  // What one run produces, for energy and time per item: tokens of a language model, samples of a recommender.
  double items = 0;
  std::string item = "";
};

// The shape's fields as a comma-separated list in their struct's order (a collective's op name first): how the Chakra
// export writes it and the kernel memo keys it.
std::string shape_text(const OpShape& shape);

// A norm-kind op that is a plain reduction of the model code (torch.mean, topk, argmax): one pass over each row,
// dispatched like any tensor op rather than as a library normalization.
bool plain_reduction(const Op& op);

// Checks deps (in range, no cycles through Boost.Graph topological sort) and returns ops in a valid issue order.
// Throws InputError naming an op of the cycle.
std::vector<size_t> topological_order(const Workload& w);

}  // namespace xpu
