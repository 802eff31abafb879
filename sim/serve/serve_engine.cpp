#include "sim/serve/serve_engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <queue>
#include <unordered_map>

#include "models/network/net_element.h"
#include "models/sim_time.h"
#include "sim/cost/device_cost.h"
#include "sim/engine/dispatcher.h"
#include "sim/engine/machine.h"
#include "sim/network/interconnect.h"
#include "sim/workload/footprint.h"
#include "sim/workload/stack.h"
#include "sim/workload/transformer.h"

namespace xpu {
namespace {

// Builds one replica's device inside a module of its own, so its blocks are named replica<k>.<block>.
struct ReplicaScope : sc_core::sc_module {
  ReplicaScope(sc_core::sc_module_name n, const std::function<void()>& build) : sc_core::sc_module(n) { build(); }
};

// Keys and values one token leaves in the cache of one device of the replica: its share of the KV heads (tensor
// parallelism) of its share of the layers (pipeline parallelism).
double kv_bytes_per_token(const ParamSet& p) {
  const int64_t heads = int64_t(p.count("heads"));
  const int64_t kv = p.count("kv_heads") ? int64_t(p.count("kv_heads")) : heads;
  const int64_t hd = p.count("head_dim") ? int64_t(p.count("head_dim")) : int64_t(p.count("d_model")) / heads;
  const int64_t tp = int64_t(p.count("tp"));
  const int64_t kv_dev = kv >= tp ? kv / tp : 1;
  return double(p.count("layers")) / double(p.count("pp")) * 2.0 * double(kv_dev) * double(hd) *
         dtype_bytes(parse_dtype(p.str("dtype")));
}

// One pipeline stage of a replica: a device (or tensor-parallel group) elaborated once, running the stage's part of
// one iteration at a time.
struct Stage {
  Machine m;
  std::unique_ptr<ReplicaScope> scope;
  std::unique_ptr<Dispatcher> dispatcher;
  DeviceCounters counters;            // for iteration reuse
  std::vector<double> before;         // counters at the start of a recorded iteration
  std::string key;                    // the running iteration's key ("" when not recorded)
  EdgePort* host_link = nullptr;      // where swapped KV caches go: the connection to a memory pool if the device
                                      // reaches one, else to the host
  std::unique_ptr<Workload> running;  // the iteration part the dispatcher holds
  bool busy = false;
  size_t engine = 0;  // whose batch runs
  uint64_t started_ps = 0;
  std::deque<std::pair<size_t, uint64_t>> queue;  // engines whose batch waits for this stage, and from when
};

// A scheduler with its own share of the KV cache and at most one batch in the pipeline (vLLM's virtual engines:
// pp of them keep pp batches in flight).
struct Engine {
  std::unique_ptr<Scheduler> sched;
  std::vector<BatchItem> batch;
  std::vector<AttentionGroup> groups;
  std::string groups_key;
  bool in_flight = false;
  uint64_t formed_ps = 0;
};

struct Replica {
  int pool = 0;                     // index into the run's pools (one, or prefill and decode)
  const ParamSet* model = nullptr;  // the pool's model parameters (its tp and pp)
  int tp = 1, pp = 1;
  double kv_bytes_per_token = 0;  // per device
  int64_t first_device = 0;       // on the fabric: the replicas' devices in order
  std::vector<std::unique_ptr<Stage>> stages;
  std::vector<Engine> engines;
  bool entry() const { return engines[0].sched->options().role != SchedulerOptions::Role::decode; }
  size_t outstanding() const {
    size_t n = 0;
    for (const auto& e : engines) n += e.sched->outstanding();
    return n;
  }
};

class ServeDriver : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(ServeDriver);
  ServeDriver(sc_core::sc_module_name n, const std::string& model_name, const std::vector<Request>& reqs,
              std::vector<std::unique_ptr<Replica>>& reps, const ServeOptions& o, ServeResult& out,
              Interconnect* fabric)
      : sc_core::sc_module(n),
        name_(model_name),
        reqs_(reqs),
        reps_(reps),
        o_(o),
        out_(out),
        stack_(parse_stack(o.stack)),
        fabric_(fabric) {
    for (size_t r = 0; r < reps_.size(); ++r) (reps_[r]->entry() ? entries_ : decoders_).push_back(r);
    owner_.assign(reqs_.size(), Owner{});
    SC_METHOD(on_arrival);
    sensitive << arrival_;
    dont_initialize();
    SC_METHOD(on_reuse_due);
    sensitive << reuse_due_;
    dont_initialize();
    reuse_ = o.reuse;
    for (size_t r = 0; r < reps_.size(); ++r)
      for (size_t st = 0; st < reps_[r]->stages.size(); ++st)
        reps_[r]->stages[st]->dispatcher->on_complete(
            [this, r, st](uint64_t now) { guarded([&] { on_stage_end(r, st, now); }); });
    if (!reqs_.empty()) arrival_.notify(sc_core::sc_time::from_value(ps_from_seconds(reqs_[0].arrival_s, "arrivals")));
  }
  std::exception_ptr error() const { return error_; }

