#include "sim/workload/footprint.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "sim/workload/autograd.h"

namespace xpu {

std::string Footprint::describe() const {
  char buf[256];
  std::snprintf(buf, sizeof buf, "weights %.2f GB, KV cache %.2f GB, optimizer state %.2f GB, activations %.2f GB",
                weights / 1e9, kv_cache / 1e9, optimizer / 1e9, activations / 1e9);
  std::string out = buf;
  if (gradients > 0) {
    std::snprintf(buf, sizeof buf, ", weight gradients %.2f GB", gradients / 1e9);
    out += buf;
  }
  if (embeddings > 0) {
    std::snprintf(buf, sizeof buf, ", embedding tables %.2f GB", embeddings / 1e9);
    out += buf;
  }
  return out;
}

namespace {
const char* kClassNames[] = {"weights", "kv_cache", "optimizer", "embeddings"};

// Resident inputs, each counted once at its largest size: name -> (bytes, class index into kClassNames).
std::map<std::string, std::pair<double, int>> resident_inputs(const Workload& w) {
  // Hashed: a million-op workload has a million tensor names, and only `resident` is iterated in order.
  std::unordered_map<std::string, double> produced;  // tensor -> bytes (largest write)
  for (const auto& op : w.ops)
    for (const auto& t : op.writes) {
      double& b = produced[t.name];
      b = std::max(b, t.bytes);
    }
  std::map<std::string, std::pair<double, int>> resident;
  for (const auto& op : w.ops)
    for (size_t r = 0; r < op.reads.size(); ++r) {
      const TensorRef& t = op.reads[r];
      if (produced.count(t.name)) continue;
      int cls = op.variant == "adamw" ? 2 : (op.kind == OpKind::attention && (r == 1 || r == 2)) ? 1
              : (op.kind == OpKind::embedding_bag && r == 0) ? 3 : 0;
      double bytes = t.bytes;
      if (op.kind == OpKind::embedding_bag && r == 0) {
        // A lookup reads a few rows, but the whole table stays resident.
        const auto& s = std::get<EmbeddingBagShape>(op.shape);
        bytes = std::max(bytes, double(s.tables) * s.rows * s.dim * dtype_bytes(op.dtype));
      }
      auto& e = resident[t.name];
      e.first = std::max(e.first, bytes);
      e.second = std::max(e.second, cls);
    }
  // A tensor read larger than any write of it held data before the run (a KV cache the step appends to).
  for (const auto& op : w.ops)
    for (size_t r = 0; r < op.reads.size(); ++r) {
      const TensorRef& t = op.reads[r];
      auto p = produced.find(t.name);
      if (p == produced.end() || t.bytes <= p->second) continue;
      auto& e = resident[t.name + " (before the run)"];
      e.first = std::max(e.first, t.bytes - p->second);
      e.second = std::max(e.second, op.kind == OpKind::attention ? 1 : 0);
    }
  return resident;
}
}  // namespace

std::map<std::string, std::string> resident_classes(const Workload& w) {
  std::map<std::string, std::string> out;
  for (const auto& [name, e] : resident_inputs(w)) out[name] = kClassNames[e.second];
  return out;
}

Footprint memory_footprint(const Workload& w) {
  Footprint f;
  std::vector<size_t> order = topological_order(w);
  auto resident = resident_inputs(w);
  std::unordered_map<std::string, double> produced;  // tensor -> bytes (largest write)
  for (const auto& op : w.ops)
    for (const auto& t : op.writes) {
      double& b = produced[t.name];
      b = std::max(b, t.bytes);
    }
  for (const auto& [name, e] : resident)
    (e.second == 3 ? f.embeddings : e.second == 2 ? f.optimizer : e.second == 1 ? f.kv_cache : f.weights) += e.first;
  // Optimizer state is updated in place: what the update reads and writes back (master weights, moments) is resident.
  // Its other write is the weights' copy in the training dtype, the weights counted above.
  std::unordered_set<std::string> held;  // resident tensors that ops write: left out of the liveness below
  for (const auto& op : w.ops)
    if (op.variant == "adamw")
      for (const auto& t : op.writes) {
        const bool state =
            std::any_of(op.reads.begin(), op.reads.end(), [&](const TensorRef& r) { return r.name == t.name; });
        if (!resident.count(t.name) && held.insert(t.name).second && state) f.optimizer += t.bytes;
      }
  // Weight gradients live from the backward that writes them to the update that reads them: a class of their own
  // (what ZeRO shards), whole for the step. Parts of an accumulation (name#k) are transient activations.
  for (const auto& op : w.ops)
    if (is_weight_grad(op))
      for (const auto& t : op.writes)
        if (t.name.find('#') == std::string::npos && held.insert(t.name).second) f.gradients += produced.at(t.name);
  // Liveness of produced tensors over the issue order.
  // tensor -> (first write, last read) positions in issue order; the name pointers stay valid (node-based keys).
  std::unordered_map<std::string, std::pair<size_t, size_t>> span;
  std::vector<const std::string*> first_written;  // in order of first write: the sums below do not depend on hashing
  for (size_t pos = 0; pos < order.size(); ++pos) {
    const Op& op = w.ops[order[pos]];
    for (const auto& t : op.writes)
      if (!held.count(t.name)) {
        auto [it, fresh] = span.try_emplace(t.name, pos, pos);
        if (fresh) first_written.push_back(&it->first);
      }
    for (const auto& t : op.reads)
      if (produced.count(t.name)) {
        auto it = span.find(t.name);
        if (it != span.end()) it->second.second = std::max(it->second.second, pos);
      }
  }
  std::vector<double> delta(order.size() + 1, 0);
  for (const std::string* name : first_written) {
    const auto [pos, end] = span.at(*name);
    const double bytes = produced.at(*name);
    delta[pos] += bytes;
    delta[end + 1] -= bytes;
  }
  double live = 0;
  for (double d : delta) f.activations = std::max(f.activations, live += d);
  return f;
}

}  // namespace xpu
