// Collective algorithms as chunked, pipelined schedules of messages on the network, in the manner of NCCL: rings
// (optionally both ways round), multi-dimensional rings (hierarchical intra/inter node, torus dimensions), double
// binary trees, recursive halving-doubling, in-switch reduction with multicast (NVLS), direct all-to-all, pipelined
// chain broadcast and point-to-point sends. Every group of the call runs at once, so groups that share links contend.
#include <algorithm>
#include <cmath>
#include <memory>
#include <set>

#include "sim/network/network.h"

namespace xpu {
namespace {

using Pipe = Network::Pipe;

uint64_t chunks_for(double bytes, double chunk) { return std::max<uint64_t>(1, uint64_t(std::ceil(bytes / chunk))); }

// Shared bookkeeping: counts the messages that must arrive, calls `done` with the time of the last one.
struct Run {
  Network& net;
  std::function<void(uint64_t)> done;
  uint64_t expected = 0, got = 0, last = 0;
  bool finished = false;
  double copies = 1;  // identical groups this run stands for (their traffic's energy is counted this many times)
  explicit Run(Network& n) : net(n) {}
  virtual ~Run() = default;
  virtual void start() = 0;
  void arrived(uint64_t t) {
    last = std::max(last, t);
    if (++got == expected && !finished) { finished = true; done(last); }
  }
  // The flow engine's shape of a pipelined transfer of `units` bytes per stream whose steps move `step_bytes`:
  // chunks as the chunk engine cuts a step, at most a window of them in flight.
  Network::FluidShape fluid_shape(double units, double step_bytes) const {
    const uint64_t C = chunks_for(step_bytes, net.settings().chunk);
    Network::FluidShape sh;
    sh.copies = copies;
    sh.units = units;
    sh.chunk = step_bytes / double(C);
    sh.in_flight = double(std::min<uint64_t>(C, uint64_t(net.settings().window)));
    return sh;
  }
  void check_empty() {
    if (expected == 0) net.at(net.now_ps(), [this] { finished = true; done(net.now_ps()); });
  }
};


// Rings: every rank sends `steps` messages of `step_bytes` to its neighbour, chunk by chunk; a chunk of step s+1
// leaves as soon as the same chunk of step s has arrived from the other neighbour.
struct RingRun : Run {
  std::vector<std::vector<int64_t>> rings;
  uint64_t steps;
  double step_bytes;
  int dirs;
  uint64_t C = 1;
  double cb = 0;
  std::vector<Pipe> pipes;  // [ring][dir][rank]
  size_t p = 0;
  RingRun(Network& n, std::vector<std::vector<int64_t>> r, uint64_t s, double b, bool bidir)
      : Run(n), rings(std::move(r)), steps(s), step_bytes(b), dirs(bidir ? 2 : 1) {}
  size_t idx(size_t r, int d, size_t i) const { return (r * size_t(dirs) + size_t(d)) * p + i; }
  void start() override {
    p = rings.empty() ? 0 : rings[0].size();
    if (p < 2 || steps == 0 || step_bytes <= 0) { check_empty(); return; }
    const double per_dir = step_bytes / dirs;
    if (net.fluid()) {
      // One coupled flow per ring and direction: every rank streams its steps' bytes to its neighbour. A chunk of
      // the next step leaves when the same chunk of this one arrives, so a ring keeps at most its chunks per step
      // (and the window) in flight per hop.
      expected = uint64_t(rings.size()) * uint64_t(dirs);
      Network::FluidShape sh = fluid_shape(per_dir * double(steps), per_dir);
      sh.mean_hop = true;
      for (size_t r = 0; r < rings.size(); ++r)
        for (int d = 0; d < dirs; ++d) {
          std::vector<Network::Stream> st;
          for (size_t i = 0; i < p; ++i) st.push_back({uint32_t(rings[r][i]), uint32_t(rings[r][next(i, d)]), 1.0});
          net.fluid_send(st, sh, [this](uint64_t t) { arrived(t); });
        }
      return;
    }
    C = chunks_for(per_dir, net.settings().chunk);
    cb = per_dir / double(C);
    expected = uint64_t(rings.size()) * uint64_t(dirs) * p * steps * C;
    pipes.resize(rings.size() * size_t(dirs) * p);
    for (size_t r = 0; r < rings.size(); ++r)
      for (int d = 0; d < dirs; ++d)
        for (size_t i = 0; i < p; ++i) {
          Pipe& pp = pipes[idx(r, d, i)];
          pp.src = uint32_t(rings[r][i]);
          pp.dst = uint32_t(rings[r][next(i, d)]);
          pp.flow = (uint64_t(r) << 40) ^ (uint64_t(d) << 32) ^ i;
        }
    for (size_t r = 0; r < rings.size(); ++r)
      for (int d = 0; d < dirs; ++d)
        for (size_t i = 0; i < p; ++i)
          for (uint64_t c = 0; c < C; ++c) send(r, d, i, 0);
  }
  size_t next(size_t i, int d) const { return d == 0 ? (i + 1) % p : (i + p - 1) % p; }
  void send(size_t r, int d, size_t i, uint64_t s) {
    net.push(pipes[idx(r, d, i)], cb, [this, r, d, i, s](uint64_t t) {
      if (s + 1 < steps) send(r, d, next(i, d), s + 1);
      arrived(t);
    });
  }
};

// Phases run one after another (a barrier between them): the dimensions of a hierarchical or torus algorithm.
struct PhasedRun : Run {
  std::vector<std::function<std::unique_ptr<Run>()>> phases;
  std::unique_ptr<Run> current;
  size_t next_phase = 0;
  explicit PhasedRun(Network& n) : Run(n) {}
  void start() override { advance(); }
  void advance() {
    if (next_phase == phases.size()) { finished = true; done(net.now_ps()); return; }
    auto old = std::move(current);
    if (old) net.at(net.now_ps(), [o = std::shared_ptr<Run>(std::move(old))] {});  // destroy after this callback
    current = phases[next_phase++]();
    current->copies = copies;
    current->done = [this](uint64_t) { advance(); };
    current->start();
  }
};

// The same phases over `pieces` pieces of the data, pipelined: each phase runs its pieces one after another, and a
// piece enters phase s once it has left phase s-1. A torus all-reduce moves most of its bytes in the first dimension
// it reduces along (and the last it gathers along). With a barrier between phases (PhasedRun), a rotation whose first
// ring is shorter than the others' runs its small phases on links another rotation's large phase still holds, and a
// torus with unequal dimensions lost up to a third of its bandwidth (a 4x8x8 all-reduce took longer than an 8x8x8
// one). Pipelined, the dimensions' links work on different pieces at once. Each piece is a ring run of its own, so
// the pipeline costs events: the caller uses it only where the dimensions differ. (Cutting the small phases into
// fewer, larger pieces saved events but cost up to 8 % of the time on 256 MiB, so every phase uses all the pieces.)
constexpr size_t kMaxPieces = 16;
struct PipelinedRun : Run {
  std::vector<std::function<std::unique_ptr<Run>(double share)>> phases;  // one piece's run: `share` of the data
  size_t pieces = 1;
  std::vector<size_t> ended, next;  // per phase: pieces finished, next piece to start
  std::vector<char> running;
  std::vector<std::shared_ptr<Run>> runs;  // kept until the pipeline ends
  size_t left = 0;
  explicit PipelinedRun(Network& n) : Run(n) {}
  void start() override {
    const size_t S = phases.size();
    if (S == 0) { check_empty(); return; }
    ended.assign(S, 0);
    next.assign(S, 0);
    running.assign(S, 0);
    left = S * pieces;
    try_start(0);
  }
  void try_start(size_t s) {
    if (s >= phases.size() || running[s] || next[s] >= pieces) return;
    if (s > 0 && ended[s - 1] <= next[s]) return;
    running[s] = 1;
    ++next[s];
    std::shared_ptr<Run> r = phases[s](1.0 / double(pieces));
    r->copies = copies;
    runs.push_back(r);
    r->done = [this, s](uint64_t t) {
      running[s] = 0;
      ++ended[s];
      last = std::max(last, t);
      if (--left == 0) { finished = true; net.at(net.now_ps(), [this] { done(last); }); return; }
      try_start(s);
      try_start(s + 1);
    };
    r->start();
  }
};

// Runs side by side; done when all are (a torus all-reduce splits its data over rotations of the dimensions).
struct ParallelRun : Run {
  std::vector<std::unique_ptr<Run>> parts;
  size_t left = 0;
  explicit ParallelRun(Network& n) : Run(n) {}
  void start() override {
    left = parts.size();
    if (!left) { check_empty(); return; }
    for (auto& r : parts) {
      r->copies = copies;
      r->done = [this](uint64_t t) {
        last = std::max(last, t);
        if (--left == 0) { finished = true; net.at(net.now_ps(), [this] { done(last); }); }
      };
      r->start();
    }
  }
};

// Double binary tree: two trees over the ranks (the second mirrors the first, so a leaf of one is inside the other),
// each reducing half the data towards its root and broadcasting it back, chunk by chunk.
struct TreeRun : Run {
  std::vector<std::vector<int64_t>> groups;
  double bytes;
  uint64_t C = 1;
  double cb = 0;
  size_t p = 0;
  struct Node { Pipe up; std::vector<Pipe> down; std::vector<int> pending; };
  std::vector<Node> nodes;  // [group][tree][pos]
  TreeRun(Network& n, std::vector<std::vector<int64_t>> g, double b) : Run(n), groups(std::move(g)), bytes(b) {}
  int64_t rank_at(size_t g, int tree, size_t pos) const { return groups[g][tree == 0 ? pos : p - 1 - pos]; }
  size_t at(size_t g, int tree, size_t pos) const { return (g * 2 + size_t(tree)) * p + pos; }
  size_t children(size_t pos) const { return size_t(2 * pos + 1 < p) + size_t(2 * pos + 2 < p); }
  void start() override {
    p = groups.empty() ? 0 : groups[0].size();
    if (p < 2 || bytes <= 0) { check_empty(); return; }
    C = chunks_for(bytes / 2, net.settings().chunk);
    cb = bytes / 2 / double(C);
    if (net.fluid()) {
      // Each tree one coupled flow over its edges both ways: half the data up and back down, pipelined through
      // the tree (a chunk's time from the leaves to the root and back is the pipeline's fill).
      Network::FluidShape sh = fluid_shape(bytes / 2, bytes / 2);
      sh.mean_hop = true;
      expected = uint64_t(groups.size()) * 2;
      for (size_t g = 0; g < groups.size(); ++g)
        for (int t = 0; t < 2; ++t) {
          std::vector<Network::Stream> st;
          // The chunk's critical path: the slowest branch from a leaf up to the root plus the slowest back down.
          std::vector<double> up(p, 0), down(p, 0);
          double up_cp = 0, down_cp = 0;
          for (size_t pos = 1; pos < p; ++pos) {
            const uint32_t a = uint32_t(rank_at(g, t, pos)), b = uint32_t(rank_at(g, t, (pos - 1) / 2));
            st.push_back({a, b, 1.0});
            st.push_back({b, a, 1.0});
            up[pos] = up[(pos - 1) / 2] + net.hop_time(a, b, cb);
            down[pos] = down[(pos - 1) / 2] + net.hop_time(b, a, cb);
            up_cp = std::max(up_cp, up[pos]);
            down_cp = std::max(down_cp, down[pos]);
          }
          sh.critical_s = up_cp + down_cp;
          net.fluid_send(st, sh, [this](uint64_t tm) { arrived(tm); });
        }
      return;
    }
    nodes.resize(groups.size() * 2 * p);
    expected = uint64_t(groups.size()) * 2 * (p - 1) * C;  // broadcast deliveries
    for (size_t g = 0; g < groups.size(); ++g)
      for (int t = 0; t < 2; ++t)
        for (size_t pos = 0; pos < p; ++pos) {
          Node& nd = nodes[at(g, t, pos)];
          nd.pending.assign(C, int(children(pos)));
          if (pos > 0) nd.up = Pipe{uint32_t(rank_at(g, t, pos)), uint32_t(rank_at(g, t, (pos - 1) / 2)), at(g, t, pos)};
          for (size_t ch : {2 * pos + 1, 2 * pos + 2})
            if (ch < p) nd.down.push_back(Pipe{uint32_t(rank_at(g, t, pos)), uint32_t(rank_at(g, t, ch)), at(g, t, ch) << 1});
        }
    for (size_t g = 0; g < groups.size(); ++g)
      for (int t = 0; t < 2; ++t)
        for (size_t pos = 0; pos < p; ++pos)
          if (children(pos) == 0)
            for (uint64_t c = 0; c < C; ++c) up(g, t, pos, c);
  }
  void up(size_t g, int t, size_t pos, uint64_t c) {
    if (pos == 0) { down(g, t, 0, c); return; }
    net.push(nodes[at(g, t, pos)].up, cb, [this, g, t, pos, c](uint64_t) {
      size_t parent = (pos - 1) / 2;
      if (--nodes[at(g, t, parent)].pending[c] == 0) up(g, t, parent, c);
    });
  }
  void down(size_t g, int t, size_t pos, uint64_t c) {
    Node& nd = nodes[at(g, t, pos)];
    for (size_t k = 0; k < nd.down.size(); ++k) {
      size_t ch = 2 * pos + 1 + k;
      net.push(nd.down[k], cb, [this, g, t, ch, c](uint64_t tm) {
        down(g, t, ch, c);
        arrived(tm);
      });
    }
  }
};

// Recursive halving (reduce-scatter) then doubling (all-gather): log2(p) exchanges with partners at distance p/2,
// p/4, ... with half the data each time, then back.
struct HalvingDoublingRun : Run {
  std::vector<std::vector<int64_t>> groups;
  double bytes;
  size_t p = 0, L = 0;
  std::vector<std::vector<Pipe>> pipes;      // [group*p + i][step]
  std::vector<std::vector<uint64_t>> recv;   // [group*p + i][step] chunks received
  std::vector<uint64_t> chunks;              // per step
  HalvingDoublingRun(Network& n, std::vector<std::vector<int64_t>> g, double b) : Run(n), groups(std::move(g)), bytes(b) {}
  size_t partner(size_t i, size_t step) const {
    size_t k = step < L ? step : 2 * L - 1 - step;
    return i ^ (p >> (k + 1));
  }
  double step_bytes(size_t step) const {
    size_t k = step < L ? step : 2 * L - 1 - step;
    return bytes / double(size_t(1) << (k + 1));
  }
  void start() override {
    p = groups.empty() ? 0 : groups[0].size();
    if (p < 2 || bytes <= 0) { check_empty(); return; }
    while ((size_t(1) << L) < p) ++L;
    const size_t S = 2 * L;
    pipes.assign(groups.size() * p, std::vector<Pipe>(S));
    recv.assign(groups.size() * p, std::vector<uint64_t>(S, 0));
    if (net.fluid()) {
      expected = 1;
      fluid_step(0);
      return;
    }
    for (size_t s = 0; s < S; ++s) chunks.push_back(chunks_for(step_bytes(s), net.settings().chunk));
    for (size_t s = 0; s < S; ++s) expected += uint64_t(groups.size()) * p * chunks[s];
    for (size_t g = 0; g < groups.size(); ++g)
      for (size_t i = 0; i < p; ++i)
        for (size_t s = 0; s < S; ++s)
          pipes[g * p + i][s] = Pipe{uint32_t(groups[g][i]), uint32_t(groups[g][partner(i, s)]), (g * p + i) * 64 + s};
    for (size_t g = 0; g < groups.size(); ++g)
      for (size_t i = 0; i < p; ++i) step(g, i, 0);
  }
  // Flow engine: the exchanges of step s, one coupled flow per group, then the next step.
  size_t fluid_left = 0;
  void fluid_step(size_t s) {
    if (s == 2 * L) { arrived(net.now_ps()); return; }
    fluid_left = groups.size();
    const Network::FluidShape sh = fluid_shape(step_bytes(s), step_bytes(s));
    for (size_t g = 0; g < groups.size(); ++g) {
      std::vector<Network::Stream> st;
      for (size_t i = 0; i < p; ++i) st.push_back({uint32_t(groups[g][i]), uint32_t(groups[g][partner(i, s)]), 1.0});
      net.fluid_send(st, sh, [this, s](uint64_t) {
        if (--fluid_left == 0) fluid_step(s + 1);
      });
    }
  }
  void step(size_t g, size_t i, size_t s) {
    const uint64_t C = chunks[s];
    const double cb = step_bytes(s) / double(C);
    for (uint64_t c = 0; c < C; ++c)
      net.push(pipes[g * p + i][s], cb, [this, g, i, s, C](uint64_t t) {
        size_t j = partner(i, s);
        if (++recv[g * p + j][s] == C && s + 1 < 2 * L) step(g, j, s + 1);
        arrived(t);
      });
  }
};

// In-switch reduction (NVLS): every rank sends its data up to the switches (split by the bandwidth it has to each),
// a switch reduces a chunk once all ranks' copies are in and multicasts the result down to every rank. all_gather
// multicasts each rank's shard without reducing; reduce_scatter delivers each reduced chunk to its owner only.
struct InSwitchRun : Run {
  std::vector<std::vector<int64_t>> groups;
  std::vector<std::vector<uint32_t>> sw;     // each group's own switches (its node's), in the same plane order
  std::vector<uint32_t> switches;            // group 0's, for the plane count and shares
  std::string op;
  double bytes;
  size_t p = 0;
  std::vector<double> share;
  std::vector<uint64_t> C;
  std::vector<Pipe> up_pipes, down_pipes;   // [(g*S + s)*p + i]
  std::vector<int> pending;                 // per (g, s, c)
  std::vector<size_t> pend_base;
  InSwitchRun(Network& n, std::vector<std::vector<int64_t>> g, std::vector<std::vector<uint32_t>> s, std::string o, double b)
      : Run(n), groups(std::move(g)), sw(std::move(s)), switches(sw[0]), op(std::move(o)), bytes(b) {}
  size_t pi(size_t g, size_t s, size_t i) const { return (g * switches.size() + s) * p + i; }
  void start() override {
    p = groups.empty() ? 0 : groups[0].size();
    if (p < 2 || bytes <= 0) { check_empty(); return; }
    double total = 0;
    for (uint32_t s : switches) total += net.edge_bandwidth(uint32_t(groups[0][0]), s);
    const double up_bytes = op == "all_gather" ? bytes / double(p) : bytes;
    size_t nchunks = 0;
    for (uint32_t s : switches) {
      share.push_back(net.edge_bandwidth(uint32_t(groups[0][0]), s) / total);
      C.push_back(chunks_for(up_bytes * share.back(), net.settings().chunk));
      pend_base.push_back(nchunks);
      nchunks += C.back();
    }
    const size_t S = switches.size();
    if (net.fluid()) {
      // Per group and switch plane one coupled flow: every rank's share up, the switch's reduction unit, and the
      // result (or each shard, or every other rank's shard) multicast back down.
      const double pp = double(p);
      for (size_t g = 0; g < groups.size(); ++g)
        for (size_t s = 0; s < S; ++s) {
          Network::FluidShape sh = fluid_shape(up_bytes * share[s], up_bytes * share[s]);
          sh.fill_hops = 1;
          const double down = op == "all_gather" ? pp - 1 : op == "reduce_scatter" ? 1 / pp : 1;
          std::vector<Network::Stream> st;
          for (size_t i = 0; i < p; ++i) {
            st.push_back({uint32_t(groups[g][i]), sw[g][s], 1.0});
            st.push_back({sw[g][s], uint32_t(groups[g][i]), down});
          }
          MaxMinFlows::Use more;
          if (op != "all_gather") {  // the switch reduces one chunk from every rank before it multicasts
            more.push_back({net.reducer_resource(sw[g][s]), pp});
            sh.extra_ps = uint64_t(std::llround(1e12 * sh.chunk * pp / net.reduction_bandwidth(sw[g][s])));
          }
          ++expected;
          net.fluid_send(st, sh, [this](uint64_t t) { arrived(t); }, more);
        }
      return;
    }
    up_pipes.resize(groups.size() * S * p);
    down_pipes.resize(groups.size() * S * p);
    pending.assign(groups.size() * nchunks, int(p));
    for (size_t g = 0; g < groups.size(); ++g)
      for (size_t s = 0; s < S; ++s)
        for (size_t i = 0; i < p; ++i) {
          up_pipes[pi(g, s, i)] = Pipe{uint32_t(groups[g][i]), sw[g][s], pi(g, s, i)};
          down_pipes[pi(g, s, i)] = Pipe{sw[g][s], uint32_t(groups[g][i]), pi(g, s, i) << 1};
        }
    for (size_t g = 0; g < groups.size(); ++g)
      for (size_t s = 0; s < S; ++s) {
        const double cb = up_bytes * share[s] / double(C[s]);
        const uint64_t deliveries = op == "all_gather" ? p * (p - 1) : p;
        expected += C[s] * deliveries;
        for (size_t i = 0; i < p; ++i)
          for (uint64_t c = 0; c < C[s]; ++c)
            net.push(up_pipes[pi(g, s, i)], cb, [this, g, s, i, c, cb, nchunks](uint64_t) {
              if (op == "all_gather") { multicast(g, s, cb, i); return; }
              if (--pending[g * nchunks + pend_base[s] + c] > 0) return;
              const uint64_t ready = net.reduce_at(sw[g][s], cb * double(p));
              net.at(ready, [this, g, s, cb] {
                if (op == "reduce_scatter") {
                  // Each rank owns 1/p of every reduced chunk (the shards interleave at chunk granularity).
                  for (size_t j = 0; j < p; ++j)
                    net.push(down_pipes[pi(g, s, j)], cb / double(p), [this](uint64_t t) { arrived(t); });
                } else {
                  multicast(g, s, cb, SIZE_MAX);
                }
              });
            });
      }
  }
  void multicast(size_t g, size_t s, double cb, size_t except) {
    for (size_t j = 0; j < p; ++j)
      if (j != except) net.push(down_pipes[pi(g, s, j)], cb, [this](uint64_t t) { arrived(t); });
  }
};

// Point-to-point flows: all-to-all (every rank to every other), send/recv pairs, and pipelined chain broadcast (a
// flow marked `relay` forwards each chunk over the next flow as soon as it arrives).
struct FlowsRun : Run {
  struct Flow { int64_t src, dst; double bytes; bool relay = false; bool head = true; };
  std::vector<Flow> flows;
  std::vector<Pipe> pipes;
  explicit FlowsRun(Network& n, std::vector<Flow> f) : Run(n), flows(std::move(f)) {}
  void start() override {
    if (flows.empty()) { check_empty(); return; }
    if (net.fluid()) {
      // A flow each, or one coupled flow per relay chain (a pipelined broadcast fills for one chunk per link).
      for (size_t k = 0; k < flows.size(); ++k) {
        if (!flows[k].head) continue;
        std::vector<Network::Stream> st{{uint32_t(flows[k].src), uint32_t(flows[k].dst), 1.0}};
        for (size_t j = k; flows[j].relay && j + 1 < flows.size(); ++j)
          st.push_back({uint32_t(flows[j + 1].src), uint32_t(flows[j + 1].dst), 1.0});
        Network::FluidShape sh = fluid_shape(flows[k].bytes, flows[k].bytes);
        sh.fill_hops = double(st.size()) - 1;
        sh.mean_hop = true;
        ++expected;
        net.fluid_send(st, sh, [this](uint64_t t) { arrived(t); });
      }
      return;
    }
    pipes.resize(flows.size());
    for (size_t k = 0; k < flows.size(); ++k) pipes[k] = Pipe{uint32_t(flows[k].src), uint32_t(flows[k].dst), k};
    for (const auto& f : flows) expected += chunks_for(f.bytes, net.settings().chunk);
    for (size_t k = 0; k < flows.size(); ++k) {
      if (!flows[k].head) continue;
      const uint64_t c = chunks_for(flows[k].bytes, net.settings().chunk);
      for (uint64_t i = 0; i < c; ++i) send(k, flows[k].bytes / double(c));
    }
  }
  void send(size_t k, double cb) {
    net.push(pipes[k], cb, [this, k, cb](uint64_t t) {
      if (flows[k].relay) send(k + 1, cb);
      arrived(t);
    });
  }
};

}  // namespace

std::vector<std::vector<int64_t>> Network::groups_of(const CollectiveCall& call) const {
  const int64_t world = call.world > 0 ? call.world : spec_.devices;
  const std::string what = "collective '" + call.name + "'";
  if (!call.members.empty()) {
    for (int64_t d : call.members)
      if (d < 0 || d >= spec_.devices)
        throw InputError(what + " runs on device " + std::to_string(d) + " but the system has " +
                         std::to_string(spec_.devices) + " (network.devices)");
    return {call.members};
  }
  if (world > spec_.devices)
    throw InputError(what + " runs on " + std::to_string(world) + " devices but the system has " +
                     std::to_string(spec_.devices) + " (network.devices)");
  const int64_t block = call.group * call.stride;
  if (call.group < 1 || call.stride < 1 || block > world || world % block)
    throw InputError(what + ": groups of " + std::to_string(call.group) + " ranks " + std::to_string(call.stride) +
                     " devices apart do not tile the " + std::to_string(world) + " devices");
  std::vector<std::vector<int64_t>> out;
  for (int64_t b = 0; b < world; b += block)
    for (int64_t off = 0; off < call.stride; ++off) {
      std::vector<int64_t> g;
      for (int64_t i = 0; i < call.group; ++i) g.push_back(b + off + i * call.stride);
      out.push_back(std::move(g));
    }
  return out;
}

namespace {

// Dimensions of a group for multi-dimensional rings: devices per node and nodes when it spans nodes, the torus's
// dimensions when it is a whole torus instance, else one ring.
std::vector<int64_t> group_dims(const Network& net, const std::vector<int64_t>& g) {
  const auto& tiers = net.spec().tiers;
  const int64_t p = int64_t(g.size());
  if (tiers.empty() || p < 2) return {p};
  const int64_t node0 = net.instance_of(g[0], 0);
  int64_t local = 0;
  for (auto d : g) local += net.instance_of(d, 0) == node0;
  if (local < p) {
    // Ranks of one node must be consecutive and equal in number on every node.
    for (int64_t i = 0; i < p; ++i)
      if (net.instance_of(g[size_t(i)], 0) != net.instance_of(g[size_t(i - i % local)], 0)) return {p};
    if (p % local) return {p};
    return local > 1 ? std::vector<int64_t>{local, p / local} : std::vector<int64_t>{p};
  }
  const TierSpec& t0 = tiers[0];
  if ((t0.topology == "torus" || t0.topology == "mesh") && p == t0.group && g[1] - g[0] == 1) {
    std::vector<int64_t> d;
    for (auto x : t0.dims)
      if (x > 1) d.push_back(x);
    return d.empty() ? std::vector<int64_t>{p} : d;
  }
  return {p};
}

// Rings along dimension k of `dims` for every group.
std::vector<std::vector<int64_t>> dim_rings(const std::vector<std::vector<int64_t>>& groups,
                                            const std::vector<int64_t>& dims, size_t k) {
  int64_t stride = 1;
  for (size_t j = 0; j < k; ++j) stride *= dims[j];
  const int64_t n = dims[k];
  std::vector<std::vector<int64_t>> rings;
  for (const auto& g : groups) {
    const int64_t p = int64_t(g.size());
    for (int64_t i = 0; i < p; ++i) {
      if ((i / stride) % n) continue;  // the first rank of each ring along k
      std::vector<int64_t> r;
      for (int64_t c = 0; c < n; ++c) r.push_back(g[size_t(i + c * stride)]);
      rings.push_back(std::move(r));
    }
  }
  return rings;
}

// NCCL-style rings across nodes: one ring per local rank, each leaving every node through a different GPU (and so a
// different NIC on its own rail): ring k enters node a at local rank s_a and leaves from s_a - 1 to the same local
// rank of the next node, which it enters there (s_{a+1} = s_a - 1).
std::vector<std::vector<int64_t>> node_rings(const std::vector<std::vector<int64_t>>& groups, int64_t local) {
  std::vector<std::vector<int64_t>> rings;
  for (const auto& g : groups) {
    const int64_t nodes = int64_t(g.size()) / local;
    for (int64_t k = 0; k < local; ++k) {
      std::vector<int64_t> r;
      int64_t s = k;
      for (int64_t a = 0; a < nodes; ++a) {
        for (int64_t j = 0; j < local; ++j) r.push_back(g[size_t(a * local + (s + j) % local)]);
        s = (s + local - 1) % local;
      }
      rings.push_back(std::move(r));
    }
  }
  return rings;
}

std::string human(double b) {
  char buf[32];
  if (b >= 1048576) std::snprintf(buf, sizeof buf, "%.4g MiB", b / 1048576);
  else if (b >= 1024) std::snprintf(buf, sizeof buf, "%.4g KiB", b / 1024);
  else std::snprintf(buf, sizeof buf, "%.0f B", b);
  return buf;
}

}  // namespace

namespace {
// Shares of the data for the rotations of the dimension order of a torus all-reduce, chosen so that every
// dimension's links carry the same bytes. Rotation r reduce-scatters first along dimension r, where it moves
// (d_r - 1)/d_r of its share, then along the next with 1/d_r as much, and so on; with equal shares, a torus with
// unequal dimensions loads its shorter dimension's links less than the others and the longest finishes last (a
// 4x8x8 torus took longer than an 8x8x8 one). Solves loads_k(shares) = L for every k with the shares summing to
// one; a rotation whose share would be negative is dropped and the rest solved again.
std::vector<double> rotation_shares(const std::vector<int64_t>& dims, bool bidir) {
  const size_t K = dims.size();
  if (std::all_of(dims.begin(), dims.end(), [&](int64_t d) { return d == dims[0]; }))
    return std::vector<double>(K, 1.0 / double(K));
  std::vector<std::vector<double>> load(K, std::vector<double>(K, 0));  // [rotation][dimension], in link-times
  for (size_t r = 0; r < K; ++r) {
    double data = 1;
    for (size_t i = 0; i < K; ++i) {
      const size_t k = (r + i) % K;
      // A dimension of two has one link between the pair, not two: both ways round use the same link.
      const double links = bidir && dims[k] > 2 ? 2 : 1;
      load[r][k] = double(dims[k] - 1) / double(dims[k]) * data / links;
      data /= double(dims[k]);
    }
  }
  std::vector<bool> on(K, true);
  for (size_t attempt = 0; attempt < K; ++attempt) {
    std::vector<size_t> act;
    for (size_t r = 0; r < K; ++r)
      if (on[r]) act.push_back(r);
    // Unknowns: the active shares and L. Equations: each dimension's load = L (least squares when the active
    // rotations are fewer than the dimensions: the normal equations), and the shares sum to 1.
    const size_t n = act.size() + 1;
    std::vector<std::vector<double>> rows;
    for (size_t k = 0; k < K; ++k) {
      std::vector<double> row(n + 1, 0);
      for (size_t j = 0; j < act.size(); ++j) row[j] = load[act[j]][k];
      row[n - 1] = -1;
      rows.push_back(row);
    }
    std::vector<double> sum(n + 1, 0);
    for (size_t j = 0; j < act.size(); ++j) sum[j] = 1;
    sum[n] = 1;
    // Normal equations of the K load rows, plus the sum row weighted heavily (an equality).
    std::vector<std::vector<double>> M(n, std::vector<double>(n + 1, 0));
    auto add = [&](const std::vector<double>& row, double w) {
      for (size_t a = 0; a < n; ++a)
        for (size_t b = 0; b <= n; ++b) M[a][b] += w * row[a] * row[b];
    };
    for (const auto& row : rows) add(row, 1);
    add(sum, 1e6);
    for (size_t i = 0; i < n; ++i) {
      size_t piv = i;
      for (size_t r = i + 1; r < n; ++r)
        if (std::abs(M[r][i]) > std::abs(M[piv][i])) piv = r;
      std::swap(M[i], M[piv]);
      if (std::abs(M[i][i]) < 1e-15) return std::vector<double>(K, 1.0 / double(K));
      for (size_t r = 0; r < n; ++r) {
        if (r == i) continue;
        const double f = M[r][i] / M[i][i];
        for (size_t c = i; c <= n; ++c) M[r][c] -= f * M[i][c];
      }
    }
    std::vector<double> x(K, 0);
    bool negative = false;
    for (size_t j = 0; j < act.size(); ++j) {
      x[act[j]] = M[j][n] / M[j][j];
      if (x[act[j]] < 0) { on[act[j]] = false; negative = true; }
    }
    if (!negative) return x;
  }
  return std::vector<double>(K, 1.0 / double(K));
}

// Phases along `dims` in `order`: reduce-scatter dimension by dimension, then all-gather back; with `pieces` > 1
// through a PipelinedRun, else with a barrier between phases.
std::unique_ptr<Run> dims_run(Network& net, const std::vector<std::vector<int64_t>>& groups, const std::vector<int64_t>& dims,
                              const std::vector<size_t>& order, double n, const std::string& op, bool bidir,
                              size_t pieces = 1) {
  std::vector<std::function<std::unique_ptr<Run>(double)>> phases;
  std::vector<double> at_dim(dims.size());
  double data = n;
  for (size_t k : order) { at_dim[k] = data / double(dims[k]); data /= double(dims[k]); }
  auto add = [&](size_t k) {
    Network* np = &net;
    auto rings = std::make_shared<const std::vector<std::vector<int64_t>>>(dim_rings(groups, dims, k));
    phases.push_back([np, rings, steps = uint64_t(dims[k] - 1), b = at_dim[k], bidir](double share) {
      return std::make_unique<RingRun>(*np, *rings, steps, b * share, bidir);
    });
  };
  if (op != "all_gather")
    for (size_t k : order) add(k);
  if (op != "reduce_scatter")
    for (size_t i = order.size(); i-- > 0;) add(order[i]);
  if (pieces > 1) {
    auto pl = std::make_unique<PipelinedRun>(net);
    pl->phases = std::move(phases);
    pl->pieces = pieces;
    return pl;
  }
  auto ph = std::make_unique<PhasedRun>(net);
  for (auto& f : phases) ph->phases.push_back([f] { return f(1.0); });
  return ph;
}
}  // namespace

bool Network::disjoint_translates(const std::vector<std::vector<int64_t>>& groups) {
  const auto& g0 = groups[0];
  const size_t p = g0.size();
  if (p < 2 || p > 64 || spec_.tiers.empty()) return false;
  // The smallest tier with one instance holding all of group 0; instances of a tier are built alike.
  size_t tier = spec_.tiers.size();
  for (size_t t = 0; t < spec_.tiers.size() && tier == spec_.tiers.size(); ++t)
    if (std::all_of(g0.begin(), g0.end(), [&](int64_t d) { return instance_of(d, t) == instance_of(g0[0], t); }))
      tier = t;
  if (tier + 1 >= spec_.tiers.size()) return false;  // the outermost tier has one instance
  const int64_t inst = spec_.tiers[tier].group;
  for (size_t k = 1; k < groups.size(); ++k) {
    const int64_t shift = groups[k][0] - g0[0];
    if (groups[k].size() != p || shift % inst || shift == 0) return false;
    for (size_t i = 0; i < p; ++i)
      if (groups[k][i] - g0[i] != shift) return false;
  }
  // Routes of the first group, against those of the second and the last: no link in common.
  auto links = [&](const std::vector<int64_t>& g) {
    std::set<uint32_t> out;
    for (size_t i = 0; i < p; ++i)
      for (size_t j = 0; j < p; ++j)
        if (i != j)
          for (auto [li, w] : fluid_route(uint32_t(g[i]), uint32_t(g[j])).use) out.insert(li);
    return out;
  };
  const auto a = links(g0);
  for (size_t k : {size_t(1), groups.size() - 1})
    for (uint32_t li : links(groups[k]))
      if (a.count(li)) return false;
  return true;
}

void Network::start(const CollectiveCall& call, std::function<void(const CollectiveOutcome&)> done) {
  now_ps_ = sc_core::sc_time_stamp().value();
  finished_.clear();  // runs that ended in earlier callbacks; none of their code is on the stack now
  static const std::vector<std::string> ops = {"all_reduce", "all_gather", "reduce_scatter", "all_to_all", "broadcast",
                                               "send_recv"};
  if (std::find(ops.begin(), ops.end(), call.op) == ops.end())
    throw InputError("collective '" + call.name + "': unknown operation '" + call.op +
                     "' (all_reduce, all_gather, reduce_scatter, all_to_all, broadcast, send_recv)");
  auto groups = groups_of(call);
  const size_t p = groups[0].size();
  const CollectiveSettings& cs = spec_.collectives;
  const double n = call.bytes;
  auto dims = group_dims(*this, groups[0]);
  auto switches = shared_reduction_switches(groups[0]);
  const bool multi_node = !spec_.tiers.empty() && spec_.tiers.size() > 1 &&
                          instance_of(groups[0][0], 0) != instance_of(groups[0].back(), 0);

  std::string algo = cs.algorithm, note;
  auto fallback = [&](const std::string& why, const std::string& to) { note = " (" + algo + " " + why + ")"; algo = to; };
  if (call.op == "all_reduce") {
    if (algo == "auto") {
      if (!switches.empty() && n >= cs.in_switch_min) algo = "in_switch";
      else if (multi_node && n <= cs.tree_max) algo = "tree";
      else if (dims.size() > 1 && !multi_node) algo = "hierarchical";  // torus dimensions
      else algo = "ring";
    }
    if (algo == "in_switch" && switches.empty()) fallback("needs switches with reduction shared by the group", "ring");
    if (algo == "halving_doubling" && (p & (p - 1))) fallback("needs a power-of-two group", "ring");
    if (algo == "direct") fallback("does not apply to all_reduce", "ring");
    if (algo == "hierarchical" && dims.size() < 2) algo = "ring";
  } else if (call.op == "all_gather" || call.op == "reduce_scatter") {
    if (algo == "auto") algo = dims.size() > 1 && !multi_node ? "hierarchical" : "ring";
    if (algo == "in_switch" && switches.empty()) fallback("needs switches with reduction shared by the group", "ring");
    if (algo == "tree" || algo == "halving_doubling" || algo == "direct") fallback("does not apply to " + call.op, "ring");
    if (algo == "hierarchical" && dims.size() < 2) algo = "ring";
  } else if (call.op == "all_to_all" || call.op == "send_recv") {
    if (algo != "auto" && algo != "direct") fallback("does not apply to " + call.op, "direct");
    algo = "direct";
  } else {  // broadcast
    if (algo != "auto" && algo != "ring") fallback("does not apply to broadcast", "ring");
    algo = "ring";
  }

  // Identical groups on identical, link-disjoint parts of the network (tensor-parallel groups each in its own node)
  // take the same time: the flow engine simulates the first and counts the others' traffic, instead of simulating
  // thousands of copies.
  const size_t all_groups = groups.size();
  double copies = 1;
  if (fluid_ && groups.size() > 2 && disjoint_translates(groups)) {
    copies = double(groups.size());
    groups.resize(1);
  }

  std::shared_ptr<Run> run;
  std::string detail;
  const bool bidir = cs.bidirectional;
  if (algo == "ring" && (call.op == "all_reduce" || call.op == "all_gather" || call.op == "reduce_scatter")) {
    const uint64_t steps = call.op == "all_reduce" ? 2 * (p - 1) : p - 1;
    if (multi_node && dims.size() > 1 && dims[0] > 1) {
      run = std::make_shared<RingRun>(*this, node_rings(groups, dims[0]), steps, n / double(p) / double(dims[0]), bidir);
      detail = std::to_string(dims[0]) + std::string(bidir ? " bidirectional" : "") + " rings of " + std::to_string(p) +
               " (one per NIC rail)";
    } else {
      run = std::make_shared<RingRun>(*this, groups, steps, n / double(p), bidir);
      detail = std::string(bidir ? "bidirectional " : "") + "ring of " + std::to_string(p);
    }
  } else if (algo == "hierarchical") {
    std::vector<size_t> order(dims.size());
    for (size_t k = 0; k < dims.size(); ++k) order[k] = k;
    if (!multi_node && call.op == "all_reduce") {
      // A torus: one share of the data per rotation of the dimension order, so every dimension's links work at once.
      auto par = std::make_shared<ParallelRun>(*this);
      const std::vector<double> share = rotation_shares(dims, bidir);
      // Unequal dimensions pipeline their phases (PipelinedRun) in up to 16 pieces, the same number in every rotation
      // (a rotation cut coarser fills and drains its pipeline longer), each piece of a rotation's share at least
      // 4 chunks; equal ones keep whole phases, which is already bandwidth-optimal and costs fewer events.
      const bool equal_dims = std::all_of(dims.begin(), dims.end(), [&](int64_t d) { return d == dims[0]; });
      size_t pieces = 1;
      if (!equal_dims)
        while (pieces * 2 <= kMaxPieces && n / double(dims.size()) / double(pieces * 2) >= 4 * settings().chunk)
          pieces *= 2;
      for (size_t r = 0; r < dims.size(); ++r) {
        if (share[r] <= 0) continue;
        std::vector<size_t> rot(dims.size());
        for (size_t k = 0; k < dims.size(); ++k) rot[k] = order[(k + r) % dims.size()];
        par->parts.push_back(dims_run(*this, groups, dims, rot, n * share[r], call.op, bidir, pieces));
      }
      run = par;
      detail = std::to_string(dims.size()) + " rotations of rings ";
    } else {
      run = std::shared_ptr<Run>(dims_run(*this, groups, dims, order, n, call.op, bidir));
      detail = "rings ";
    }
    for (size_t k = 0; k < dims.size(); ++k) detail += (k ? "x" : "") + std::to_string(dims[k]);
  } else if (algo == "tree") {
    run = std::make_shared<TreeRun>(*this, groups, n);
    detail = "double binary tree of " + std::to_string(p);
  } else if (algo == "halving_doubling") {
    run = std::make_shared<HalvingDoublingRun>(*this, groups, n);
    detail = "recursive halving-doubling of " + std::to_string(p);
  } else if (algo == "in_switch") {
    std::vector<std::vector<uint32_t>> per_group;
    for (const auto& g : groups) {
      per_group.push_back(shared_reduction_switches(g));
      if (per_group.back().size() != switches.size())
        throw InputError("collective '" + call.name + "': groups differ in the reduction switches they share");
    }
    run = std::make_shared<InSwitchRun>(*this, groups, per_group, call.op, n);
    detail = "in-switch reduction on " + std::to_string(switches.size()) + " switches, multicast";
  } else {
    std::vector<FlowsRun::Flow> flows;
    const bool chain = call.op == "broadcast";
    for (const auto& g : groups) {
      if (call.op == "all_to_all") {
        for (size_t i = 0; i < p; ++i)
          for (size_t k = 1; k < p; ++k) flows.push_back({g[i], g[(i + k) % p], n / double(p)});
      } else if (call.op == "send_recv") {
        for (size_t i = 0; i + 1 < p; i += call.chain ? 1 : 2) flows.push_back({g[i], g[i + 1], n});
      } else {
        for (size_t i = 0; i + 1 < p; ++i) flows.push_back({g[i], g[i + 1], n, i + 2 < p, i == 0});
      }
    }
    run = std::make_shared<FlowsRun>(*this, flows);
    detail = call.op == "all_to_all" ? "direct, " + std::to_string(p * (p - 1)) + " flows per group"
             : chain                 ? "pipelined chain of " + std::to_string(p)
                                     : "direct";
  }
  detail += ", " + std::to_string(all_groups) + (all_groups == 1 ? " group" : " groups") +
            (copies > 1 ? " (identical and link-disjoint: one simulated)" : "") + ", chunks of " +
            human(cs.chunk) + note + (fluid() ? ", flow engine" : "");

  // The device pairs that exchange data, for optical circuit switches that must connect them first.
  std::vector<std::pair<int64_t, int64_t>> pairs;
  if (!ocs_.empty())
    for (const auto& g : groups)
      for (size_t i = 0; i < p; ++i) {
        if (algo == "direct" && call.op == "all_to_all")
          for (size_t k = i + 1; k < p; ++k) pairs.push_back({g[i], g[k]});
        else if (algo == "tree")
          for (size_t k : {2 * i + 1, 2 * i + 2}) {
            if (k < p) pairs.push_back({g[i], g[k]}), pairs.push_back({g[p - 1 - i], g[p - 1 - k]});
          }
        else if (algo == "halving_doubling")
          for (size_t k = 1; k < p; k <<= 1) pairs.push_back({g[i], g[i ^ k]});
        else if (algo == "hierarchical") {
          int64_t stride = 1;
          for (auto d : dims) {
            int64_t c = (int64_t(i) / stride) % d;
            pairs.push_back({g[i], g[size_t(int64_t(i) + ((c + 1) % d - c) * stride)]});
            stride *= d;
          }
        } else if (i + 1 < p || (algo == "ring" && p > 2))
          pairs.push_back({g[i], g[(i + 1) % p]});
      }

  const uint64_t t0 = now_ps_;
  auto* raw = run.get();
  raw->copies = copies;
  running_.push_back(run);
  raw->done = [this, raw, done, algo, detail, t0, pairs](uint64_t end) {
    release_circuits(pairs);
    CollectiveOutcome o;
    o.end_ps = std::max(end, t0);
    o.algorithm = algo;
    o.detail = detail;
    for (auto it = running_.begin(); it != running_.end(); ++it)
      if (it->get() == raw) { finished_.push_back(*it); running_.erase(it); break; }
    done(o);
  };
  const uint64_t launch = uint64_t(std::llround(cs.launch_latency_s * 1e12));
  at(now_ps_ + launch, [this, raw, pairs] { with_circuits(pairs, [raw] { raw->start(); }); });
}

}  // namespace xpu