  struct Owner {
    size_t replica = SIZE_MAX, engine = 0, seq = 0;
  };
  const std::vector<Owner>& owners() const { return owner_; }

 private:
  template <class F>
  void guarded(F&& f) {
    try {
      f();
    } catch (...) {
      error_ = std::current_exception();
      sc_core::sc_stop();
    }
  }

  void on_arrival() {
    guarded([&] {
      const uint64_t now = sc_core::sc_time_stamp().value();
      while (next_ < reqs_.size() && ps_from_seconds(reqs_[next_].arrival_s, "arrivals") <= now) {
        count_in_system(now, +1);
        const size_t r = route(entries_, rr_);
        const size_t e = least_loaded_engine(*reps_[r]);
        Scheduler& S = *reps_[r]->engines[e].sched;
        S.add(reqs_[next_], reqs_[next_].arrival_s);
        owner_[next_] = {r, e, S.seqs().size() - 1};
        ++next_;
        try_form(r, e, now);
      }
      if (next_ < reqs_.size())
        arrival_.notify(sc_core::sc_time::from_value(ps_from_seconds(reqs_[next_].arrival_s, "arrivals") - now));
    });
  }

  // One of `pool` (replica indices) by the router's rule; `turn` is that pool's round-robin counter.
  size_t route(const std::vector<size_t>& pool, size_t& turn) {
    if (o_.router == "least_outstanding") {
      size_t best = pool[0];
      for (size_t r : pool)
        if (reps_[r]->outstanding() + inbound_[r] < reps_[best]->outstanding() + inbound_[best]) best = r;
      return best;
    }
    return pool[turn++ % pool.size()];
  }

  static size_t least_loaded_engine(const Replica& R) {
    size_t best = 0;
    for (size_t e = 1; e < R.engines.size(); ++e)
      if (R.engines[e].sched->outstanding() < R.engines[best].sched->outstanding()) best = e;
    return best;
  }

  // Disaggregated serving: a prefilled request's KV cache goes from its prefill replica's devices to a decode
  // replica's over the fabric (every device sends its share to its counterpart, all at once); the request joins the
  // decode replica when the last byte has arrived.
  void hand_off(size_t from, const SeqState& state, uint64_t now) {
    const size_t to = route(decoders_, rr_decode_);
    ++inbound_[to];
    const Replica& P = *reps_[from];
    const Replica& D = *reps_[to];
    // Every prefill device holds its share of the cache; the decode replica may split it differently (other tp or
    // pp): pairs spread the bytes evenly over the larger side.
    const int64_t ps = int64_t(P.tp) * P.pp, ds = int64_t(D.tp) * D.pp, pairs = std::max(ps, ds);
    const double total = double(state.context) * P.kv_bytes_per_token * double(ps);
    const double bytes = total / double(pairs);
    CollectiveCall call;
    call.op = "send_recv";
    call.name = "kv_transfer";
    call.bytes = bytes;
    call.group = 2;
    for (int64_t i = 0; i < pairs; ++i) {
      call.members.push_back(P.first_device + i % ps);
      call.members.push_back(D.first_device + i % ds);
    }
    out_.kv_transfers += 1;
    out_.kv_transfer_bytes += total;
    fabric_->start(call, [this, state, to, now](const CollectiveOutcome& o) {
      guarded([&] {
        const uint64_t t = o.end_ps;
        out_.kv_transfer_s += double(t - now) * 1e-12;
        --inbound_[to];
        Replica& D = *reps_[to];
        const size_t e = least_loaded_engine(D);
        D.engines[e].sched->add_prefilled(state);
        owner_[size_t(state.req - reqs_.data())] = {to, e, D.engines[e].sched->seqs().size() - 1};
        try_form(to, e, t);
      });
    });
  }

