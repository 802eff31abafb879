#include "sim/engine/dispatcher.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "models/mappers/mapper.h"
#include "sim/workload/collective_layout.h"

namespace xpu {

namespace {

// A pipeline bubble is the device waiting for the other stages: it runs on no stream and is idle time, not work.
bool is_bubble(const Op& o) { return o.variant == "pipeline_bubble"; }

// The order in which the host issues ops: the workload's dependency order, except that a data-parallel gradient
// all-reduce is issued as soon as the gradients it reduces have been issued, as DDP's autograd hooks launch each
// bucket's all-reduce in the middle of the backward pass rather than after it.
std::vector<size_t> host_issue_order(const Workload& wl) {
  std::vector<size_t> base = topological_order(wl);
  std::vector<size_t> hooked;  // ops issued by a hook, in base order
  std::vector<char> is_hook(wl.ops.size(), 0), issued(wl.ops.size(), 0);
  for (size_t i : base)
    if (wl.ops[i].kind == OpKind::collective && wl.ops[i].variant == "data_parallel") {
      is_hook[i] = 1;
      hooked.push_back(i);
    }
  if (hooked.empty()) return base;
  std::vector<size_t> out;
  out.reserve(base.size());
  size_t next_hook = 0;
  auto ready = [&](size_t op) {
    for (size_t d : wl.ops[op].deps)
      if (!issued[d]) return false;
    return true;
  };
  // Hooks fire in their own order (the buckets' order), each once everything it depends on has been issued.
  auto fire_hooks = [&] {
    while (next_hook < hooked.size() && ready(hooked[next_hook])) {
      out.push_back(hooked[next_hook]);
      issued[hooked[next_hook++]] = 1;
    }
  };
  for (size_t i : base) {
    if (is_hook[i]) continue;
    if (!ready(i)) fire_hooks();  // an op after a hook in dependency order waits for it
    out.push_back(i);
    issued[i] = 1;
    fire_hooks();
  }
  fire_hooks();
  return out;
}

}  // namespace

Dispatcher::Dispatcher(sc_core::sc_module_name name, const Workload& wl, HostModule& host, ComputeCore& core,
                       CacheLevel* cache, Interconnect* network, const RunOptions& opt,
                       const std::set<std::string>& offloaded, std::vector<OpEngine*> engines)
    : sc_core::sc_module(name), wl_(&wl), host_(host), core_(core), cache_(cache), network_(network),
      offloaded_(offloaded), engines_(std::move(engines)), opt_(opt) {
  init(wl, 0);
  SC_METHOD(step);
  sensitive << wake_;
}

void Dispatcher::init(const Workload& wl, uint64_t at_ps) {
  wl_ = &wl;
  done_count_ = 0;
  complete_fired_ = false;
  finished_.clear();
  records_.clear();
  for (auto& q : ready_)
    while (!q.empty()) q.pop();
  const size_t n = wl.ops.size();
  std::vector<size_t> order = host_issue_order(wl);
  rank_.assign(n, 0);
  submit_ps_.assign(n, 0);
  users_.assign(n, {});
  waiting_.assign(n, 0);
  records_.resize(n);
  on_engine_.assign(n, false);
  // The host submits launches in issue order, each after its dispatch time, never waiting for the device.
  const double latency = host_.launch_latency_s();
  // Eager: each op dispatched by the framework; compiled: each kernel launched from generated code (the backward
  // too: it is compiled ahead of time, no autograd engine); graphs: the step launched once as a CUDA graph.
  const bool eager = wl.stack == "eager", graph = wl.stack == "graphs";
  double host_s = graph ? host_.graph_launch_s() : 0;
  kernel_gap_ps_ = wl.host_dispatch ? ps_from_seconds(graph ? host_.graph_kernel_gap_s() : host_.kernel_gap_s(),
                                                      "the host's kernel gaps")
                                    : 0;
  for (size_t i = 0; i < n; ++i) {
    rank_[order[i]] = i;
    const Op& op = wl.ops[order[i]];
    if (eager) {
      if (order[i] == wl.backward_start) host_s += host_.autograd_overhead_s();
      const bool backward = order[i] >= wl.backward_start && op.variant != "adamw" && op.variant != "sgd";
      // A forward op: its kind's dispatch (a plain reduction of the model code as a tensor op, not a library norm)
      // and the framework calls before it that launch nothing.
      if (backward) host_s += host_.backward_dispatch_s(op_kind_name(op.kind));
      else
        host_s += (plain_reduction(op) ? host_.reduction_dispatch_s() : host_.dispatch_s(op_kind_name(op.kind))) +
                  op.host_calls * host_.view_overhead_s();
    } else if (!graph) {
      host_s += host_.compiled_launch_s();
    }
    submit_ps_[order[i]] = at_ps + (wl.host_dispatch ? ps_from_seconds(host_s + latency, "the host's launches") : 0);
  }
  for (size_t i = 0; i < n; ++i) {
    waiting_[i] = wl.ops[i].deps.size();
    for (size_t d : wl.ops[i].deps) users_[d].push_back(i);
    if (!waiting_[i]) ready_[on_comm_stream(i)].push({rank_[i], i});
  }
}

void Dispatcher::load(const Workload& wl, uint64_t at_ps) {
  if (done_count_ != wl_->ops.size() || inflight_ || inflight_comm_)
    throw std::logic_error("Dispatcher::load while the previous workload is still running");
  init(wl, at_ps);
  const uint64_t now = sc_core::sc_time_stamp().value();
  wake_.notify(sc_core::sc_time::from_value(at_ps > now ? at_ps - now : 0));
}

void Dispatcher::step() {
  uint64_t now = sc_core::sc_time_stamp().value();
  ++events_;
  while (!memo_due_.empty() && memo_due_.top().first <= now) {
    const size_t op = memo_due_.top().second;
    memo_due_.pop();
    finished_.push_back({op, memo_reports_[op]});
    memo_reports_.erase(op);
  }
  for (auto& [op, rep] : finished_) {
    if (recording_ && rec_.op == op) record_memo(op, rep, now);
    OpRecord& rec = records_[op];
    rec.end_s = rep.end_s;
    rec.tiles = rep.tiles;
    rec.waves = rep.waves;
    rec.bytes = rep.miss_bytes + rep.write_bytes;
    rec.cache_bytes = rep.cache_read_bytes;
    rec.energy_j = rep.energy_j;
    rec.clock_hz = rep.clock_hz;
    const UnitInfo& u = core_.info();
    DType dt = wl_->ops[op].dtype;
    // At the clock the governor chose: a power-capped kernel is still compute-bound, only slower.
    const double clock_share = rep.clock_hz > 0 ? rep.clock_hz / u.clock_hz : 1;
    double mrate = u.matmul_rate(dt) * u.units * clock_share, vrate = u.vector_rate(dt) * u.units * clock_share;
    rec.compute_s = rep.compute_s >= 0 ? rep.compute_s
                                       : (mrate > 0 ? rep.matrix_flops / mrate : 0) + (vrate > 0 ? rep.vector_flops / vrate : 0);
    rec.memory_s = u.mem_bw > 0 ? rec.bytes / u.mem_bw : 0;
    rec.cache_s = u.cache_bw > 0 ? (rep.cache_read_bytes + rep.miss_bytes + rep.write_bytes) / u.cache_bw : 0;
    double dur = rec.duration_s();
    double explained = std::max({rec.compute_s, rec.memory_s, rec.cache_s});
    rec.launch_s = std::max(0.0, dur - explained);
    if (wl_->ops[op].measured_us >= 0 && !rec.modelled) rec.bound = Bound::measured;
    else if (wl_->ops[op].kind == OpKind::collective)
      rec.bound = is_bubble(wl_->ops[op]) ? Bound::dependency : Bound::interconnect;
    else if (rep.program_s > std::max(explained, 0.5 * dur)) rec.bound = Bound::programming;
    else if (explained < 0.5 * dur) rec.bound = Bound::latency;
    else if (explained == rec.compute_s) rec.bound = Bound::compute;
    else if (explained == rec.memory_s) rec.bound = Bound::memory;
    else rec.bound = Bound::cache;
    if (!is_bubble(wl_->ops[op])) {
      busy_s_ += dur;
      if (--running_work_ == 0) active_ps_ += now - active_since_ps_;
    }
    if (cache_) {
      // Weights an engine holds in its arrays never pass through the cache.
      for (const auto& r : wl_->ops[op].reads)
        if (!on_engine_[op] || &r == &wl_->ops[op].reads.front()) cache_->touch(r.name, r.bytes);
      for (const auto& w : wl_->ops[op].writes) cache_->touch(w.name, w.bytes);
    }
    if (!posted_receive(op)) --(on_comm_stream(op) ? inflight_comm_ : inflight_);
    ++done_count_;
    if (!on_comm_stream(op)) stream_free_ps_ = std::max(stream_free_ps_, now + kernel_gap_ps_);
    for (size_t u2 : users_[op])
      if (--waiting_[u2] == 0) ready_[on_comm_stream(u2)].push({rank_[u2], u2});
    if (opt_.progress) opt_.progress(done_count_, wl_->ops.size());
  }
  finished_.clear();
  if (on_complete_ && !complete_fired_ && done_count_ == wl_->ops.size()) {
    complete_fired_ = true;
    on_complete_(now);  // may load the next workload
    return;
  }
  checked_time(now, "the run");
  if (sim_time_overflow().set) {
    const SimTimeOverflow& o = sim_time_overflow();
    char buf[400];
    std::snprintf(buf, sizeof buf,
                  "simulated time overflows at op '%s': %s need %.3g s of simulated time, past the %.0f days that "
                  "xpusim's 64-bit picosecond clock holds; a rate or bandwidth of the hardware config is far too low "
                  "for this workload",
                  wl_->ops[last_launched_].name.c_str(), o.where, o.ps * 1e-12, double(kMaxSimPs) * 1e-12 / 86400);
    error_ = std::make_exception_ptr(InputError(SourceMark{wl_->source, 0, 0}, buf));
    sc_core::sc_stop();
    return;
  }
  try {
    issue_ready(now);
    if (!memo_due_.empty()) wake_.notify(sc_core::sc_time::from_value(memo_due_.top().first - now));
  } catch (const InputError&) {
    error_ = std::current_exception();
    sc_core::sc_stop();
  } catch (const std::bad_alloc&) {
    // A shape that slipped past the mappers' own limits: say which op, rather than abort the run.
    error_ = std::make_exception_ptr(InputError(SourceMark{wl_->source, 0, 0},
                                                "the simulator ran out of memory mapping an op; the workload's shapes are "
                                                "too large to simulate op by op"));
    sc_core::sc_stop();
  }
}

// A point-to-point receive of a replayed rank is posted and waits for its sender without holding a communication
// stream (as irecv does): holding one could deadlock two pipeline stages that each wait to receive before sending.
bool Dispatcher::posted_receive(size_t op) const {
  const Op& o = wl_->ops[op];
  if (o.kind != OpKind::collective) return false;
  const auto& s = std::get<CollectiveShape>(o.shape);
  return s.recv && s.peer >= 0 && network_;
}

bool Dispatcher::on_comm_stream(size_t op) const {
  const Op& o = wl_->ops[op];
  return o.kind == OpKind::collective && !is_bubble(o);
}

// Ready ops in issue order; each takes a slot on its kind of stream: compute kernels on the compute streams,
// collectives on the communication streams (as NCCL runs its own), so communication overlaps computation.
// Ops are launched in rank order across both queues. Within a queue, once the head waits (its streams are full, or
// its launch has not reached the device, and launches arrive in rank order), everything behind it waits too: so
// each call looks at the launched ops and at most one more per queue, even with a million ops ready at once.
void Dispatcher::issue_ready(uint64_t now) {
  bool blocked[2] = {false, false};
  uint64_t wake_at = UINT64_MAX;
  for (;;) {
    int q = -1;
    for (int c = 0; c < 2; ++c)
      if (!blocked[c] && !ready_[c].empty() && (q < 0 || ready_[c].top() < ready_[q].top())) q = c;
    if (q < 0) break;
    const size_t op = ready_[q].top().second;
    const bool comm = q == 1;
    if (!posted_receive(op) && (comm ? inflight_comm_ : inflight_) >= (comm ? host_.comm_streams() : host_.streams())) {
      blocked[q] = true;
      continue;
    }
    uint64_t start = std::max(now, submit_ps_[op]);
    if (!comm && host_.streams() == 1) start = std::max(start, stream_free_ps_);
    if (start > now) {
      wake_at = std::min(wake_at, start);
      blocked[q] = true;
      continue;
    }
    ready_[q].pop();
    launch(op, now);
  }
  if (wake_at != UINT64_MAX) wake_.notify(sc_core::sc_time::from_value(wake_at - now));
}

void Dispatcher::launch(size_t op_index, uint64_t now) {
  const Op& op = wl_->ops[op_index];
  last_launched_ = op_index;
  if (!is_bubble(op) && running_work_++ == 0) active_since_ps_ = now;
  OpRecord& rec = records_[op_index];
  rec.index = op_index;
  rec.name = op.name;
  rec.kind = op_kind_name(op.kind);
  rec.variant = op.variant;
  rec.layer = op.layer;
  rec.dtype = dtype_name(op.dtype);
  rec.unit = core_.name();
  rec.start_s = now * 1e-12;
  rec.flops = op.flops();
  rec.min_bytes = op.min_bytes();
  if (start_collective(op_index) || start_on_engine(op_index)) return;
  const bool flush = cache_ && (opt_.cold || (opt_.cold_start && !launched_any_));
  launched_any_ = true;
  if (flush) cache_->flush();
  const double cold_delay = flush ? cache_->flush_penalty_s() : 0;
  std::unique_ptr<Kernel> k;
  // Trace ops the readers could not map (variant "unmodelled:<what>") also run for their measured duration.
  if (op.measured_us >= 0 && (!MapperRegistry::instance().find(op.kind) || op.variant.rfind("unmodelled:", 0) == 0 ||
                              (op.kind == OpKind::collective && !network_))) {
    rec.modelled = false;
  }
  const MapperFn* mapper = MapperRegistry::instance().find(op.kind);
  if (recording_) rec_.valid = false;  // another kernel shares the device with the one being recorded
  if (memo_ && mapper && rec.modelled && inflight_ == 0 && !flush && !(cache_ && cache_->flush_dirty()) &&
      offloaded_.empty() && engines_.empty() && op.kind != OpKind::collective) {
    const std::string key = KernelMemo::key(op, cache_);
    if (launch_from_memo(op_index, key, now)) return;
    recording_ = true;
    rec_.op = op_index;
    rec_.key = key;
    rec_.start_ps = now;
    rec_.valid = true;
    counters_.read(rec_.before);
  }
  if (mapper && rec.modelled) {
    MapContext ctx{core_.info(), cache_, busy_s_};
    k = (*mapper)(op, ctx);
  } else if (op.measured_us >= 0) {
    // Not modelled: the trace's measured duration stands in, and the report says so.
    struct Fixed : Kernel { void tile(uint64_t, TileWork&) override {} };
    k = std::make_unique<Fixed>();
    k->fixed_s = op.measured_us * 1e-6;
    k->overhead_included = true;
    k->mapping = "measured duration";
    rec.modelled = false;
  } else {
    throw InputError(op.mark, "no mapper for op kind '" + rec.kind + "' (op '" + op.name + "')");
  }
  if (k->num_tiles > kMaxTilesPerOp) {
    char buf[240];
    std::snprintf(buf, sizeof buf,
                  "op '%s' lowers to %.3g tiles (%s); xpusim simulates at most %.0e tiles per op: split the op or "
                  "shrink its shape", op.name.c_str(), double(k->num_tiles), k->mapping.c_str(), double(kMaxTilesPerOp));
    throw InputError(op.mark, buf);
  }
  k->start_delay_s += cold_delay;
  if (rec.modelled) {
    // The mapper may have said what part runs on the vector and special-function units (attention's softmax).
    if (op.kind == OpKind::matmul || op.kind == OpKind::attention || op.kind == OpKind::interaction)
      k->work_matrix_flops = op.flops();
    else if (k->work_vector_flops <= 0)
      k->work_vector_flops = op.flops();
    k->work_bytes = op.min_bytes();
    if (k->work_cache_bytes < 0) k->work_cache_bytes = k->work_bytes;
  }
  if (!offloaded_.empty()) {
    double remote = 0, all = 0;
    for (const auto& t : op.reads) {
      all += t.bytes;
      if (offloaded_.count(t.name)) remote += t.bytes;
    }
    k->offload_fraction = all > 0 ? remote / all : 0;
  }
  rec.mapping = k->mapping;
  ++(on_comm_stream(op_index) ? inflight_comm_ : inflight_);
  host_.launches += 1;
  core_.launch(std::move(k), static_cast<uint32_t>(op_index), [this, op_index](const KernelReport& r) {
    finished_.push_back({op_index, r});
    wake_.notify(sc_core::SC_ZERO_TIME);
  });
}

bool Dispatcher::launch_from_memo(size_t op_index, const std::string& key, uint64_t now) {
  auto it = memo_->entries.find(key);
  if (it == memo_->entries.end()) {
    ++memo_->misses;
    return false;
  }
  const KernelMemo::Entry& e = it->second;
  // Near the end of the 64-bit clock the kernel runs tile by tile, so that an overflow names its resource.
  if (e.duration_ps >= kMaxSimPs - std::min(now, kMaxSimPs)) return false;
  ++memo_->hits;
  counters_.add(e.delta);
  KernelReport r = e.report;
  r.start_s += now * 1e-12;
  r.end_s += now * 1e-12;
  records_[op_index].mapping = e.mapping;
  ++inflight_;
  host_.launches += 1;
  memo_reports_[op_index] = r;
  memo_due_.push({now + e.duration_ps, op_index});
  return true;
}

void Dispatcher::record_memo(size_t op_index, const KernelReport& r, uint64_t now) {
  recording_ = false;
  if (!rec_.valid) return;
  KernelMemo::Entry e;
  e.duration_ps = now - rec_.start_ps;
  e.report = r;
  e.report.start_s -= rec_.start_ps * 1e-12;
  e.report.end_s -= rec_.start_ps * 1e-12;
  e.mapping = records_[op_index].mapping;
  counters_.read(e.delta);
  for (size_t i = 0; i < e.delta.size(); ++i) e.delta[i] -= rec_.before[i];
  memo_->entries.emplace(rec_.key, std::move(e));
}

bool Dispatcher::start_on_engine(size_t op_index) {
  for (OpEngine* e : engines_) {
    if (!e->takes(op_index)) continue;
    records_[op_index].unit = e->engine_name();
    on_engine_[op_index] = true;
    launched_any_ = true;
    ++inflight_;
    host_.launches += 1;
    e->launch(op_index, [this, op_index](const KernelReport& r, const std::string& mapping) {
      records_[op_index].mapping = mapping;
      finished_.push_back({op_index, r});
      wake_.notify(sc_core::SC_ZERO_TIME);
    });
    return true;
  }
  return false;
}

// A collective among several devices runs on the network; each group of the job (every tensor-parallel group, say)
// runs its copy at the same moment, as SPMD ranks do, so groups that share links slow each other down.
bool Dispatcher::start_collective(size_t op_index) {
  const Op& op = wl_->ops[op_index];
  // Trace collectives run on the network too; without one (or unmodelled) they keep their measured time.
  if (!network_ || !on_comm_stream(op_index) || op.variant.rfind("unmodelled:", 0) == 0) return false;
  const auto& s = std::get<CollectiveShape>(op.shape);
  if (s.group <= 1 && s.peer < 0) return false;
  CollectiveCall call;
  call.op = s.op;
  call.bytes = double(s.bytes);
  call.name = op.name;
  call.pg = s.pg;
  call.peer = s.peer;
  call.tag = s.tag;
  call.recv = s.recv;
  const CollectiveLayout layout = collective_layout(op, *wl_);
  call.group = layout.group;
  call.stride = layout.stride;
  call.world = layout.world;
  call.chain = layout.chain;
  records_[op_index].unit = "network";  // launch() filled in the rest of the record
  records_[op_index].net_bytes = double(s.bytes);
  launched_any_ = true;
  if (!posted_receive(op_index)) ++inflight_comm_;
  host_.launches += 1;
  try {
    network_->start(call, [this, op_index](const CollectiveOutcome& o) {
      KernelReport r;
      r.start_s = records_[op_index].start_s;
      r.end_s = double(o.end_ps) * 1e-12;
      records_[op_index].mapping = o.algorithm + ": " + o.detail;
      finished_.push_back({op_index, r});
      wake_.notify(sc_core::SC_ZERO_TIME);
    });
  } catch (const InputError& e) {
    throw InputError(op.mark, "op '" + op.name + "': " + std::string(e.what()).substr(7));
  }
  return true;
}

}  // namespace xpu
