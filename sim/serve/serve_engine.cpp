#include "sim/serve/serve_engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <memory>
#include <queue>
#include <unordered_map>

#include "models/sim_time.h"
#include "sim/cost/device_cost.h"
#include "sim/engine/dispatcher.h"
#include "sim/engine/machine.h"
#include "sim/workload/footprint.h"
#include "sim/workload/stack.h"
#include "sim/workload/transformer.h"

namespace xpu {
namespace {

// Builds one replica's device inside a module of its own, so its blocks are named replica<k>.<block>.
struct ReplicaScope : sc_core::sc_module {
  ReplicaScope(sc_core::sc_module_name n, const std::function<void()>& build) : sc_core::sc_module(n) { build(); }
};

// Keys and values one token leaves in the cache of one device of the replica (its share of the KV heads).
double kv_bytes_per_token(const ParamSet& p) {
  const int64_t heads = int64_t(p.count("heads"));
  const int64_t kv = p.count("kv_heads") ? int64_t(p.count("kv_heads")) : heads;
  const int64_t hd = p.count("head_dim") ? int64_t(p.count("head_dim")) : int64_t(p.count("d_model")) / heads;
  const int64_t tp = int64_t(p.count("tp"));
  const int64_t kv_dev = kv >= tp ? kv / tp : 1;
  return double(p.count("layers")) * 2.0 * double(kv_dev) * double(hd) * dtype_bytes(parse_dtype(p.str("dtype")));
}

struct Replica {
  Machine m;
  DeviceCounters counters;            // for iteration reuse
  std::vector<double> before;         // counters at the start of a recorded iteration
  std::string key;                    // the running iteration's key ("" when not recorded)
  std::unique_ptr<ReplicaScope> scope;
  std::unique_ptr<Dispatcher> dispatcher;
  std::unique_ptr<Scheduler> sched;
  std::unique_ptr<Workload> running;  // the iteration the dispatcher holds
  std::vector<BatchItem> batch;
  bool busy = false;
  double started_s = 0;
  uint64_t started_ps = 0;
};

class ServeDriver : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(ServeDriver);
  ServeDriver(sc_core::sc_module_name n, const ParamSet& model, const std::string& model_name,
              const std::vector<Request>& reqs, std::vector<std::unique_ptr<Replica>>& reps, const ServeOptions& o,
              ServeResult& out)
      : sc_core::sc_module(n), model_(model), name_(model_name), reqs_(reqs), reps_(reps), o_(o), out_(out),
        stack_(parse_stack(o.stack)) {
    SC_METHOD(on_arrival);
    sensitive << arrival_;
    dont_initialize();
    SC_METHOD(on_reuse_due);
    sensitive << reuse_due_;
    dont_initialize();
    reuse_ = o.reuse;
    for (size_t r = 0; r < reps_.size(); ++r)
      reps_[r]->dispatcher->on_complete([this, r](uint64_t now) { guarded([&] { on_iteration_end(r, now); }); });
    if (!reqs_.empty()) arrival_.notify(sc_core::sc_time::from_value(ps_from_seconds(reqs_[0].arrival_s, "arrivals")));
  }
  std::exception_ptr error() const { return error_; }
  size_t finished() const { return finished_; }

