#pragma once
// How much device memory a workload needs: tensors it only reads (weights, the KV cache, optimizer state) stay
// resident for the whole run; tensors it produces live from their producer to their last reader in issue order.
#include <map>
#include <string>

#include "sim/workload/op.h"

namespace xpu {

struct Footprint {
  double weights = 0;      // tensors read but never produced, outside the two classes below
  double kv_cache = 0;     // K and V read by attention that no op of this run produced (earlier steps' cache)
  double optimizer = 0;    // master weights and moments of the optimizer
  double embeddings = 0;   // embedding tables (whole tables stay resident though a lookup reads a few rows)
  double gradients = 0;    // weight gradients: produced by the backward pass, alive until the update reads them
  double activations = 0;  // peak of produced tensors alive at once
  double total() const { return weights + kv_cache + optimizer + embeddings + gradients + activations; }
  double of_class(const std::string& c) const {
    return c == "weights" ? weights : c == "kv_cache" ? kv_cache : c == "optimizer" ? optimizer
         : c == "embeddings" ? embeddings : 0;
  }
  std::string describe() const;  // "weights 13.5 GB, KV cache 17.2 GB, ..."
};

Footprint memory_footprint(const Workload& w);
// Class (weights, kv_cache, optimizer, embeddings) of every tensor that stays resident for the run.
std::map<std::string, std::string> resident_classes(const Workload& w);

}  // namespace xpu
