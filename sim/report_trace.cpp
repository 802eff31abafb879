#include "sim/report_trace.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace xpu {

namespace {

using nlohmann::json;

constexpr int kOpsPid = 1;

double us(double s) { return s * 1e6; }

json meta(const char* what, int pid, int tid, const std::string& name) {
  json e = {{"ph", "M"}, {"pid", pid}, {"name", what}, {"args", {{"name", name}}}};
  if (tid >= 0) e["tid"] = tid;
  return e;
}

json sort_index(const char* what, int pid, int tid, int index) {
  json e = {{"ph", "M"}, {"pid", pid}, {"name", what}, {"args", {{"sort_index", index}}}};
  if (tid >= 0) e["tid"] = tid;
  return e;
}

// dur as a difference of converted times, so that back-to-back slices meet exactly after conversion.
json slice(const std::string& name, int pid, int tid, double start_s, double end_s) {
  double ts = us(start_s);
  return {{"ph", "X"}, {"name", name}, {"pid", pid}, {"tid", tid}, {"ts", ts}, {"dur", us(end_s) - ts}};
}

std::string unit_label(const std::string& unit) { return unit.empty() ? "(no unit)" : unit; }

// Ops that overlap on one unit (concurrent streams) cannot share a track: the viewers would nest or reject
// them. Each op goes on the unit's first track that is free by its start; extra tracks appear only if needed.
struct OpTracks {
  std::vector<std::string> units;                 // first-appearance order
  std::map<std::string, size_t> unit_index;
  std::vector<int> op_tid;                        // per op
  std::vector<std::pair<int, std::string>> threads;  // tid, name
};

OpTracks assign_tracks(const std::vector<OpRecord>& ops) {
  OpTracks t;
  std::vector<std::vector<size_t>> by_unit;
  for (size_t i = 0; i < ops.size(); ++i) {
    auto [it, fresh] = t.unit_index.emplace(ops[i].unit, t.units.size());
    if (fresh) {
      t.units.push_back(ops[i].unit);
      by_unit.emplace_back();
    }
    by_unit[it->second].push_back(i);
  }
  t.op_tid.assign(ops.size(), 0);
  int next_tid = 1;
  for (size_t u = 0; u < by_unit.size(); ++u) {
    auto& idx = by_unit[u];
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return ops[a].start_s < ops[b].start_s; });
    std::vector<std::pair<int, double>> tracks;  // tid, end of its last op
    for (size_t i : idx) {
      auto free = std::find_if(tracks.begin(), tracks.end(),
                               [&](const auto& tr) { return tr.second <= ops[i].start_s; });
      if (free == tracks.end()) {
        std::string name = unit_label(t.units[u]);
        if (!tracks.empty()) name += " #" + std::to_string(tracks.size() + 1);
        t.threads.emplace_back(next_tid, name);
        tracks.emplace_back(next_tid++, ops[i].start_s);
        free = tracks.end() - 1;
      }
      free->second = std::max(free->second, ops[i].end_s);
      t.op_tid[i] = free->first;
    }
  }
  return t;
}

json op_slice(const OpRecord& op, int tid) {
  json e = slice(op.name, kOpsPid, tid, op.start_s, op.end_s);
  e["cat"] = op.kind.empty() ? "op" : op.kind;
  e["args"] = {{"index", op.index},         {"kind", op.kind},   {"variant", op.variant},
               {"layer", op.layer},         {"dtype", op.dtype}, {"flops", op.flops},
               {"bytes", op.bytes},         {"cache_bytes", op.cache_bytes},
               {"bound", bound_name(op.bound)}, {"tiles", op.tiles}, {"waves", op.waves},
               {"modelled", op.modelled}};
  return e;
}

