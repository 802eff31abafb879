#include "sim/serve/scheduler.h"

#include <algorithm>
#include <stdexcept>

namespace xpu {

Scheduler::Scheduler(SchedulerOptions o) : o_(o) {
  if (o_.max_tokens < 1 || o_.max_seqs < 1 || o_.block_tokens < 1 || o_.kv_blocks < 1)
    throw std::logic_error("Scheduler: limits must be positive");
}

void Scheduler::add(const Request& r, double now_s) {
  SeqState s;
  s.req = &r;
  s.target_prefill = r.prompt_tokens;
  s.arrival_s = now_s;
  seqs_.push_back(std::move(s));
  waiting_.push_back(seqs_.size() - 1);
}

void Scheduler::add_prefilled(const SeqState& from) {
  SeqState s = from;
  s.blocks = 0;
  s.running = false;
  s.handed_off = false;
  seqs_.push_back(std::move(s));
  waiting_.push_back(seqs_.size() - 1);
}

std::vector<size_t> Scheduler::take_handoffs() {
  std::vector<size_t> out;
  out.swap(handoffs_);
  return out;
}

void Scheduler::preempt(size_t i) {
  SeqState& s = seqs_[i];
  s.running = false;
  if (o_.swap && s.prefilled >= s.target_prefill && host_used_ + s.blocks <= o_.swap_blocks) {
    // Swap: the cache goes to host memory whole and comes back when the request is readmitted.
    host_used_ += s.blocks;
    s.swapped_blocks = s.blocks;
    swap_out_tokens_ += s.context;
    used_ -= s.blocks;
    s.blocks = 0;
    s.preemptions += 1;
    preemptions_ += 1;
    swaps_ += 1;
    running_.erase(std::find(running_.begin(), running_.end(), i));
    waiting_.push_front(i);
    return;
  }
  used_ -= s.blocks;
  s.blocks = 0;
  // Recompute: the cache is dropped; the prompt and every token produced so far are prefilled again.
  s.target_prefill = s.req->prompt_tokens + s.generated;
  s.prefilled = 0;
  s.context = 0;
  s.preemptions += 1;
  preemptions_ += 1;
  running_.erase(std::find(running_.begin(), running_.end(), i));
  waiting_.push_front(i);
}

std::vector<BatchItem> Scheduler::next_batch(double now_s) {
  std::vector<BatchItem> batch;
  int64_t budget = o_.max_tokens;
  auto free_blocks = [&] { return o_.kv_blocks - used_; };
  // Running requests first, oldest first: decodes, then the rest of chunked prompts.
  const std::vector<size_t> order = running_;
  for (size_t i : order) {
    SeqState& s = seqs_[i];
    if (!s.running || s.prefilled < s.target_prefill) continue;
    if (int64_t(batch.size()) >= o_.max_seqs || budget < 1) break;
    const int64_t need = blocks_for(s.context + 1) - s.blocks;
    bool self_preempted = false;
    while (need > free_blocks()) {
      const size_t victim = running_.back();  // the latest admitted; never one already in this batch
      preempt(victim);
      if (victim == i) {
        self_preempted = true;
        break;
      }
    }
    if (self_preempted) continue;
    s.blocks += need;
    used_ += need;
    batch.push_back({i, 1, s.context, false});
    budget -= 1;
  }
  for (size_t i : running_) {
    SeqState& s = seqs_[i];
    if (s.prefilled >= s.target_prefill) continue;
    if (int64_t(batch.size()) >= o_.max_seqs || budget < 1) break;
    const int64_t left = s.target_prefill - s.prefilled;
    const int64_t chunk = o_.chunked_prefill ? std::min(left, budget) : left;
    if (!o_.chunked_prefill && chunk > budget && !batch.empty()) break;
    batch.push_back({i, chunk, s.context, true});
    budget -= chunk;
  }
  // Admission, first come first served: a request whose whole context cannot be placed holds the line.
  while (!waiting_.empty() && int64_t(batch.size()) < o_.max_seqs && budget >= 1) {
    const size_t i = waiting_.front();
    SeqState& s = seqs_[i];
    const int64_t need = s.prefilled >= s.target_prefill ? blocks_for(s.context + 1) : blocks_for(s.target_prefill + 1);
    if (need > o_.kv_blocks) {
      waiting_.pop_front();
      s.rejected = s.done = true;
      rejected_ += 1;
      continue;
    }
    if (need > free_blocks()) break;
    if (s.prefilled >= s.target_prefill) {
      // Its cache came prefilled from another replica, or back from host memory: it joins as a decode.
      if (s.swapped_blocks > 0) {
        host_used_ -= s.swapped_blocks;
        s.swapped_blocks = 0;
        swap_in_tokens_ += s.context;
      }
      waiting_.pop_front();
      running_.push_back(i);
      s.running = true;
      s.blocks = blocks_for(s.context + 1);
      used_ += s.blocks;
      batch.push_back({i, 1, s.context, false});
      budget -= 1;
      continue;
    }
    const int64_t chunk = o_.chunked_prefill ? std::min(s.target_prefill, budget) : s.target_prefill;
    if (!o_.chunked_prefill && chunk > budget && !batch.empty()) break;
    waiting_.pop_front();
    running_.push_back(i);
    s.running = true;
    s.blocks = need;
    used_ += need;
    if (s.scheduled_s < 0) s.scheduled_s = now_s;
    batch.push_back({i, chunk, s.context, true});
    budget -= chunk;
  }
  return batch;
}

void Scheduler::emit_token(SeqState& s, double now_s) {
  if (s.generated == 0)
    s.first_token_s = now_s;
  else
    s.tbt_s.push_back(now_s - s.last_token_s);
  s.last_token_s = now_s;
  s.generated += 1;
}

void Scheduler::complete(const std::vector<BatchItem>& batch, double now_s) {
  for (const BatchItem& it : batch) {
    SeqState& s = seqs_[it.seq];
    if (!s.running) continue;
    s.context += it.new_tokens;
    if (it.prefill) {
      s.prefilled += it.new_tokens;
      if (s.prefilled < s.target_prefill) continue;  // more chunks to come
    }
    emit_token(s, now_s);
    if (o_.role == SchedulerOptions::Role::prefill && s.generated < s.req->output_tokens) {
      // Decoding is another replica's: the blocks are freed once the cache has been sent (the caller's transfer
      // reads them; this replica no longer schedules the request).
      s.running = false;
      s.handed_off = true;
      used_ -= s.blocks;
      s.blocks = 0;
      running_.erase(std::find(running_.begin(), running_.end(), it.seq));
      handoffs_.push_back(it.seq);
      continue;
    }
    if (s.generated >= s.req->output_tokens) {
      s.done = true;
      s.running = false;
      s.finish_s = now_s;
      completed_ += 1;
      used_ -= s.blocks;
      s.blocks = 0;
      running_.erase(std::find(running_.begin(), running_.end(), it.seq));
    }
  }
}

}  // namespace xpu
