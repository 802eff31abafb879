#pragma once
// One replica's request scheduler, as serving engines run it (vLLM, Sarathi-Serve): continuous batching under a
// token budget and a sequence limit per iteration, chunked prefill mixed with decodes, a paged KV cache (fixed-size
// blocks; a request is admitted when the blocks for its whole context are free), FCFS admission, and preemption by
// recompute when a running request needs a block and none is free (the latest admitted request gives its blocks
// back and later re-prefills its prompt and the tokens it had produced). Pure bookkeeping: no time is simulated here.
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "sim/serve/request_stream.h"

namespace xpu {

struct SchedulerOptions {
  int64_t max_tokens = 2048;    // new tokens per iteration (prefill chunks + decodes)
  int64_t max_seqs = 256;       // requests per iteration
  bool chunked_prefill = true;  // false: a prompt is prefilled whole, alone with the decodes (max_tokens permitting)
  int64_t block_tokens = 16;    // tokens per KV block
  int64_t kv_blocks = 0;        // blocks the replica's memory holds (> 0)
  // Disaggregated serving: a prefill replica hands each request over once its prompt is prefilled (and its first
  // token out); a decode replica takes requests whose cache arrives prefilled.
  enum class Role { both, prefill, decode } role = Role::both;
  // Preemption: recompute (drop the cache, prefill again) or swap (copy the cache to host memory and back; vLLM's
  // swap_space), falling back to recompute when the host space is full.
  bool swap = false;
  int64_t swap_blocks = 0;  // host blocks for swapped caches
};

// A request's part in one iteration.
struct BatchItem {
  size_t seq = 0;          // index into Scheduler::seqs()
  int64_t new_tokens = 0;  // prefill chunk length, or 1 for a decode
  int64_t context = 0;     // tokens already in the KV cache before this iteration
  bool prefill = false;
};

struct SeqState {
  const Request* req = nullptr;
  int64_t target_prefill = 0;  // tokens to prefill: the prompt, or prompt + produced tokens after a recompute
  int64_t prefilled = 0;
  int64_t generated = 0;  // output tokens produced so far (the first comes out of the prefill)
  int64_t blocks = 0;     // KV blocks held
  int64_t context = 0;    // tokens whose keys and values are in the cache
  double arrival_s = 0, scheduled_s = -1, first_token_s = -1, last_token_s = -1, finish_s = -1;
  int64_t preemptions = 0;
  std::vector<double> tbt_s;  // gaps between consecutive output tokens
  bool running = false, done = false;
  bool rejected = false;       // its context can never fit the replica's KV cache
  bool handed_off = false;     // prefilled here, decoded on another replica
  int64_t swapped_blocks = 0;  // its cache sits in host memory (swap preemption)
};

class Scheduler {
 public:
  explicit Scheduler(SchedulerOptions o);
  // A request routed here at its arrival.
  void add(const Request& r, double now_s);
  // A request prefilled elsewhere whose KV cache has arrived (decode role): it joins with its state so far.
  void add_prefilled(const SeqState& from);
  // Prefill role: requests whose prompt is done and whose decoding belongs to another replica (indices into seqs()),
  // taken once.
  std::vector<size_t> take_handoffs();
  // The next iteration's batch (empty: nothing can run). Admits, grows and preempts as the engines do.
  std::vector<BatchItem> next_batch(double now_s);
  // The batch ran and ended at `now_s`: prefill progress, tokens out, finished requests give their blocks back.
  void complete(const std::vector<BatchItem>& batch, double now_s);

  const std::vector<SeqState>& seqs() const { return seqs_; }
  size_t outstanding() const { return waiting_.size() + running_.size(); }
  int64_t used_blocks() const { return used_; }
  int64_t preemptions() const { return preemptions_; }
  int64_t rejected() const { return rejected_; }
  int64_t completed() const { return completed_; }
  int64_t swaps() const { return swaps_; }
  // Tokens of KV cache copied to host memory and back by the last next_batch (the iteration waits for both).
  std::pair<int64_t, int64_t> take_swap_tokens() {
    auto r = std::make_pair(swap_out_tokens_, swap_in_tokens_);
    swap_out_tokens_ = swap_in_tokens_ = 0;
    return r;
  }
  const SchedulerOptions& options() const { return o_; }

 private:
  int64_t blocks_for(int64_t tokens) const { return (tokens + o_.block_tokens - 1) / o_.block_tokens; }
  void preempt(size_t seq);
  void emit_token(SeqState& s, double now_s);

  SchedulerOptions o_;
  std::vector<SeqState> seqs_;
  std::deque<size_t> waiting_;   // FCFS; preempted requests go back to the front
  std::vector<size_t> running_;  // in admission order
  std::vector<size_t> handoffs_;
  int64_t used_ = 0, preemptions_ = 0, rejected_ = 0, completed_ = 0;
  int64_t swaps_ = 0, host_used_ = 0, swap_out_tokens_ = 0, swap_in_tokens_ = 0;
};

}  // namespace xpu