  // The time integral of the requests in the system, from the engine's arrivals and departures (Little's law).
  void count_in_system(uint64_t now, int delta) {
    out_.in_system_area += double(in_system_) * double(now - last_change_ps_) * 1e-12;
    last_change_ps_ = now;
    in_system_ += delta;
  }

  // An engine without a batch in the pipeline forms its next one and queues it for the first stage.
  void try_form(size_t r, size_t e, uint64_t now) {
    Replica& R = *reps_[r];
    Engine& E = R.engines[e];
    if (E.in_flight) return;
    const size_t rejected_before = size_t(E.sched->rejected());
    E.batch = E.sched->next_batch(double(now) * 1e-12);
    const size_t rejected = size_t(E.sched->rejected()) - rejected_before;
    finished_ += rejected;
    count_in_system(now, -int(rejected));
    if (E.batch.empty()) return;
    // Swap preemption: the iteration waits for the caches it pushed out to host memory and pulls back (vLLM issues
    // the copies before the step's kernels), each device moving its share over its host connection.
    uint64_t ready = now;
    const auto [out_tokens, in_tokens] = E.sched->take_swap_tokens();
    if (out_tokens + in_tokens > 0) {
      Stage& S0 = *R.stages[0];
      if (!S0.host_link) throw std::logic_error("serve: swapping without a host connection (checked at build)");
      const double out_b = double(out_tokens) * R.kv_bytes_per_token;
      const double in_b = double(in_tokens) * R.kv_bytes_per_token;
      if (out_b > 0)
        ready = std::max(ready, S0.host_link->transfer(now, out_b, Access::stream, true) + S0.host_link->latency_ps());
      if (in_b > 0)
        ready =
            std::max(ready, S0.host_link->transfer(ready, in_b, Access::stream, false) + S0.host_link->latency_ps());
      out_.swap_bytes += (out_b + in_b) * double(R.tp) * double(R.pp);
      out_.swap_stall_s += double(ready - now) * 1e-12;
    }
    // The decodes run as one attention kernel over their mean context rounded up to whole KV blocks (a paged kernel
    // walks whole blocks); each prefill chunk is its own kernel.
    E.groups.clear();
    int64_t decodes = 0, decode_ctx = 0;
    for (const auto& it : E.batch) {
      if (it.prefill)
        E.groups.push_back({1, it.new_tokens, it.context + it.new_tokens});
      else {
        ++decodes;
        decode_ctx += it.context + 1;
      }
    }
    if (decodes) {
      const int64_t bt = E.sched->options().block_tokens;
      const int64_t mean = (decode_ctx + decodes - 1) / decodes;
      E.groups.insert(E.groups.begin(), {decodes, 1, (mean + bt - 1) / bt * bt});
    }
    E.groups_key.clear();
    for (const auto& g : E.groups)
      E.groups_key += std::to_string(g.batch) + "/" + std::to_string(g.seq_q) + "/" + std::to_string(g.seq_kv) + ";";
    E.in_flight = true;
    E.formed_ps = ready;
    ++out_.iterations;
    R.stages[0]->queue.push_back({e, ready});
    pump(r, 0, now);
  }

  // A free stage takes the next queued batch: its part of the iteration is reused or simulated.
  void pump(size_t r, size_t st, uint64_t now) {
    Replica& R = *reps_[r];
    Stage& S = *R.stages[st];
    if (S.busy || S.queue.empty()) return;
    const auto [e, from] = S.queue.front();
    S.queue.pop_front();
    const uint64_t start = std::max(now, from);
    Engine& E = R.engines[e];
    S.busy = true;
    S.engine = e;
    S.started_ps = start;
    // Reuse: an iteration part whose groups (requests, new tokens, cached lengths) equal a recorded one of the same
    // pool and stage takes its time and adds its counters; everything else that sets its time is fixed in a run.
    S.key.clear();
    if (reuse_) {
      std::string key = std::to_string(R.pool) + "|" + std::to_string(st) + "|" + E.groups_key;
      auto hit = recorded_.find(key);
      if (hit != recorded_.end()) {
        S.counters.add(hit->second.delta);
        out_.reused_iterations += st == 0 ? 1 : 0;
        due_.push({start + hit->second.duration_ps, {r, st}});
        reuse_due_.notify(sc_core::sc_time::from_value(due_.top().first - now));
        return;
      }
      S.key = std::move(key);
      S.counters.read(S.before);
    }
    auto wl = std::make_unique<Workload>(build_transformer_iteration(*R.model, E.groups, name_, int(st), R.pp));
    apply_stack(*wl, stack_);
    S.dispatcher->load(*wl, start);
    S.running = std::move(wl);
  }

