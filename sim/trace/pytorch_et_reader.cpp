// PyTorch execution traces (ExecutionTraceObserver JSON): a tree of every aten call with tensor ids but no timing.
// The outermost call that has an IR mapping becomes an op (aten::linear rather than the mm inside it) and its
// subtree is not looked at again; dependencies come from tensor storage: an op depends on the last op that wrote
// any storage it reads.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <unordered_map>

#include "sim/trace/aten_map.h"
#include "sim/trace/trace_file.h"  // strip_gz
#include "sim/trace/trace_reader.h"

namespace xpu {
namespace {

using nlohmann::json;

std::string as_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "True" : "False";
  return v.dump();
}

// [tensor_id, storage_id, offset, numel, itemsize, device] in schema 1.0.x.
bool is_tensor_value(const json& v) {
  return v.is_array() && v.size() >= 5 && v[0].is_number() && v[1].is_number() && v[3].is_number() &&
         v[4].is_number();
}

// A size is a whole number from 0 that fits int64 (a float such as 5e30 has no int64 value: converting it is
// undefined). The caller names the file and the node.
int64_t tensor_dim(const json& d) {
  if (d.is_number_unsigned() && d.get<uint64_t>() <= uint64_t(INT64_MAX)) return int64_t(d.get<uint64_t>());
  if (d.is_number_integer() && !d.is_number_unsigned() && d.get<int64_t>() >= 0) return d.get<int64_t>();
  const double f = d.is_number_float() ? d.get<double>() : -1;
  if (f >= 0 && f < 9.2e18 && f == std::floor(f)) return int64_t(f);
  throw InputError("tensor has a dimension of " + d.dump() +
                   "; sizes are whole numbers from 0 (the trace is corrupt)");
}

// Flattens a value (tensor, list of tensors, nested lists) with its shape into tensor args.
void collect_tensors(const json& v, const json& shape, std::vector<TensorArg>& out) {
  if (is_tensor_value(v)) {
    TensorArg t;
    if (shape.is_array())
      for (const auto& d : shape)
        if (d.is_number()) t.dims.push_back(tensor_dim(d));
    t.id = "s" + v[1].dump();
    t.elem_bytes = v[4].get<double>();
    if (v.size() > 5 && v[5].is_string()) t.device = v[5].get<std::string>();
    out.push_back(std::move(t));
  } else if (v.is_array()) {
    for (size_t i = 0; i < v.size(); ++i) collect_tensors(v[i], shape.is_array() && i < shape.size() ? shape[i] : json(), out);
  }
}

int64_t need_int(const json& node, const char* key, size_t index, const std::string& file) {
  auto it = node.find(key);
  if (it == node.end() || !it->is_number_integer())
    throw InputError(SourceMark{file, 0, 0}, "node #" + std::to_string(index) + " has no integer \"" + key +
                                                 "\" field (expected an ExecutionTraceObserver node)");
  return it->get<int64_t>();
}

}  // namespace

// One node's inputs or outputs as call arguments, in either schema: {"values","shapes","types"} (1.0.x) or the
// older parallel arrays ("inputs", "input_shapes", "input_types").
std::vector<AtenArg> et_io_args(const json& node, const char* io) {
  const json empty = json::array();
  const json *vals = &empty, *shapes = &empty, *types = &empty;
  auto it = node.find(io);
  if (it != node.end() && it->is_object()) {
    if (it->contains("values")) vals = &(*it)["values"];
    if (it->contains("shapes")) shapes = &(*it)["shapes"];
    if (it->contains("types")) types = &(*it)["types"];
  } else if (it != node.end() && it->is_array()) {
    std::string one = std::string(io) == "inputs" ? "input" : "output";
    vals = &*it;
    if (node.contains(one + "_shapes")) shapes = &node[one + "_shapes"];
    if (node.contains(one + "_types")) types = &node[one + "_types"];
  }
  std::vector<AtenArg> args;
  if (!vals->is_array()) return args;
  for (size_t i = 0; i < vals->size(); ++i) {
    AtenArg a;
    const json& v = (*vals)[i];
    if (types->is_array() && i < types->size() && (*types)[i].is_string()) a.type = (*types)[i].get<std::string>();
    const json& s = shapes->is_array() && i < shapes->size() ? (*shapes)[i] : json();
    if (a.type.find("Tensor") != std::string::npos) collect_tensors(v, s, a.tensors);
    if (a.tensors.empty()) a.value = as_text(v);
    args.push_back(std::move(a));
  }
  return args;
}

EtNode et_node(const json& n, size_t index, const std::string& path) {
  if (!n.is_object()) throw InputError(SourceMark{path, 0, 0}, "node #" + std::to_string(index) + " is not an object");
  EtNode e;
  e.id = need_int(n, "id", index, path);
  auto name = n.find("name");
  if (name == n.end() || !name->is_string())
    throw InputError(SourceMark{path, 0, 0}, "node id " + std::to_string(e.id) + " has no \"name\" string");
  e.name = name->get<std::string>();
  e.parent = n.contains("ctrl_deps") ? need_int(n, "ctrl_deps", index, path)
             : n.contains("parent")  ? need_int(n, "parent", index, path)
                                     : -1;
  // A negative or non-whole size is a corrupt trace: mapping around it would give shapes it does not have.
  for (const char* io : {"inputs", "outputs"}) {
    try {
      (io[0] == 'i' ? e.inputs : e.outputs) = et_io_args(n, io);
    } catch (const InputError& err) {
      throw InputError(SourceMark{path, 0, 0}, "node id " + std::to_string(e.id) + " ('" + e.name + "'): " +
                                                   (io[0] == 'i' ? "an input " : "an output ") +
                                                   std::string(err.what()).substr(7));  // past "error: "
    }
  }
  return e;
}

