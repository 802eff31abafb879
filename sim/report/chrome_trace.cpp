#include "sim/report/chrome_trace.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <queue>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/report/json_stream.h"

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

void name_thread(const JsonEmit& emit, int pid, int tid, const std::string& name) {
  emit(meta("thread_name", pid, tid, name));
  emit(sort_index("thread_sort_index", pid, tid, tid));
}

// dur as a difference of converted times, so that back-to-back slices meet exactly after conversion.
json slice(const std::string& name, int pid, int tid, double start_s, double end_s) {
  double ts = us(start_s);
  return {{"ph", "X"}, {"name", name}, {"pid", pid}, {"tid", tid}, {"ts", ts}, {"dur", us(end_s) - ts}};
}

std::string unit_label(const std::string& unit) { return unit.empty() ? "(no unit)" : unit; }

// Slices that partly overlap on one track are rejected or mis-nested by the viewers, and overlap is real here:
// concurrent ops on a unit, several resident tiles on one SM. Each item goes on the first row free at its
// start; returns the row per item (items in any order) and the number of rows.
std::vector<int> pack_rows(const std::vector<std::pair<double, double>>& spans, int& rows) {
  std::vector<size_t> order(spans.size());
  std::iota(order.begin(), order.end(), 0);
  auto by_start = [&](size_t a, size_t b) { return spans[a].first < spans[b].first; };
  std::stable_sort(order.begin(), order.end(), by_start);
  // Busy rows by end time and free rows by index: O(n log n) even when thousands of spans overlap.
  using Busy = std::pair<double, int>;
  std::priority_queue<Busy, std::vector<Busy>, std::greater<Busy>> busy;
  std::priority_queue<int, std::vector<int>, std::greater<int>> free;
  std::vector<int> row(spans.size());
  rows = 0;
  for (size_t i : order) {
    while (!busy.empty() && busy.top().first <= spans[i].first) {
      free.push(busy.top().second);
      busy.pop();
    }
    int k = rows;
    if (free.empty()) ++rows;
    else {
      k = free.top();
      free.pop();
    }
    busy.emplace(std::max(spans[i].first, spans[i].second), k);
    row[i] = k;
  }
  return row;
}

std::string row_name(const std::string& base, int row) {
  return row == 0 ? base : base + " #" + std::to_string(row + 1);
}

struct Units {
  std::vector<std::string> names;  // first-appearance order in the ops
  std::map<std::string, size_t> index;
};