  void on_reuse_due() {
    guarded([&] {
      const uint64_t now = sc_core::sc_time_stamp().value();
      while (!due_.empty() && due_.top().first <= now) {
        const auto [r, st] = due_.top().second;
        due_.pop();
        on_stage_end(r, st, now);
      }
      if (!due_.empty()) reuse_due_.notify(sc_core::sc_time::from_value(due_.top().first - now));
    });
  }

  void on_stage_end(size_t r, size_t st, uint64_t now) {
    Replica& R = *reps_[r];
    Stage& S = *R.stages[st];
    if (!S.busy) return;  // a dispatcher's first, empty completion at time 0
    record(S, now);
    S.busy = false;
    const size_t e = S.engine;
    if (st + 1 < R.stages.size()) {
      R.stages[st + 1]->queue.push_back({e, now});
      pump(r, st + 1, now);
    } else {
      finish_batch(r, e, now);
    }
    pump(r, st, now);
  }

  void finish_batch(size_t r, size_t e, uint64_t now) {
    Replica& R = *reps_[r];
    Engine& E = R.engines[e];
    const double t = double(now) * 1e-12;
    ServeSample s;
    s.replica = int(r);
    s.start_s = double(E.formed_ps) * 1e-12;
    s.end_s = t;
    for (const auto& it : E.batch) {
      s.tokens += it.new_tokens;
      s.seqs += 1;
      if (it.prefill)
        s.prefill_tokens += it.new_tokens;
      else
        s.decodes += 1;
    }
    s.kv_blocks_used = E.sched->used_blocks();
    s.kv_blocks = E.sched->options().kv_blocks;
    out_.samples.push_back(s);
    const int64_t before = E.sched->completed();
    E.sched->complete(E.batch, t);
    for (size_t seq : E.sched->take_handoffs()) hand_off(r, E.sched->seqs()[seq], now);
    const size_t left = size_t(E.sched->completed() - before);
    finished_ += left;
    count_in_system(now, -int(left));
    if (o_.progress) o_.progress(finished_, reqs_.size());
    E.in_flight = false;
    try_form(r, e, now);
  }

  // A simulated iteration part that can be reused: its time and what it changed on the stage's device.
  void record(Stage& S, uint64_t now) {
    if (S.key.empty()) return;
    Recorded rec;
    rec.duration_ps = now - S.started_ps;
    S.counters.read(rec.delta);
    for (size_t i = 0; i < rec.delta.size(); ++i) rec.delta[i] -= S.before[i];
    recorded_.emplace(std::move(S.key), std::move(rec));
    S.key.clear();
  }

  std::string name_;
  const std::vector<Request>& reqs_;
  std::vector<std::unique_ptr<Replica>>& reps_;
  const ServeOptions& o_;
  ServeResult& out_;
  Stack stack_;
  Interconnect* fabric_ = nullptr;  // disaggregated: carries the KV caches between the pools
  sc_core::sc_event arrival_, reuse_due_;
  struct Recorded {
    uint64_t duration_ps = 0;
    std::vector<double> delta;
  };
  std::unordered_map<std::string, Recorded> recorded_;
  using Due = std::pair<uint64_t, std::pair<size_t, size_t>>;  // reused parts: end time, (replica, stage)
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> due_;
  bool reuse_ = false;
  std::vector<size_t> entries_, decoders_;  // replicas that take arrivals; decode replicas
  std::map<size_t, int64_t> inbound_;       // transfers on their way to a decode replica
  size_t next_ = 0, rr_ = 0, rr_decode_ = 0, finished_ = 0;
  int64_t in_system_ = 0;
  uint64_t last_change_ps_ = 0;
  std::vector<Owner> owner_;  // per request: where its state lives now
  std::exception_ptr error_;
};

}  // namespace

