#include "sim/engine/rank_rendezvous.h"

#include <algorithm>
#include <cstdio>
#include <systemc>

#include "sim/config/errors.h"

namespace xpu {

class RankRendezvous::Port : public Interconnect {
 public:
  Port(RankRendezvous& rv, size_t rank) : rv_(rv), rank_(rank) {}
  int64_t devices() const override { return rv_.net_.devices(); }
  void start(const CollectiveCall& call, std::function<void(const CollectiveOutcome&)> done) override {
    if (call.peer >= 0) {
      if (call.recv) rv_.receive(rank_, call, std::move(done));
      else rv_.send(rank_, call, std::move(done));
    } else {
      rv_.arrive(rank_, call, std::move(done));
    }
  }

 private:
  RankRendezvous& rv_;
  size_t rank_;
};

namespace {

bool matched_across_ranks(const Op& op) {
  if (op.kind != OpKind::collective || op.variant.rfind("unmodelled:", 0) == 0) return false;
  const auto& s = std::get<CollectiveShape>(op.shape);
  return s.op != "pipeline_bubble" && (s.group > 1 || s.peer >= 0);
}

std::string rank_file(const Workload& w) { return w.source.empty() ? w.name : w.source; }

uint64_t now_ps() { return sc_core::sc_time_stamp().value(); }

}  // namespace

RankRendezvous::RankRendezvous(Interconnect& net, const std::vector<const Workload*>& ranks)
    : net_(net), ranks_(ranks), wait_s_(ranks.size(), 0) {
  const int64_t R = int64_t(ranks.size());
  for (size_t r = 0; r < ranks.size(); ++r) ports_.push_back(std::make_unique<Port>(*this, r));
  for (size_t r = 0; r < ranks.size(); ++r)
    for (const Op& op : ranks[r]->ops) {
      if (!matched_across_ranks(op)) continue;
      const auto& s = std::get<CollectiveShape>(op.shape);
      if (s.peer >= 0) {
        if (s.peer >= R || s.peer == int64_t(r))
          throw InputError(op.mark, "op '" + op.name + "' of rank " + std::to_string(r) + " " +
                                        (s.recv ? "receives from" : "sends to") + " rank " + std::to_string(s.peer) +
                                        ", which is " + (s.peer == int64_t(r) ? "itself" : "not among the " +
                                        std::to_string(R) + " ranks replayed"));
        continue;
      }
      if (!s.pg.empty()) {
        auto& m = pg_members_[s.pg];
        if (m.empty() || m.back() != int64_t(r)) m.push_back(int64_t(r));
      } else if (R % s.group != 0) {
        throw InputError(op.mark, "op '" + op.name + "' of rank " + std::to_string(r) + " is a " + s.op + " among " +
                                      std::to_string(s.group) + " ranks, but the " + std::to_string(R) +
                                      " ranks replayed do not split into groups of " + std::to_string(s.group) +
                                      " (and the trace names no process group)");
      }
    }
  // Every rank of a group must reach the same number of its collectives, or the replay could never finish.
  std::map<std::string, std::map<size_t, size_t>> count;
  for (size_t r = 0; r < ranks.size(); ++r)
    for (const Op& op : ranks[r]->ops) {
      if (!matched_across_ranks(op) || std::get<CollectiveShape>(op.shape).peer >= 0) continue;
      CollectiveCall c;
      const auto& s = std::get<CollectiveShape>(op.shape);
      c.pg = s.pg;
      c.group = s.group;
      c.name = op.name;
      auto [key, members] = group_of(r, c);
      if (!s.pg.empty() && s.group > 1 && s.group != int64_t(members.size()))
        throw InputError(op.mark, "op '" + op.name + "' of rank " + std::to_string(r) + " records a group of " +
                                      std::to_string(s.group) + " ranks, but " + std::to_string(members.size()) +
                                      " of the ranks replayed use its process group '" + s.pg + "'");
      ++count[key][r];
    }
  for (const auto& [key, per_rank] : count) {
    auto [lo, hi] = std::minmax_element(per_rank.begin(), per_rank.end(),
                                        [](const auto& a, const auto& b) { return a.second < b.second; });
    const std::string group = key.rfind("pg:", 0) == 0 ? "process group '" + key.substr(3) + "'" : key;
    if (lo->second != hi->second)
      throw InputError(SourceMark{rank_file(*ranks[lo->first]), 0, 0},
                       "rank " + std::to_string(lo->first) + " reaches " + std::to_string(lo->second) +
                           " collectives of " + group + " but rank " + std::to_string(hi->first) + " reaches " +
                           std::to_string(hi->second) + ": the ranks' traces do not match, the replay would hang");
  }
}

RankRendezvous::~RankRendezvous() = default;

Interconnect* RankRendezvous::port(size_t rank) { return ports_.at(rank).get(); }

std::pair<std::string, std::vector<int64_t>> RankRendezvous::group_of(size_t rank, const CollectiveCall& call) const {
  const int64_t R = int64_t(ranks_.size());
  if (!call.pg.empty()) return {"pg:" + call.pg, pg_members_.at(call.pg)};
  // No process group: groups of contiguous ranks, as the generated SPMD workloads lay them out.
  const int64_t g = std::min<int64_t>(std::max<int64_t>(call.group, 1), R);
  const int64_t first = int64_t(rank) / g * g;
  std::vector<int64_t> members;
  for (int64_t i = 0; i < g; ++i) members.push_back(first + i);
  return {g == R ? std::string("all ranks") : "ranks " + std::to_string(first) + "-" + std::to_string(first + g - 1),
          members};
}

void RankRendezvous::note_wait(size_t waiter, size_t late, double s, const std::string& op) {
  wait_s_[waiter] += s;
  if (s > worst_.wait_s) worst_ = Straggle{op, waiter, late, s};
}

void RankRendezvous::arrive(size_t rank, const CollectiveCall& call, std::function<void(const CollectiveOutcome&)> done) {
  auto [key, members] = group_of(rank, call);
  const size_t seq = seq_[{key, rank}]++;
  Meeting& m = meetings_[{key, seq}];
  if (m.members.empty()) m.members = members;
  m.arrived.push_back(Arrival{rank, now_ps(), call, std::move(done)});
  if (m.arrived.size() < m.members.size()) return;

  const Arrival& first = m.arrived.front();
  for (const Arrival& a : m.arrived)
    if (a.call.op != first.call.op || a.call.bytes != first.call.bytes)
      throw InputError(SourceMark{rank_file(*ranks_[a.rank]), 0, 0},
                       "collective #" + std::to_string(seq + 1) + " of " + key + " is '" + first.call.name + "' (" +
                           first.call.op + ", " + std::to_string(int64_t(first.call.bytes)) + " bytes) on rank " +
                           std::to_string(first.rank) + " but '" + a.call.name + "' (" + a.call.op + ", " +
                           std::to_string(int64_t(a.call.bytes)) + " bytes) on rank " + std::to_string(a.rank) +
                           ": the ranks' traces do not match");
  const Arrival& last = m.arrived.back();
  for (const Arrival& a : m.arrived) note_wait(a.rank, last.rank, double(last.at_ps - a.at_ps) * 1e-12, first.call.name);

  CollectiveCall c = first.call;
  c.members = m.members;
  c.group = int64_t(m.members.size());
  c.stride = 1;
  c.world = 0;
  auto arrivals = std::make_shared<std::vector<Arrival>>(std::move(m.arrived));
  meetings_.erase({key, seq});
  const uint64_t start = now_ps();
  net_.start(c, [arrivals, start, last_rank = last.rank](const CollectiveOutcome& o) {
    for (Arrival& a : *arrivals) {
      CollectiveOutcome mine = o;
      if (start > a.at_ps) {
        char buf[80];
        std::snprintf(buf, sizeof buf, "; waited %.3f us for rank %zu", double(start - a.at_ps) * 1e-6, last_rank);
        mine.detail += buf;
      }
      a.done(mine);
    }
  });
}

void RankRendezvous::send(size_t rank, const CollectiveCall& call, std::function<void(const CollectiveOutcome&)> done) {
  P2p& p = p2p_[{int64_t(rank), call.peer, call.tag}];
  const size_t index = p.sends++;
  p.arrived_ps.push_back(0);
  CollectiveCall c = call;
  c.op = "send_recv";
  c.members = {int64_t(rank), call.peer};
  c.group = 2;
  c.chain = false;
  const auto key = std::make_tuple(int64_t(rank), call.peer, call.tag);
  net_.start(c, [this, key, index, done](const CollectiveOutcome& o) {
    P2p& q = p2p_[key];
    q.arrived_ps[index] = std::max<uint64_t>(o.end_ps, 1);
    done(o);
    if (index < q.posted.size() && q.posted[index].second) {
      CollectiveOutcome r = o;
      r.detail = "received from rank " + std::to_string(std::get<0>(key)) + ", " + o.detail;
      auto fn = std::move(q.posted[index].second);
      q.posted[index].second = nullptr;
      fn(r);
    }
  });
}

void RankRendezvous::receive(size_t rank, const CollectiveCall& call, std::function<void(const CollectiveOutcome&)> done) {
  const auto key = std::make_tuple(call.peer, int64_t(rank), call.tag);
  P2p& p = p2p_[key];
  const size_t index = p.recvs++;
  const uint64_t now = now_ps();
  if (index < p.arrived_ps.size() && p.arrived_ps[index]) {
    // The data is already here: the receive completes at once.
    p.posted.push_back({now, nullptr});
    CollectiveOutcome o;
    o.end_ps = now;
    o.algorithm = "direct";
    o.detail = "received from rank " + std::to_string(call.peer) + " (data already arrived)";
    done(o);
    return;
  }
  if (p.posted.size() <= index) p.posted.resize(index + 1);
  p.posted[index] = {now, [this, rank, peer = call.peer, now, name = call.name, done](const CollectiveOutcome& o) {
                       // Waiting for the sender, beyond the transfer itself, counts as the straggler's delay.
                       note_wait(rank, size_t(peer), double(o.end_ps - now) * 1e-12, name);
                       done(o);
                     }};
}

std::string RankRendezvous::unmatched() const {
  std::string out;
  for (const auto& [key, m] : meetings_) {
    std::string have, missing;
    for (const auto& a : m.arrived) have += (have.empty() ? "" : ", ") + std::to_string(a.rank);
    for (int64_t r : m.members) {
      bool in = false;
      for (const auto& a : m.arrived) in |= int64_t(a.rank) == r;
      if (!in) missing += (missing.empty() ? "" : ", ") + std::to_string(r);
    }
    out += "; collective #" + std::to_string(key.second + 1) + " of " + key.first + " ('" +
           m.arrived.front().call.name + "') was reached by rank(s) " + have + " but never by " + missing;
  }
  for (const auto& [key, p] : p2p_)
    for (size_t i = 0; i < p.posted.size(); ++i)
      if (p.posted[i].second && (i >= p.arrived_ps.size() || !p.arrived_ps[i]))
        out += "; rank " + std::to_string(std::get<1>(key)) + " waits for a message from rank " +
               std::to_string(std::get<0>(key)) + " (tag " + std::to_string(std::get<2>(key)) + ") that is never sent";
  return out.empty() ? out : out.substr(2);
}

}  // namespace xpu
