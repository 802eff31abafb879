// Kineto / Chrome traces from torch.profiler: the GPU activities are the work; each is tied to the aten op that
// launched it (directly by "External id", or through its runtime launch event's correlation id), and that op's
// recorded input dims give the IR shape. Ops are chained in program order per stream, as the GPU ran them.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <unordered_map>

#include "sim/trace/aten_map.h"
#include "sim/trace/trace_file.h"  // strip_gz
#include "sim/trace/trace_reader.h"

namespace xpu {
namespace {

using nlohmann::json;

bool starts_with(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

bool is_gpu_activity(const std::string& cat) { return cat == "kernel" || cat == "gpu_memset" || cat == "gpu_memcpy"; }
bool is_runtime(const std::string& cat) { return cat == "cuda_runtime" || cat == "cuda_driver" || cat == "runtime"; }

}  // namespace

// Keeps only what the reader uses, while parsing: a large trace is mostly python frames, flow arrows and
// CPU-side noise. Objects without "ph" (execution-trace nodes, nested args) pass untouched.
bool kineto_keep_event(int depth, const json& ev) {
  if (depth > 2 || !ev.contains("ph")) return true;
  auto cat = ev.find("cat");
  if (cat == ev.end() || !cat->is_string()) return false;
  const std::string& c = cat->get_ref<const std::string&>();
  if (c == "cpu_op" || is_gpu_activity(c) || is_runtime(c)) return true;
  auto name = ev.find("name");
  return c == "user_annotation" && name != ev.end() && name->is_string() &&
         starts_with(name->get_ref<const std::string&>(), "ProfilerStep#");
}

namespace {

double num(const json& ev, const char* key, double def = -1) {
  auto it = ev.find(key);
  return it != ev.end() && it->is_number() ? it->get<double>() : def;
}

int64_t arg_int(const json& ev, const char* key, int64_t def = -1) {
  auto a = ev.find("args");
  if (a == ev.end() || !a->is_object()) return def;
  auto it = a->find(key);
  return it != a->end() && it->is_number() ? it->get<int64_t>() : def;
}

std::string str(const json& ev, const char* key) {
  auto it = ev.find(key);
  if (it == ev.end()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

struct CpuOp {
  const json* ev;
  double ts, end;
  int parent = -1;
};

struct Activity {
  const json* ev;
  double ts, dur;
  int op = -1;           // launching cpu op, -1 when unknown
  double launch_ts;      // host time of the launch (for step filtering)
  std::string stream;
  int group = -1;        // index of the cpu op it is mapped through, -1 when unmodelled
};

// Turns a cpu_op event's "Input Dims" / "Input type" / "Concrete Inputs" into the shared call record.
AtenCall make_call(const json& ev, const std::string& kernel, const std::string& path) {
  AtenCall c;
  c.name = str(ev, "name");
  c.kernel = kernel;
  const json& a = ev.contains("args") ? ev["args"] : json::object();
  const json* dims = a.contains("Input Dims") && a["Input Dims"].is_array() ? &a["Input Dims"] : nullptr;
  const json* types = a.contains("Input type") && a["Input type"].is_array() ? &a["Input type"] : nullptr;
  const json* vals = a.contains("Concrete Inputs") && a["Concrete Inputs"].is_array() ? &a["Concrete Inputs"] : nullptr;
  size_t n = std::max({dims ? dims->size() : 0, types ? types->size() : 0, vals ? vals->size() : 0});
  for (size_t i = 0; i < n; ++i) {
    AtenArg arg;
    if (types && i < types->size() && (*types)[i].is_string()) arg.type = (*types)[i].get<std::string>();
    if (vals && i < vals->size() && (*vals)[i].is_string()) arg.value = (*vals)[i].get<std::string>();
    const json* d = dims && i < dims->size() ? &(*dims)[i] : nullptr;
    double eb = torch_elem_bytes(arg.type);
    bool tensor_type = eb > 0 || torch_dtype(arg.type).has_value();
    auto to_dims = [&](const json& j, std::vector<int64_t>& out) {
      for (const auto& x : j) {
        if (!x.is_number()) continue;
        const double v = x.get<double>();
        if (v < 0 || v > 1e15 || v != std::floor(v))
          throw InputError(SourceMark{path, 0, 0}, "cpu op '" + c.name + "' (External id " +
                                                       std::to_string(arg_int(ev, "External id")) + "): input " +
                                                       std::to_string(i) + " has a dimension of " + x.dump() +
                                                       "; sizes are whole numbers from 0 (the trace is corrupt)");
        out.push_back(x.get<int64_t>());
      }
    };
    if (d && d->is_array() && !d->empty() && (*d)[0].is_array()) {  // a tensor list
      for (const auto& t : *d) {
        TensorArg ta;
        to_dims(t, ta.dims);
        arg.tensors.push_back(ta);
      }
    } else if (d && d->is_array() && tensor_type) {
      TensorArg ta;
      to_dims(*d, ta.dims);
      ta.elem_bytes = eb;
      arg.tensors.push_back(ta);
    }
    c.args.push_back(std::move(arg));
  }
  return c;
}

// Collective kernels: the shape comes from the enclosing record_param_comms op when it was recorded.
Op collective_op(const std::string& kernel, const json* comms, double dur) {
  CollectiveShape s;
  s.op = collective_name(kernel);
  s.group = 0;
  if (comms && comms->contains("args")) {
    const json& a = (*comms)["args"];
    int64_t nelems = a.value("In msg nelems", int64_t(0));
    std::string dt = a.value("dtype", std::string("Float"));
    double eb = torch_elem_bytes(dt) > 0 ? torch_elem_bytes(dt) : (torch_dtype(dt) ? dtype_bytes(*torch_dtype(dt)) : 4);
    s.bytes = int64_t(double(nelems) * eb);
    s.group = a.value("Group size", int64_t(0));
  }
  std::string name = short_kernel_name(kernel);
  if (s.group <= 0) return unmodelled_op(name, name + " (collective, group size not recorded)", dur);
  Op op;
  op.name = name;
  op.kind = OpKind::collective;
  op.variant = s.op;
  op.shape = s;
  op.reads = {{"", double(s.bytes)}};
  op.writes = {{"", double(s.bytes)}};
  op.measured_us = dur;
  return op;
}

}  // namespace

TraceWorkload read_kineto(const std::string& path, const json& root) {
  const json* events = &root;
  if (root.is_object()) {
    if (!root.contains("traceEvents") || !root["traceEvents"].is_array())
      throw InputError(SourceMark{path, 0, 0}, "not a Kineto/Chrome trace: expected a \"traceEvents\" array");
    events = &root["traceEvents"];
  } else if (!root.is_array()) {
    throw InputError(SourceMark{path, 0, 0}, "not a Kineto/Chrome trace: expected a JSON object or array of events");
  }
  TraceWorkload out;
  out.stats.format = "kineto";
  std::vector<CpuOp> ops;
  std::vector<Activity> acts;
  std::unordered_map<int64_t, int> op_by_ext;
  std::unordered_map<int64_t, const json*> runtime_by_corr;
  std::vector<std::pair<double, double>> steps;
  std::map<std::string, std::vector<std::pair<double, int>>> by_thread;  // cpu ops per host thread, by start
  size_t malformed = 0, index = 0;
  for (const json& ev : *events) {
    ++index;
    if (!ev.is_object() || str(ev, "ph") != "X") continue;
    std::string cat = str(ev, "cat"), name = str(ev, "name");
    const bool has_ts = ev.contains("ts") && ev["ts"].is_number(), has_dur = ev.contains("dur") && ev["dur"].is_number();
    double ts = num(ev, "ts"), dur = num(ev, "dur");
    if (!has_ts || !has_dur) {
      ++malformed;  // a complete event without its times: usable without it, and counted
      continue;
    }
    // A time that no profiler writes is a corrupt trace: replaying around it would give a number built on it.
    if (!std::isfinite(ts) || !std::isfinite(dur) || dur < 0 || dur > 1e11 || ts < 0) {
      char buf[200];
      std::snprintf(buf, sizeof buf, "event #%zu (%s '%s'): %s %g us is %s", index - 1, cat.c_str(),
                    short_kernel_name(name).c_str(), dur < 0 || dur > 1e11 || !std::isfinite(dur) ? "dur" : "ts",
                    dur < 0 || dur > 1e11 || !std::isfinite(dur) ? dur : ts,
                    dur < 0 || ts < 0 ? "negative" : "beyond any profiled run (more than a day)");
      throw InputError(SourceMark{path, 0, 0}, std::string(buf) + "; the trace is corrupt");
    }
    if (starts_with(name, "ProfilerStep#")) {
      steps.push_back({ts, ts + dur});
    } else if (cat == "cpu_op") {
      int64_t ext = arg_int(ev, "External id");
      if (ext >= 0) op_by_ext[ext] = int(ops.size());
      by_thread[str(ev, "pid") + "/" + str(ev, "tid")].push_back({ts, int(ops.size())});
      ops.push_back({&ev, ts, ts + dur});
    } else if (is_runtime(cat)) {
      int64_t corr = arg_int(ev, "correlation");
      if (corr >= 0) runtime_by_corr[corr] = &ev;
    } else if (is_gpu_activity(cat)) {
      Activity a{&ev, ts, dur, -1, ts, "", -1};
      int64_t stream = arg_int(ev, "stream");
      a.stream = stream >= 0 ? std::to_string(stream) : str(ev, "tid");
      acts.push_back(a);
    }
  }
  if (malformed) out.stats.skip("complete (ph X) events without a numeric ts or dur");

  // Nesting of cpu ops per thread: a stack sweep over ops sorted by start (longest first on ties).
  const double eps = 1e-3;
  for (auto& [thread, list] : by_thread) {
    std::sort(list.begin(), list.end(), [&](const auto& x, const auto& y) {
      return x.first != y.first ? x.first < y.first : ops[size_t(x.second)].end > ops[size_t(y.second)].end;
    });
    std::vector<int> stack;
    for (const auto& [ts, i] : list) {
      while (!stack.empty() && ops[size_t(stack.back())].end < ops[size_t(i)].end - eps) stack.pop_back();
      ops[size_t(i)].parent = stack.empty() ? -1 : stack.back();
      stack.push_back(i);
    }
  }
  // The innermost cpu op enclosing a host timestamp on a thread, for launches that carry no External id.
  auto enclosing = [&](const json& rt) -> int {
    auto it = by_thread.find(str(rt, "pid") + "/" + str(rt, "tid"));
    if (it == by_thread.end()) return -1;
    const auto& list = it->second;
    double t = num(rt, "ts");
    auto pos = std::upper_bound(list.begin(), list.end(), t + eps,
                                [](double v, const std::pair<double, int>& x) { return v < x.first; });
    while (pos != list.begin()) {
      --pos;
      if (ops[size_t(pos->second)].end + eps >= t) return pos->second;
    }
    return -1;
  };

  for (Activity& a : acts) {
    int64_t ext = arg_int(*a.ev, "External id"), corr = arg_int(*a.ev, "correlation");
    const json* rt = nullptr;
    if (auto it = runtime_by_corr.find(corr); corr >= 0 && it != runtime_by_corr.end()) rt = it->second;
    if (ext < 0 && rt) ext = arg_int(*rt, "External id");
    if (auto it = op_by_ext.find(ext); ext >= 0 && it != op_by_ext.end()) a.op = it->second;
    else if (rt) a.op = enclosing(*rt);
    a.launch_ts = rt ? num(*rt, "ts") : a.op >= 0 ? ops[size_t(a.op)].ts : a.ts;
  }

  // Only the first profiler step: later steps repeat the same work, and warm-up steps may be excluded already.
  if (!steps.empty()) {
    std::sort(steps.begin(), steps.end());
    const auto s0 = steps.front().first, s1 = steps.front().second;  // not a structured binding: clang 14 cannot capture one
    size_t before = acts.size();
    acts.erase(std::remove_if(acts.begin(), acts.end(),
                              [&](const Activity& a) { return a.launch_ts < s0 - eps || a.launch_ts > s1 + eps; }),
               acts.end());
    out.stats.notes.push_back("kept profiler step 1 of " + std::to_string(steps.size()) + ": " +
                              std::to_string(acts.size()) + " of " + std::to_string(before) + " GPU activities");
  }
  std::stable_sort(acts.begin(), acts.end(), [](const Activity& x, const Activity& y) { return x.ts < y.ts; });

  // Each activity maps through the innermost launching op that has an IR mapping: usually the op itself (aten::mm
  // under matmul under linear), else an ancestor (a helper launched inside layer_norm, index ops inside embedding).
  std::unordered_map<int, bool> mappable;
  auto map_op = [&](int i) {
    auto it = mappable.find(i);
    if (it == mappable.end()) it = mappable.emplace(i, map_aten(make_call(*ops[size_t(i)].ev, "", path)).op.has_value()).first;
    return it->second;
  };
  std::vector<std::string> why(acts.size());
  for (size_t k = 0; k < acts.size(); ++k) {
    Activity& a = acts[k];
    std::string kname = str(*a.ev, "name");
    if (str(*a.ev, "cat") == "gpu_memcpy" && kname.find("DtoD") == std::string::npos) {
      why[k] = "host-device copy";
      continue;
    }
    for (int i = a.op, depth = 0; i >= 0 && depth < 8; i = ops[size_t(i)].parent, ++depth) {
      if (map_op(i)) {
        a.group = i;
        break;
      }
      if (why[k].empty()) why[k] = str(*ops[size_t(i)].ev, "name");
    }
  }
  // One IR op per mapped aten op: its longest kernel (memsets and copies only when it has nothing else) carries
  // the shape; the rest of its activities (workspace memsets, bias copies) keep their measured time.
  std::unordered_map<int, size_t> main_of;
  auto rank = [&](const Activity& a) { return (str(*a.ev, "cat") == "kernel" ? 1e12 : 0) + a.dur; };
  for (size_t k = 0; k < acts.size(); ++k) {
    if (acts[k].group < 0) continue;
    auto [it, fresh] = main_of.emplace(acts[k].group, k);
    if (!fresh && rank(acts[k]) > rank(acts[it->second])) it->second = k;
  }

  Workload& w = out.workload;
  w.name = strip_gz(path.substr(path.find_last_of('/') + 1));
  w.source = path;
  std::map<std::string, size_t> last_on_stream;
  struct Output { double bytes; std::string name; size_t op; };
  std::vector<Output> recent;  // latest outputs, to guess which earlier result an input is (no tensor ids here)
  for (size_t k = 0; k < acts.size(); ++k) {
    const Activity& a = acts[k];
    std::string kname = str(*a.ev, "name");
    size_t idx = w.ops.size();
    Op op;
    if (starts_with(kname, "nccl")) {
      const json* comms = nullptr;
      for (int i = a.op; i >= 0 && !comms; i = ops[size_t(i)].parent)
        if (str(*ops[size_t(i)].ev, "name") == "record_param_comms") comms = ops[size_t(i)].ev;
      op = collective_op(kname, comms, a.dur);
      if (is_unmodelled(op)) out.stats.unmodelled_one(op.variant.substr(11));
      else ++out.stats.mapped;
    } else if (a.group >= 0 && main_of[a.group] == k) {
      // Mapped again with the kernel's name, which may say "causal".
      op = map_aten(make_call(*ops[size_t(a.group)].ev, kname, path)).op->op;
      op.measured_us = a.dur;
      // PyTorch's non-vectorized elementwise kernel (strided or misaligned operands) is issue-bound, unlike its
      // vectorized one: the kernel name is the only record of which ran.
      if (op.kind == OpKind::elementwise && kname.find("vectorized_elementwise_kernel") == std::string::npos &&
          kname.find("elementwise_kernel<") != std::string::npos)
        op.variant += "_strided";
      ++out.stats.mapped;
    } else {
      std::string kshort = short_kernel_name(kname);
      std::string what = a.group >= 0 ? kshort + " (extra kernel of " + str(*ops[size_t(a.group)].ev, "name") + ")"
                         : !why[k].empty() ? kshort + " (" + why[k] + ")"
                                           : kshort + " (no launching op recorded)";
      op = unmodelled_op(kshort, what, a.dur);
      out.stats.unmodelled_one(what);
    }
    // Tensor names: an input the size of a recent output on this stream is taken to be it, so the cache model
    // sees the producer-consumer reuse of eager execution; anything else is a fresh tensor. The operands of one
    // op are distinct tensors: each recent output stands for at most one of them (the two same-sized inputs of a
    // residual add are the previous kernel's output and an older activation, not that output twice).
    std::vector<bool> claimed(recent.size(), false);
    for (size_t r = 0; r < op.reads.size(); ++r) {
      op.reads[r].name = "k" + std::to_string(idx) + ".in" + std::to_string(r);
      for (size_t j = recent.size(); j-- > 0;)
        if (!claimed[j] && recent[j].bytes == op.reads[r].bytes && op.reads[r].bytes > 0 && idx - recent[j].op <= 8) {
          op.reads[r].name = recent[j].name;
          claimed[j] = true;
          break;
        }
    }
    for (size_t o = 0; o < op.writes.size(); ++o) {
      op.writes[o].name = "k" + std::to_string(idx) + ".out" + std::to_string(o);
      recent.push_back({op.writes[o].bytes, op.writes[o].name, idx});
    }
    if (recent.size() > 32) recent.erase(recent.begin(), recent.begin() + 16);
    if (auto it = last_on_stream.find(a.stream); it != last_on_stream.end()) op.deps = {it->second};
    last_on_stream[a.stream] = idx;
    op.mark = SourceMark{path, 0, 0};
    w.ops.push_back(std::move(op));
  }
  w.description = "replay of " + w.name + " (" + std::to_string(w.ops.size()) + " GPU activities)";
  return out;
}

}  // namespace xpu