ServeResult serve(const HardwareConfig& hw, const ParamSet& model, const std::string& model_name,
                  const std::vector<Request>& requests, const ServeOptions& o) {
  auto wall0 = std::chrono::steady_clock::now();
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  sc_core::sc_report_handler::set_actions("/IEEE_Std_1666/deprecated", sc_core::SC_DO_NOTHING);
  sim_time_overflow() = SimTimeOverflow{};
  const bool disaggregated = o.prefill_replicas > 0;
  const HardwareConfig& decode_hw = o.decode_hw ? *o.decode_hw : hw;
  const ParamSet& decode_model = o.decode_model ? *o.decode_model : model;
  ServeResult out;
  out.hw_name = disaggregated ? hw.name + " (prefill) + " + decode_hw.name + " (decode)" : hw.name;
  out.model_name = model_name;
  out.stack = o.stack;
  out.block_tokens = o.sched.block_tokens;

  // One pool of replicas, or a prefill pool and a decode pool (possibly another config, another tp and pp).
  struct PoolSpec {
    const HardwareConfig* hw;
    const ParamSet* model;
    int replicas;
    SchedulerOptions::Role role;
    const char* name;
  };
  std::vector<PoolSpec> pools;
  if (disaggregated) {
    pools.push_back({&hw, &model, o.prefill_replicas, SchedulerOptions::Role::prefill, "prefill"});
    pools.push_back({&decode_hw, &decode_model, o.decode_replicas, SchedulerOptions::Role::decode, "decode"});
  } else {
    pools.push_back({&hw, &model, o.replicas, SchedulerOptions::Role::both, "replica"});
  }

  std::vector<std::unique_ptr<Replica>> reps;
  // Kernels are keyed by op and cache state, not by device: one memo per pool's config.
  KernelMemo memo, decode_memo;
  Workload idle;
  idle.name = model_name;
  std::vector<Workload> probes;  // per pool: sizes the activations and holds the resident weights
  probes.reserve(pools.size());
  int stage_count = 0;
  int64_t devices = 0;
  for (size_t pi = 0; pi < pools.size(); ++pi) {
    const PoolSpec& P = pools[pi];
    const int tp = int(P.model->count("tp")), pp = int(P.model->count("pp"));
    const double kv_per_token = kv_bytes_per_token(*P.model);
    // The largest iteration the budget allows (one prompt of max_tokens) on the first stage.
    probes.push_back(
        build_transformer_iteration(*P.model, {{1, o.sched.max_tokens, o.sched.max_tokens}}, model_name, 0, pp));
    Workload& probe = probes.back();
    apply_stack(probe, parse_stack(o.stack));
    const Footprint need = memory_footprint(probe);
    ServePool pool;
    pool.name = P.name;
    pool.hw_name = P.hw->name;
    pool.replicas = P.replicas;
    pool.tp = tp;
    pool.pp = pp;
    pool.kv_bytes_per_token = kv_per_token;
    const DeviceCost cost = device_cost(*P.hw);
    if (cost.present && cost.priced) pool.device_usd = cost.device_usd;
    if (pp > 1 && (!P.hw->network.present || P.hw->network.devices < int64_t(pp) * tp))
      throw InputError(SourceMark{P.hw->file, 0, 0},
                       "pipeline parallelism (pp " + std::to_string(pp) + ") runs a replica's stages on " +
                           std::to_string(int64_t(pp) * tp) + " devices joined by the config's network, but " +
                           P.hw->file + " has " +
                           (P.hw->network.present ? std::to_string(P.hw->network.devices) : std::string("no")) +
                           " network devices");
    for (int k = 0; k < P.replicas; ++k) {
      const int r = int(reps.size());
      reps.push_back(std::make_unique<Replica>());
      Replica& R = *reps.back();
      R.pool = int(pi);
      R.model = P.model;
      R.tp = tp;
      R.pp = pp;
      R.kv_bytes_per_token = kv_per_token;
      R.first_device = devices;
      devices += int64_t(tp) * pp;
      for (int st = 0; st < pp; ++st) {
        R.stages.push_back(std::make_unique<Stage>());
        Stage& S = *R.stages.back();
        const std::string scope = "replica" + std::to_string(r) + (pp > 1 ? "_stage" + std::to_string(st) : "");
        S.scope = std::make_unique<ReplicaScope>(scope.c_str(), [&] {
          build_components_and_edges(*P.hw, S.m);
          bind_core_data_path(S.m);
          place_engines(probe, S.m);
          bind_offload_tier(probe, need, o.check_memory, S.m);
          build_network(S.m);
        });
        if (k == 0 && st == 0) {
          pool.memory_bytes = S.m.memory().capacity_bytes();
          pool.weights_bytes = need.weights + need.embeddings - S.m.in_engine_bytes - S.m.offloaded_bytes;
          pool.activations_bytes = need.activations;
          if (o.sched.kv_blocks > 0) {
            pool.kv_blocks = o.sched.kv_blocks;
          } else {
            const double free_bytes =
                pool.memory_bytes * o.memory_fraction - pool.weights_bytes - pool.activations_bytes;
            const double per_block = kv_per_token * double(o.sched.block_tokens);
            pool.kv_blocks = free_bytes > 0 ? int64_t(std::floor(free_bytes / per_block)) : 0;
            if (pool.kv_blocks < 1 && o.check_memory)
              throw InputError(SourceMark{P.hw->file, 0, 0},
                               model_name + " leaves no room for a KV cache on " + P.hw->name + ": " +
                                   std::to_string(pool.memory_bytes * o.memory_fraction / 1e9) +
                                   " GB usable, weights " + std::to_string(pool.weights_bytes / 1e9) +
                                   " GB, activations " + std::to_string(pool.activations_bytes / 1e9) +
                                   " GB per device; raise tp or pp, lower --max-tokens, or give a larger memory");
            pool.kv_blocks = std::max<int64_t>(pool.kv_blocks, 1);
          }
        }
        RunOptions ro;
        ro.check_memory = false;
        S.dispatcher =
            std::make_unique<Dispatcher>(("dispatcher" + std::to_string(stage_count++)).c_str(), idle, *S.m.host,
                                         *S.m.core, S.m.cache, S.m.network.get(), ro, S.m.offloaded, S.m.engines);
        S.dispatcher->use_memo(pi == 0 ? &memo : &decode_memo, device_counters(S.m));
        // Reuse adds an iteration's counters to every block, the network's links and switches included.
        for (auto& b : S.m.components)
          if (b.get() != static_cast<Component*>(S.m.host)) S.counters.blocks.push_back(b.get());
        // Swapped caches go to a memory pool the device reaches (CXL), else to the host's memory.
        const Component* pool_block = S.m.offload ? dynamic_cast<const Component*>(S.m.offload) : nullptr;
        const std::string h = pool_block ? pool_block->basename() : S.m.host->basename();
        for (auto& e : S.m.edges) {
          S.counters.edges.push_back(e.get());
          const std::string& n = e->name();
          if (n.rfind(h + "<->", 0) == 0 ||
              (n.size() > h.size() + 3 && n.compare(n.size() - h.size() - 3, std::string::npos, "<->" + h) == 0))
            S.host_link = e.get();
        }
        if (o.swap_space_bytes > 0 && !S.host_link)
          throw InputError(SourceMark{P.hw->file, 0, 0},
                           "--preemption swap copies caches over the device's connection to the host (or to a "
                           "memory_pool), but " +
                               P.hw->file + " connects neither to its compute core");
        if (k == 0 && st == 0) pool.swap_target = h;
      }
      // pp virtual engines share the replica's cache (vLLM splits it evenly), so pp batches can be in flight.
      R.engines.resize(size_t(pp));
      for (auto& E : R.engines) {
        SchedulerOptions so = o.sched;
        so.kv_blocks = std::max<int64_t>(1, pool.kv_blocks / pp);
        so.role = P.role;
        so.swap = o.swap_space_bytes > 0;
        so.swap_blocks = int64_t(o.swap_space_bytes / pp / (kv_per_token * double(o.sched.block_tokens)));
        E.sched = std::make_unique<Scheduler>(so);
      }
    }
    out.pools.push_back(pool);
  }
  out.replicas = int(reps.size());

  // Disaggregated: the KV caches cross the prefill config's network, the prefill replicas' devices first, then the
  // decode replicas'. A fabric of its own (a copy of that network), so that transfers neither add to nor are
  // recorded in a replica's iterations.
  Machine fabric;
  std::unique_ptr<ReplicaScope> fabric_scope;
  if (disaggregated) {
    const int64_t need_devices = devices;
    if (!hw.network.present || hw.network.devices < need_devices)
      throw InputError(SourceMark{hw.file, 0, 0},
                       "disaggregated serving moves KV caches over the prefill config's network between " +
                           std::to_string(need_devices) + " devices (" + std::to_string(o.prefill_replicas) + " + " +
                           std::to_string(o.decode_replicas) + " replicas), but " + hw.file + " has " +
                           (hw.network.present ? std::to_string(hw.network.devices) : "no") +
                           " network devices; use a cluster config (configs/h100-cluster-64.yaml)");
    fabric_scope = std::make_unique<ReplicaScope>("fabric", [&] {
      build_components_and_edges(hw, fabric);
      build_network(fabric);
    });
  }
  ServeDriver driver("serve", model_name, requests, reps, o, out, disaggregated ? fabric.network.get() : nullptr);
  sc_core::sc_start();
  if (driver.error()) std::rethrow_exception(driver.error());
  for (const auto& R : reps)
    for (const auto& S : R->stages) {
      if (S->dispatcher->error()) std::rethrow_exception(S->dispatcher->error());
      if (S->m.network && S->m.network->error()) std::rethrow_exception(S->m.network->error());
    }
  if (fabric.network && fabric.network->error()) std::rethrow_exception(fabric.network->error());
  if (sim_time_overflow().set)
    throw InputError(SourceMark{hw.file, 0, 0}, std::string("simulated time overflows: ") + sim_time_overflow().where +
                                                    " took longer than xpusim's 64-bit picosecond clock holds");
  const double t = sc_core::sc_time_stamp().to_seconds();
  out.duration_s = t;

  for (size_t i = 0; i < requests.size(); ++i) {
    const auto& own = driver.owners()[i];
    if (own.replica == SIZE_MAX) throw std::logic_error("serve: a request never arrived");
    const size_t r = own.replica;
    const SeqState& s = reps[r]->engines[own.engine].sched->seqs()[own.seq];
    ServeRequestResult q;
    q.id = requests[i].id;
    q.replica = int(r);
    q.arrival_s = s.arrival_s;
    q.scheduled_s = s.scheduled_s;
    q.first_token_s = s.first_token_s;
    q.finish_s = s.finish_s;
    q.prompt_tokens = requests[i].prompt_tokens;
    q.output_tokens = requests[i].output_tokens;
    q.generated = s.generated;
    q.preemptions = s.preemptions;
    q.rejected = s.rejected;
    q.completed = s.done && !s.rejected;
    q.tbt_s = s.tbt_s;
    out.requests.push_back(std::move(q));
  }
  // Every replica's network copy carries its own collectives (dynamic energy), but the links and switches exist
  // once: their static energy counts once, with the first replica.
  for (size_t i = 0; i < reps.size(); ++i) {
    Replica& R = *reps[i];
    for (const auto& E : R.engines) {
      out.preemptions += E.sched->preemptions();
      out.swaps += E.sched->swaps();
      out.rejected += E.sched->rejected();
    }
    for (size_t st = 0; st < R.stages.size(); ++st) {
      Stage& S = *R.stages[st];
      RunResult res;
      collect_headline(probes[size_t(R.pool)], S.m, t, res);
      collect_component_records(S.m, t, res);
      out.energy_j += res.energy_j;
      if (i > 0 || st > 0)
        for (const auto& c : S.m.components)
          if (dynamic_cast<NetElement*>(c.get())) out.energy_j -= c->static_energy_j();
      out.events += S.m.core->events() + S.dispatcher->events();
    }
  }
  // The fabric: the transfers' dynamic energy on its links and switches (its device blocks stand for no device).
  for (const auto& c : fabric.components)
    if (dynamic_cast<NetElement*>(c.get())) {
      c->finish(t);
      out.energy_j += c->dynamic_energy_j();
    }
  if (fabric.network) out.events += fabric.network->events();
  out.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  return out;
}

}  // namespace xpu
