#pragma once
// Multi-rank replay: each replayed rank's dispatcher hands its collectives to its own port here; a collective starts
// on the network once every rank of its group has reached it (matched, as ASTRA-sim matches them, by its order within
// the process group on each rank), and ends on all of them together. Point-to-point sends start when posted (eager)
// and a receive ends when the matching send's data has arrived (the n-th send from a to b with a tag matches the n-th
// receive at b from a with that tag). The wait of each rank at each collective is kept: stragglers show there.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "sim/network/interconnect.h"
#include "sim/workload/op.h"

namespace xpu {

class RankRendezvous {
 public:
  // `ranks[r]` is rank r's workload; rank r runs on device r of `net`. Throws InputError when the ranks' collectives
  // cannot be matched (a group that the ranks do not tile, a process group whose recorded size differs from the ranks
  // that use it, a peer that is not a rank).
  RankRendezvous(Interconnect& net, const std::vector<const Workload*>& ranks);
  ~RankRendezvous();
  Interconnect* port(size_t rank);

  // Seconds each rank spent at collectives and receives waiting for the other ranks (not moving data).
  const std::vector<double>& wait_s() const { return wait_s_; }
  // The collective with the longest wait: who waited, for whom, how long.
  struct Straggle {
    std::string op;
    size_t waiter = 0, late = 0;
    double wait_s = 0;
  };
  const Straggle& worst() const { return worst_; }
  // After the run: what is still waiting for ranks that never arrived (empty when every collective matched).
  std::string unmatched() const;

 private:
  class Port;
  struct Arrival {
    size_t rank;
    uint64_t at_ps;
    CollectiveCall call;
    std::function<void(const CollectiveOutcome&)> done;
  };
  struct Meeting {
    std::vector<int64_t> members;
    std::vector<Arrival> arrived;
  };
  struct P2p {
    std::vector<uint64_t> arrived_ps;  // per send, in order: when its data is at the receiver (0: not yet)
    std::vector<std::pair<uint64_t, std::function<void(const CollectiveOutcome&)>>> posted;  // receives waiting
    std::vector<std::string> detail;
    size_t sends = 0, recvs = 0;
  };

  void arrive(size_t rank, const CollectiveCall& call, std::function<void(const CollectiveOutcome&)> done);
  void send(size_t rank, const CollectiveCall& call, std::function<void(const CollectiveOutcome&)> done);
  void receive(size_t rank, const CollectiveCall& call, std::function<void(const CollectiveOutcome&)> done);
  // The group a collective of `rank` belongs to: its key and its members.
  std::pair<std::string, std::vector<int64_t>> group_of(size_t rank, const CollectiveCall& call) const;
  void note_wait(size_t waiter, size_t late, double s, const std::string& op);

  Interconnect& net_;
  std::vector<const Workload*> ranks_;
  std::vector<std::unique_ptr<Port>> ports_;
  std::map<std::string, std::vector<int64_t>> pg_members_;              // named process groups -> ranks using them
  std::map<std::pair<std::string, size_t>, size_t> seq_;                // (group key, rank) -> collectives reached
  std::map<std::pair<std::string, size_t>, Meeting> meetings_;          // (group key, seq) -> who has arrived
  std::map<std::tuple<int64_t, int64_t, int64_t>, P2p> p2p_;            // (src, dst, tag)
  std::vector<double> wait_s_;
  Straggle worst_;
};

}  // namespace xpu