TraceWorkload read_pytorch_et(const std::string& path, const json& root, const std::vector<EtNode>& nodes) {
  if (!root.is_object() || !root.contains("nodes") || !root["nodes"].is_array())
    throw InputError(SourceMark{path, 0, 0}, "not a PyTorch execution trace: expected a \"nodes\" array");
  TraceWorkload out;
  out.stats.format = "pytorch-et";
  if (root.contains("schema")) out.stats.notes.push_back("schema " + as_text(root["schema"]));

  std::unordered_map<int64_t, size_t> by_id;
  std::vector<int64_t> ids(nodes.size()), parent(nodes.size(), -1);
  for (size_t i = 0; i < nodes.size(); ++i) {
    ids[i] = nodes[i].id;
    parent[i] = nodes[i].parent;
    if (!by_id.emplace(ids[i], i).second)
      throw InputError(SourceMark{path, 0, 0}, "two nodes have id " + std::to_string(ids[i]));
  }
  std::vector<std::vector<size_t>> children(nodes.size());
  std::vector<size_t> roots;
  for (size_t i = 0; i < nodes.size(); ++i) {
    auto p = by_id.find(parent[i]);
    if (p == by_id.end() || p->second == i) roots.push_back(i);  // the process node is its own parent
    else children[p->second].push_back(i);
  }
  // A parent cycle would hide its nodes from the walk below: find one and say so.
  std::vector<char> state(nodes.size(), 0);  // 0 unknown, 1 being checked, 2 reaches a root
  for (size_t r : roots) state[r] = 2;
  for (size_t i = 0; i < nodes.size(); ++i) {
    std::vector<size_t> chain;
    size_t k = i;
    while (state[k] == 0) {
      state[k] = 1;
      chain.push_back(k);
      k = by_id.at(parent[k]);
    }
    if (state[k] == 1)
      throw InputError(SourceMark{path, 0, 0}, "ctrl_deps cycle through node id " + std::to_string(ids[k]) + " ('" +
                                                   nodes[k].name + "'): node parents must form a tree");
    for (size_t c : chain) state[c] = 2;
  }
  auto by_node_id = [&](size_t a, size_t b) { return ids[a] < ids[b]; };
  for (auto& c : children) std::sort(c.begin(), c.end(), by_node_id);
  std::sort(roots.begin(), roots.end(), by_node_id);

  // The first profiler step only, when steps were recorded.
  std::vector<size_t> steps;
  for (size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].name.rfind("ProfilerStep#", 0) == 0) steps.push_back(i);
  if (!steps.empty()) {
    std::sort(steps.begin(), steps.end(), by_node_id);
    roots = {steps.front()};
    out.stats.notes.push_back("kept profiler step 1 of " + std::to_string(steps.size()));
  }

  Workload& w = out.workload;
  w.name = strip_gz(path.substr(path.find_last_of('/') + 1));
  w.source = path;
  std::unordered_map<std::string, size_t> producer;  // storage -> last op that wrote it
  size_t views = 0;
  std::vector<size_t> stack(roots.rbegin(), roots.rend());
  while (!stack.empty()) {  // pre-order, children by id: the order the host issued the calls
    size_t i = stack.back();
    stack.pop_back();
    const EtNode& n = nodes[i];
    const std::string& name = n.name;
    auto descend = [&] { stack.insert(stack.end(), children[i].rbegin(), children[i].rend()); };
    if (is_annotation(name)) {
      descend();
      continue;
    }
    AtenCall call{name, n.inputs, ""};
    MapResult r = map_aten(call);
    if (!r.op) {
      if (!children[i].empty()) descend();
      else if (launches_no_kernel(name)) ++views;
      else out.stats.skip(r.why);
      continue;
    }
    size_t idx = w.ops.size();
    Op op = std::move(r.op->op);
    for (size_t k = 0; k < op.reads.size(); ++k) {
      const ReadSource& src = r.op->read_from[k];
      const std::string* id = src.arg >= 0 ? &call.args[size_t(src.arg)].tensors[size_t(src.tensor)].id : nullptr;
      op.reads[k].name = id && !id->empty() ? *id : "n" + std::to_string(ids[i]) + ".in" + std::to_string(k);
    }
    std::vector<std::string> out_ids;
    for (const auto& a : n.outputs)
      for (const auto& t : a.tensors)
        if (t.numel() > 0) out_ids.push_back(t.id);
    for (size_t k = 0; k < op.writes.size(); ++k)
      op.writes[k].name = k < out_ids.size() ? out_ids[k] : "n" + std::to_string(ids[i]) + ".out" + std::to_string(k);
    for (const auto& a : call.args)
      for (const auto& t : a.tensors)
        if (auto p = producer.find(t.id); p != producer.end() && std::find(op.deps.begin(), op.deps.end(), p->second) == op.deps.end())
          op.deps.push_back(p->second);
    for (const auto& id : out_ids) producer[id] = idx;
    op.mark = SourceMark{path, 0, 0};
    op.name = name;
    w.ops.push_back(std::move(op));
    ++out.stats.mapped;
  }
  if (views) out.stats.notes.push_back(std::to_string(views) + " view/allocation calls launch no kernel");
  w.description = "replay of " + w.name + " (" + std::to_string(w.ops.size()) + " ops from an execution trace)";
  return out;
}

}  // namespace xpu
