#pragma once
// An engine beside the compute core that takes whole ops of the kinds it holds state for (compute-in-memory tiles
// take the matmuls and lookups whose weights sit in their arrays). The dispatcher offers each op to the engines
// first and sends the rest to the compute core, so a heterogeneous device is a config, not a dispatcher edit.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "models/compute_core.h"
#include "models/interfaces.h"
#include "sim/workload/op.h"

namespace xpu {

class OpEngine {
 public:
  virtual ~OpEngine() = default;
  virtual std::string engine_name() const = 0;
  // Blocks between the engine and main memory (inputs, outputs and weights to program come over them).
  virtual void bind_memory(std::vector<DataPort*> to_memory, uint64_t latency_ps) = 0;
  // Sees the whole workload before the run: places stationary data and decides which ops it takes.
  // `resident_class`: the class (weights, kv_cache, optimizer, embeddings) of each tensor that stays resident,
  // worked out by the engine layer from the workload's footprint.
  virtual void plan(const Workload& wl, const std::map<std::string, std::string>& resident_class) = 0;
  virtual bool takes(size_t op_index) const = 0;
  // Bytes (at the workload's dtypes) of resident tensors held inside the engine rather than in device memory.
  virtual double resident_bytes() const = 0;
  virtual uint64_t events() const = 0;
  // Arithmetic rate with every array busy (2 FLOP per MAC), for the report's ceiling.
  virtual double peak_flops() const = 0;
  // Runs op `op_index` from now; `done` gets the report and a one-line description of the lowering.
  virtual void launch(size_t op_index, std::function<void(const KernelReport&, const std::string&)> done) = 0;
};

}  // namespace xpu