Units units_of(const std::vector<OpRecord>& ops) {
  Units u;
  for (const auto& op : ops)
    if (u.index.emplace(op.unit, u.names.size()).second) u.names.push_back(op.unit);
  return u;
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

void add_ops(const JsonEmit& emit, const std::vector<OpRecord>& ops, const Units& units) {
  std::vector<std::vector<size_t>> by_unit(units.names.size());
  for (size_t i = 0; i < ops.size(); ++i) by_unit[units.index.at(ops[i].unit)].push_back(i);
  std::vector<int> tid(ops.size());
  int next_tid = 1;
  for (size_t u = 0; u < by_unit.size(); ++u) {
    std::vector<std::pair<double, double>> spans;
    for (size_t i : by_unit[u]) spans.emplace_back(ops[i].start_s, ops[i].end_s);
    int rows = 0;
    std::vector<int> row = pack_rows(spans, rows);
    for (int k = 0; k < rows; ++k)
      name_thread(emit, kOpsPid, next_tid + k, row_name(unit_label(units.names[u]), k));
    for (size_t j = 0; j < by_unit[u].size(); ++j) tid[by_unit[u][j]] = next_tid + row[j];
    next_tid += rows;
  }
  for (size_t i = 0; i < ops.size(); ++i) emit(op_slice(ops[i], tid[i]));
}

// Rates summed over the ops running at each instant: overlapping ops on different units add up.
void add_counters(const JsonEmit& emit, const RunResult& r) {
  const std::vector<OpRecord>& ops = r.ops;
  // Static power of one device is there all the time; ops add their dynamic energy over their duration.
  const double static_w = r.total_time_s > 0 ? r.energy_static_j / r.total_time_s / double(std::max<int64_t>(1, r.devices)) : 0;
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
  double last_gbps = -1, last_tflops = -1, last_net = -1, last_w = -1;
  for (size_t i = 0; i < edges.size();) {
    double t = edges[i].t;
    for (; i < edges.size() && edges[i].t == t; ++i) {
      if (edges[i].dir > 0) running.insert(edges[i].op);
      else running.erase(edges[i].op);
    }
    double gbps = 0, tflops = 0, net = 0, watts = static_w;
    for (size_t k : running) {
      double d = ops[k].duration_s();
      gbps += ops[k].bytes / d / 1e9;
      tflops += ops[k].flops / d / 1e12;
      net += ops[k].net_bytes / d / 1e9;
      watts += ops[k].energy_j / d;
    }
    if (r.devices > 1 && net != last_net)
      emit({{"ph", "C"}, {"name", "Link bandwidth (payload per device)"}, {"pid", kOpsPid}, {"ts", us(t)},
                        {"args", {{"GB/s", net}}}});
    if (watts != last_w)
      emit({{"ph", "C"}, {"name", "Power (one device)"}, {"pid", kOpsPid}, {"ts", us(t)},
                        {"args", {{"W", watts}}}});
    last_net = net;
    last_w = watts;
    if (gbps != last_gbps)
      emit({{"ph", "C"}, {"name", "HBM bandwidth"}, {"pid", kOpsPid}, {"ts", us(t)},
                        {"args", {{"GB/s", gbps}}}});
    if (tflops != last_tflops)
      emit({{"ph", "C"}, {"name", "Compute"}, {"pid", kOpsPid}, {"ts", us(t)},
                        {"args", {{"TFLOP/s", tflops}}}});
    last_gbps = gbps;
    last_tflops = tflops;
  }
}

// Tiles go to one process per unit, "<unit> tiles", with a thread per lane (and extra rows for a lane's
// concurrently resident tiles).
void add_tiles(const JsonEmit& emit, const RunResult& r, const Units& units, size_t max_tiles) {
  if (r.tiles.empty()) return;
  // TileRecord.op names OpRecord.index, which is normally the op's position; map it in case it is not.
  std::unordered_map<size_t, size_t> pos;
  for (size_t i = 0; i < r.ops.size(); ++i) pos.emplace(r.ops[i].index, i);
  size_t kept = std::min(max_tiles, r.tiles.size());

  // (unit, lane) -> kept tiles on it, unit and lane in ascending order so thread ids are stable.
  std::map<std::pair<size_t, uint32_t>, std::vector<size_t>> lanes;
  std::vector<size_t> tile_op(kept, SIZE_MAX);
  std::set<size_t> recording_units;
  for (size_t k = 0; k < kept; ++k) {
    auto it = pos.find(r.tiles[k].op);
    if (it == pos.end()) continue;  // a tile of an op not in the result: nothing to attach it to
    tile_op[k] = it->second;
    size_t u = units.index.at(r.ops[it->second].unit);
    recording_units.insert(u);
    lanes[{u, r.tiles[k].lane}].push_back(k);
  }

  std::vector<int> tid(kept, 0);
  std::map<size_t, int> next_tid;  // per unit
  for (const auto& [key, tiles] : lanes) {
    auto [u, lane] = key;
    int pid = kOpsPid + 1 + int(u);
    auto [nt, fresh] = next_tid.emplace(u, 1);
    if (fresh) {
      emit(meta("process_name", pid, -1, unit_label(units.names[u]) + " tiles"));
      emit(sort_index("process_sort_index", pid, -1, pid));
    }
    std::vector<std::pair<double, double>> spans;
    for (size_t k : tiles) spans.emplace_back(r.tiles[k].start_s, r.tiles[k].end_s);
    int rows = 0;
    std::vector<int> row = pack_rows(spans, rows);
    for (int j = 0; j < rows; ++j)
      name_thread(emit, pid, nt->second + j, row_name("lane " + std::to_string(lane), j));
    for (size_t j = 0; j < tiles.size(); ++j) tid[tiles[j]] = nt->second + row[j];
    nt->second += rows;
  }

  for (size_t k = 0; k < kept; ++k) {
    if (tile_op[k] == SIZE_MAX) continue;
    const OpRecord& op = r.ops[tile_op[k]];
    json e = slice(op.name, kOpsPid + 1 + int(units.index.at(op.unit)), tid[k], r.tiles[k].start_s,
                   r.tiles[k].end_s);
    e["cat"] = "tile";
    e["args"] = {{"op", op.index}};
    emit(std::move(e));
  }

  // The engine may have stopped recording before we see the tiles; the ops' tile counts on the units that
  // record tiles tell how many there were.
  uint64_t total = r.tiles.size();
  uint64_t expected = 0;
  for (const auto& op : r.ops)
    if (recording_units.count(units.index.at(op.unit))) expected += op.tiles;
  total = std::max(total, expected);
  if (kept < total) {
    double ts = kept < r.tiles.size() ? r.tiles[kept].start_s : r.tiles[kept - 1].end_s;
    emit({{"ph", "i"}, {"s", "g"}, {"name", "tiles truncated"}, {"pid", kOpsPid}, {"tid", 0},
                      {"ts", us(ts)}, {"args", {{"kept", kept}, {"total", total}}}});
  }
}

void chrome_trace_events(const RunResult& r, size_t max_tiles, const JsonEmit& emit) {
  Units units = units_of(r.ops);
  emit(meta("process_name", kOpsPid, -1, r.hw_name.empty() ? "xpusim" : r.hw_name));
  emit(sort_index("process_sort_index", kOpsPid, -1, kOpsPid));
  add_ops(emit, r.ops, units);
  add_counters(emit, r);
  add_tiles(emit, r, units, max_tiles);
}

const nlohmann::json& chrome_trace_head() {
  static const nlohmann::json head = {{"displayTimeUnit", "ns"}};
  return head;
}

}  // namespace

nlohmann::json result_to_chrome_trace(const RunResult& r, size_t max_tiles) {
  json events = json::array();
  chrome_trace_events(r, max_tiles, [&](const json& e) { events.push_back(e); });
  json j = chrome_trace_head();
  j["traceEvents"] = std::move(events);
  return j;
}

void write_chrome_trace(const std::string& path, const RunResult& r, size_t max_tiles) {
  write_json_file_streamed(path, chrome_trace_head(), "traceEvents",
                           [&](const JsonEmit& emit) { chrome_trace_events(r, max_tiles, emit); }, -1);
}

}  // namespace xpu
