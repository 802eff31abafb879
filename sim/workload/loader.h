#pragma once
// Workload files (workloads/*.yaml). Two forms:
//
//   Generator form: a model family plus its parameters, e.g.
//     name: llama2-7b
//     generator: transformer
//     params: {d_model: 4096, heads: 32, ffn: 11008, layers: 32, vocab: 32000}
//     defaults: {mode: decode, batch: 16, kv: 2048}
//   `params` (the model) and `defaults` (the scenario) are checked against the generator's declared parameters;
//   precedence: declared default < params < defaults < --set.
//
//   Explicit form: a list of ops, e.g.
//     name: tiny
//     ops:
//       - {name: up, kind: matmul, m: 1024, n: 4096, k: 1024}
//       - {name: act, kind: elementwise, variant: gelu, elements: 4194304, inputs: [up.out]}
//   Each kind accepts its own shape keys (op_param_specs) plus name, kind, variant, dtype, layer, and:
//     after:  names of ops that must finish first. Absent: the previous op in the list (a sequential chain);
//             `after: []` makes an op independent.
//     inputs: names of the tensors it reads (default "<op>.in0", "<op>.in1", ...); an op also depends on the op
//             that writes each named tensor. Every op writes "<op>.out". For elementwise, `inputs` may instead be
//             a count of same-sized input tensors.
//
// Top-level keys: name, description, generator, params, defaults, ops, stack (eager | compiled | graphs, also
// --set stack=...: the software stack that runs it, sim/workload/stack.h). Every error is an InputError at the file
// line (or "--set") where the offending value is written.
#include <string>
#include <vector>

#include "sim/config/config_tree.h"
#include "sim/config/params.h"
#include "sim/workload/op.h"

namespace xpu {

// Loads and validates a workload file; `sets` are "key=value" overrides of generator parameters (`--set`).
Workload load_workload(const std::string& path, const std::vector<std::string>& sets);
// The same from an already parsed document; `source` is recorded as Workload::source and names it in errors.
Workload parse_workload(const ConfigNode& root, const std::string& source, const std::vector<std::string>& sets);

// A generator workload's validated parameters, for engines that build many workloads of one model (serving). The
// whole file is checked as load_workload does; a workload of explicit ops, or from another generator than
// `generator`, is an error naming the file.
struct ModelParams {
  std::string name, stack;
  ParamSet params;
};
ModelParams load_model_params(const std::string& path, const std::vector<std::string>& sets,
                              const std::string& generator);

// Splits "mode=prefill,batch=1,seq=4096" at commas outside [], {}, () and quotes; trims blanks, drops empties.
std::vector<std::string> split_set_list(const std::string& list);
// Every --set argument split that way, in order: what load_workload takes as `sets`.
std::vector<std::string> split_set_lists(const std::vector<std::string>& lists);

// The shape keys an explicit op of `kind` accepts, besides name, kind, variant, dtype, layer, after, inputs.
const std::vector<ParamSpec>& op_param_specs(OpKind kind);

}  // namespace xpu