 private:
  template <class F> void guarded(F&& f) {
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
        const size_t r = route();
        reps_[r]->sched->add(reqs_[next_], reqs_[next_].arrival_s);
        owner_.push_back({r, reps_[r]->sched->seqs().size() - 1});
        ++next_;
        if (!reps_[r]->busy) start_iteration(r, now);
      }
      if (next_ < reqs_.size())
        arrival_.notify(sc_core::sc_time::from_value(ps_from_seconds(reqs_[next_].arrival_s, "arrivals") - now));
    });
  }

  size_t route() {
    if (o_.router == "least_outstanding") {
      size_t best = 0;
      for (size_t r = 1; r < reps_.size(); ++r)
        if (reps_[r]->sched->outstanding() < reps_[best]->sched->outstanding()) best = r;
      return best;
    }
    return rr_++ % reps_.size();
  }

  void on_iteration_end(size_t r, uint64_t now) {
    Replica& R = *reps_[r];
    const double t = double(now) * 1e-12;
    if (R.busy) {
      record(R, now);
      ServeSample s;
      s.replica = int(r);
      s.start_s = R.started_s;
      s.end_s = t;
      for (const auto& it : R.batch) {
        s.tokens += it.new_tokens;
        s.seqs += 1;
        if (it.prefill) s.prefill_tokens += it.new_tokens;
        else s.decodes += 1;
      }
      s.kv_blocks_used = R.sched->used_blocks();
      out_.samples.push_back(s);
      const int64_t before = R.sched->completed();
      R.sched->complete(R.batch, t);
      const size_t left = size_t(R.sched->completed() - before);
      finished_ += left;
      count_in_system(now, -int(left));
      if (o_.progress) o_.progress(finished_, reqs_.size());
      R.busy = false;
    }
    start_iteration(r, now);
  }

  // The time integral of the requests in the system, from the engine's arrivals and departures (Little's law).
  void count_in_system(uint64_t now, int delta) {
    out_.in_system_area += double(in_system_) * double(now - last_change_ps_) * 1e-12;
    last_change_ps_ = now;
    in_system_ += delta;
  }


  void start_iteration(size_t r, uint64_t now) {
    Replica& R = *reps_[r];
    const size_t rejected_before = size_t(R.sched->rejected());
    R.batch = R.sched->next_batch(double(now) * 1e-12);
    const size_t rejected = size_t(R.sched->rejected()) - rejected_before;
    finished_ += rejected;
    count_in_system(now, -int(rejected));
    if (R.batch.empty()) return;
    // The decodes run as one attention kernel over their mean context (what a paged-attention kernel reads is the
    // sum of their caches); each prefill chunk is its own kernel.
    std::vector<AttentionGroup> groups;
    int64_t decodes = 0, decode_ctx = 0;
    for (const auto& it : R.batch) {
      if (it.prefill) groups.push_back({1, it.new_tokens, it.context + it.new_tokens, ""});
      else { ++decodes; decode_ctx += it.context + 1; }
    }
    if (decodes) {
      // A paged-attention kernel walks whole KV blocks: the group reads its requests' contexts rounded up to blocks.
      const int64_t bt = R.sched->options().block_tokens;
      const int64_t mean = (decode_ctx + decodes - 1) / decodes;
      groups.insert(groups.begin(), {decodes, 1, (mean + bt - 1) / bt * bt, ""});
    }
    R.started_s = double(now) * 1e-12;
    R.started_ps = now;
    R.busy = true;
    ++out_.iterations;
    // Reuse: an iteration whose groups (requests, new tokens, cached lengths) equal a recorded one takes its time
    // and adds its counters; everything else that sets an iteration's time (model, stack, device) is fixed in a run.
    R.key.clear();
    if (reuse_) {
      std::string key;
      for (const auto& g : groups)
        key += std::to_string(g.batch) + "/" + std::to_string(g.seq_q) + "/" + std::to_string(g.seq_kv) + ";";
      auto hit = recorded_.find(key);
      if (hit != recorded_.end()) {
        R.counters.add(hit->second.delta);
        out_.reused_iterations += 1;
        due_.push({now + hit->second.duration_ps, r});
        reuse_due_.notify(sc_core::sc_time::from_value(due_.top().first - now));
        return;
      }
      R.key = std::move(key);
      R.counters.read(R.before);
    }
    auto wl = std::make_unique<Workload>(build_transformer_iteration(model_, groups, name_));
    apply_stack(*wl, stack_);
    R.dispatcher->load(*wl, now);
    R.running = std::move(wl);
  }

  void on_reuse_due() {
    guarded([&] {
      const uint64_t now = sc_core::sc_time_stamp().value();
      while (!due_.empty() && due_.top().first <= now) {
        const size_t r = due_.top().second;
        due_.pop();
        on_iteration_end(r, now);
      }
      if (!due_.empty()) reuse_due_.notify(sc_core::sc_time::from_value(due_.top().first - now));
    });
  }

  // A simulated iteration that can be reused: its time and what it changed on the device.
  void record(Replica& R, uint64_t now) {
    if (R.key.empty()) return;
    Recorded e;
    e.duration_ps = now - R.started_ps;
    R.counters.read(e.delta);
    for (size_t i = 0; i < e.delta.size(); ++i) e.delta[i] -= R.before[i];
    recorded_.emplace(std::move(R.key), std::move(e));
    R.key.clear();
  }

  const ParamSet& model_;
  std::string name_;
  const std::vector<Request>& reqs_;
  std::vector<std::unique_ptr<Replica>>& reps_;
  const ServeOptions& o_;
  ServeResult& out_;
  Stack stack_;
  sc_core::sc_event arrival_, reuse_due_;
  struct Recorded {
    uint64_t duration_ps = 0;
    std::vector<double> delta;
  };
  std::unordered_map<std::string, Recorded> recorded_;
  std::priority_queue<std::pair<uint64_t, size_t>, std::vector<std::pair<uint64_t, size_t>>,
                      std::greater<std::pair<uint64_t, size_t>>> due_;  // reused iterations: end time, replica
  bool reuse_ = false;
  size_t next_ = 0, rr_ = 0, finished_ = 0;
  int64_t in_system_ = 0;
  uint64_t last_change_ps_ = 0;
  std::vector<std::pair<size_t, size_t>> owner_;  // per request: replica, index in its scheduler
  std::exception_ptr error_;

 public:
  const std::vector<std::pair<size_t, size_t>>& owners() const { return owner_; }
};

}  // namespace