// Rates summed over the ops running at each instant: overlapping ops on different units add up.
void add_counters(json& events, const std::vector<OpRecord>& ops) {
  struct Edge {
    double t;
    int dir;  // +1 start, -1 end
    size_t op;
  };
  std::vector<Edge> edges;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (!(ops[i].end_s > ops[i].start_s)) continue;
    edges.push_back({ops[i].start_s, +1, i});
    edges.push_back({ops[i].end_s, -1, i});
  }
  std::stable_sort(edges.begin(), edges.end(), [](const Edge& a, const Edge& b) { return a.t < b.t; });
  // All edges at one instant are applied before a value is emitted, so back-to-back ops do not spike; the
  // rates are summed afresh over the running ops, as a running add/subtract would leave rounding residue.
  std::set<size_t> running;
  double last_gbps = -1, last_tflops = -1;
  for (size_t i = 0; i < edges.size();) {
    double t = edges[i].t;
    for (; i < edges.size() && edges[i].t == t; ++i) {
      if (edges[i].dir > 0) running.insert(edges[i].op);
      else running.erase(edges[i].op);
    }
    double gbps = 0, tflops = 0;
    for (size_t k : running) {
      double d = ops[k].duration_s();
      gbps += ops[k].bytes / d / 1e9;
      tflops += ops[k].flops / d / 1e12;
    }
    if (gbps != last_gbps)
      events.push_back({{"ph", "C"}, {"name", "HBM bandwidth"}, {"pid", kOpsPid}, {"ts", us(t)},
                        {"args", {{"GB/s", gbps}}}});
    if (tflops != last_tflops)
      events.push_back({{"ph", "C"}, {"name", "Compute"}, {"pid", kOpsPid}, {"ts", us(t)},
                        {"args", {{"TFLOP/s", tflops}}}});
    last_gbps = gbps;
    last_tflops = tflops;
  }
}

void add_tiles(json& events, const RunResult& r, const OpTracks& tracks, size_t max_tiles) {
  if (r.tiles.empty()) return;
  // TileRecord.op names OpRecord.index, which is normally the op's position; map it in case it is not.
  std::unordered_map<size_t, size_t> pos;
  for (size_t i = 0; i < r.ops.size(); ++i) pos.emplace(r.ops[i].index, i);
  int first_pid = kOpsPid + 1;
  std::vector<std::set<uint32_t>> lanes(tracks.units.size());  // lanes seen per unit
  size_t kept = std::min(max_tiles, r.tiles.size());
  for (size_t k = 0; k < kept; ++k) {
    const TileRecord& tile = r.tiles[k];
    auto it = pos.find(tile.op);
    if (it == pos.end()) continue;  // a tile of an op not in the result: nothing to attach it to
    const OpRecord& op = r.ops[it->second];
    size_t u = tracks.unit_index.at(op.unit);
    lanes[u].insert(tile.lane);
    json e = slice(op.name, first_pid + int(u), int(tile.lane) + 1, tile.start_s, tile.end_s);
    e["cat"] = "tile";
    e["args"] = {{"op", op.index}};
    events.push_back(std::move(e));
  }
  for (size_t u = 0; u < lanes.size(); ++u) {
    if (lanes[u].empty()) continue;
    int pid = first_pid + int(u);
    events.push_back(meta("process_name", pid, -1, unit_label(tracks.units[u]) + " tiles"));
    events.push_back(sort_index("process_sort_index", pid, -1, pid));
    for (uint32_t lane : lanes[u]) {
      int tid = int(lane) + 1;
      events.push_back(meta("thread_name", pid, tid, "lane " + std::to_string(lane)));
      events.push_back(sort_index("thread_sort_index", pid, tid, tid));
    }
  }
  if (kept < r.tiles.size()) {
    events.push_back({{"ph", "i"}, {"s", "g"}, {"name", "tiles truncated"}, {"pid", kOpsPid}, {"tid", 0},
                      {"ts", us(r.tiles[kept].start_s)},
                      {"args", {{"kept", kept}, {"total", r.tiles.size()}}}});
  }
}

}  // namespace

nlohmann::json result_to_chrome_trace(const RunResult& r, size_t max_tiles) {
  json events = json::array();
  OpTracks tracks = assign_tracks(r.ops);
  events.push_back(meta("process_name", kOpsPid, -1, r.hw_name.empty() ? "xpusim" : r.hw_name));
  events.push_back(sort_index("process_sort_index", kOpsPid, -1, kOpsPid));
  for (const auto& [tid, name] : tracks.threads) {
    events.push_back(meta("thread_name", kOpsPid, tid, name));
    events.push_back(sort_index("thread_sort_index", kOpsPid, tid, tid));
  }
  for (size_t i = 0; i < r.ops.size(); ++i) events.push_back(op_slice(r.ops[i], tracks.op_tid[i]));
  add_counters(events, r.ops);
  add_tiles(events, r, tracks, max_tiles);
  return {{"traceEvents", std::move(events)}, {"displayTimeUnit", "ns"}};
}

}  // namespace xpu