ServeResult serve(const HardwareConfig& hw, const ParamSet& model, const std::string& model_name,
                  const std::vector<Request>& requests, const ServeOptions& o) {
  auto wall0 = std::chrono::steady_clock::now();
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  sc_core::sc_report_handler::set_actions("/IEEE_Std_1666/deprecated", sc_core::SC_DO_NOTHING);
  sim_time_overflow() = SimTimeOverflow{};
  ServeResult out;
  out.hw_name = hw.name;
  out.model_name = model_name;
  out.stack = o.stack;
  out.replicas = o.replicas;
  out.tp = int(model.count("tp"));
  out.block_tokens = o.sched.block_tokens;
  out.kv_bytes_per_token = kv_bytes_per_token(model);
  const DeviceCost cost = device_cost(hw);
  if (cost.present && cost.priced) out.device_usd = cost.device_usd;

  // The largest iteration the budget allows (one prompt of max_tokens) sizes the activations; its weights are the
  // replica's resident set.
  Workload probe = build_transformer_iteration(model, {{1, o.sched.max_tokens, o.sched.max_tokens, ""}}, model_name);
  apply_stack(probe, parse_stack(o.stack));
  const Footprint need = memory_footprint(probe);

  std::vector<std::unique_ptr<Replica>> reps;
  KernelMemo memo;
  Workload idle;
  idle.name = model_name;
  for (int r = 0; r < o.replicas; ++r) {
    reps.push_back(std::make_unique<Replica>());
    Replica& R = *reps.back();
    R.scope = std::make_unique<ReplicaScope>(("replica" + std::to_string(r)).c_str(), [&] {
      build_components_and_edges(hw, R.m);
      bind_core_data_path(R.m);
      place_engines(probe, R.m);
      bind_offload_tier(probe, need, o.check_memory, R.m);
      build_network(R.m);
    });
    if (r == 0) {
      out.memory_bytes = R.m.memory().capacity_bytes();
      out.weights_bytes = need.weights + need.embeddings - R.m.in_engine_bytes - R.m.offloaded_bytes;
      out.activations_bytes = need.activations;
      if (o.sched.kv_blocks > 0) {
        out.kv_blocks = o.sched.kv_blocks;
      } else {
        const double free_bytes = out.memory_bytes * o.memory_fraction - out.weights_bytes - out.activations_bytes;
        const double per_block = out.kv_bytes_per_token * double(o.sched.block_tokens);
        out.kv_blocks = free_bytes > 0 ? int64_t(std::floor(free_bytes / per_block)) : 0;
        if (out.kv_blocks < 1 && o.check_memory)
          throw InputError(SourceMark{hw.file, 0, 0},
                           model_name + " leaves no room for a KV cache on " + hw.name + ": " +
                               std::to_string(out.memory_bytes * o.memory_fraction / 1e9) + " GB usable, weights " +
                               std::to_string(out.weights_bytes / 1e9) + " GB, activations " +
                               std::to_string(out.activations_bytes / 1e9) +
                               " GB per device; raise tp, lower --max-tokens, or give a larger memory");
        out.kv_blocks = std::max<int64_t>(out.kv_blocks, 1);
      }
    }
    SchedulerOptions so = o.sched;
    so.kv_blocks = out.kv_blocks;
    R.sched = std::make_unique<Scheduler>(so);
    RunOptions ro;
    ro.check_memory = false;
    R.dispatcher = std::make_unique<Dispatcher>(("dispatcher" + std::to_string(r)).c_str(), idle, *R.m.host, *R.m.core,
                                                R.m.cache, R.m.network.get(), ro, R.m.offloaded, R.m.engines);
    R.dispatcher->use_memo(&memo, device_counters(R.m));
    // Reuse adds an iteration's counters to every block, the network's links and switches included.
    for (auto& b : R.m.components)
      if (b.get() != static_cast<Component*>(R.m.host)) R.counters.blocks.push_back(b.get());
    for (auto& e : R.m.edges) R.counters.edges.push_back(e.get());
  }
  ServeDriver driver("serve", model, model_name, requests, reps, o, out);
  sc_core::sc_start();
  if (driver.error()) std::rethrow_exception(driver.error());
  for (const auto& R : reps) {
    if (R->dispatcher->error()) std::rethrow_exception(R->dispatcher->error());
    if (R->m.network && R->m.network->error()) std::rethrow_exception(R->m.network->error());
  }
  if (sim_time_overflow().set)
    throw InputError(SourceMark{hw.file, 0, 0}, std::string("simulated time overflows: ") + sim_time_overflow().where +
                                                    " took longer than xpusim's 64-bit picosecond clock holds");
  const double t = sc_core::sc_time_stamp().to_seconds();
  out.duration_s = t;

  for (size_t i = 0; i < requests.size(); ++i) {
    const auto [r, k] = driver.owners()[i];
    const SeqState& s = reps[r]->sched->seqs()[k];
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
  for (const auto& R : reps) {
    out.preemptions += R->sched->preemptions();
    out.rejected += R->sched->rejected();
    RunResult res;
    collect_headline(probe, R->m, t, res);
    collect_component_records(R->m, t, res);
    out.energy_j += res.energy_j;
    out.events += R->m.core->events() + R->dispatcher->events();
  }
  out.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  return out;
}

}  // namespace xpu
