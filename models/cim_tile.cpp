#include "models/cim_tile.h"

#include <fnmatch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

#include "models/sim_time.h"
#include "sim/config/registry.h"

namespace xpu {
namespace {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

uint64_t to_ps(double s) { return ps_from_seconds(s, "compute-in-memory tiles"); }

}  // namespace

std::vector<ParamSpec> CimTiles::param_specs() {
  return {
      p_count("tiles", "", "CIM tiles on the device", 1, 1e9),
      p_count("arrays_per_tile", "", "crossbar arrays per tile (ISAAC: 12 IMAs x 8 crossbars = 96)", 1, 1e6),
      p_count("rows", "128", "rows (wordlines) of one array", 1, 1e6),
      p_count("columns", "128", "columns (bitlines) of one array", 1, 1e6),
      p_choice("cell", "rram", {"rram", "pcm", "sram"}, "cell technology (sram cells hold 1 bit)"),
      p_count("bits_per_cell", "2", "bits stored per cell (conductance levels = 2^bits)", 1, 8),
      p_count("weight_bits", "8", "weight precision: a weight is bit-sliced over ceil(weight_bits/bits_per_cell) columns",
              1, 32),
      p_count("input_bits", "8", "input precision, applied bit-serially", 1, 32),
      p_count("output_bits", "16", "precision of a result written to the output buffer and memory", 1, 64),
      p_count("dac_bits", "1", "input bits applied per array cycle (1: bit-serial; radix-4 Booth digital macros: 2)", 1,
              16),
      p_count("rows_active", "0",
              "rows driven at once; 0: as many as the ADC resolves losslessly (ISAAC's rule, with its 1-bit encoding "
              "saving: 2^(adc_bits - bits_per_cell - dac_bits + 2) when either is 1 bit, else + 1), at most rows",
              0, 1e6),
      p_count("adc_bits", "8", "ADC resolution; 0: a digital macro (an adder tree per column, no converter)", 0, 16),
      p_count("adcs_per_array", "1", "converters shared by the columns of one array", 1, 1e6),
      p_qty("array_read_time", Dim::Time, "100 ns",
            "one array cycle: drive the rows, settle the bitlines, sample (digital macros: one clock)"),
      p_qty("adc_conversion_time", Dim::Time, "0 s", "one conversion; a cycle lasts at least columns/adcs of them"),
      p_count("adc_reference_bits", "0",
              "resolution at which adc_energy and adc_conversion_time are given; other adc_bits scale them as a SAR "
              "converter does (energy x 2^dbits, time x bits ratio); 0: no scaling", 0, 16),
      p_qty("accumulate_latency", Dim::Time, "1 ns", "one stage of the adder tree joining partial sums of arrays"),
      p_qty("dac_energy", Dim::EnergyPerOp, "0 pJ/op", "driving one row input for one cycle (DAC or wordline driver)"),
      p_qty("array_energy", Dim::EnergyPerOp, "0 pJ/op", "one array activation: bitline currents, sample-and-hold"),
      p_qty("adc_energy", Dim::EnergyPerOp, "0 pJ/op", "one conversion (digital macros: one column adder-tree output)"),
      p_qty("shift_add_energy", Dim::EnergyPerOp, "0 pJ/op", "shifting and adding one column result into its sum"),
      p_qty("accumulate_energy", Dim::EnergyPerOp, "0 pJ/op", "one partial-sum addition across arrays"),
      p_qty("buffer_energy", Dim::EnergyPerBit, "0 pJ/bit", "tile input/output buffer access per bit"),
      p_qty("input_buffer", Dim::Bytes, "64 KiB", "input buffer per tile: input vectors staged per wave"),
      p_qty("write_latency", Dim::Time, "100 ns", "programming one row of an array (cells of a row in parallel, "
                                                  "with verify)"),
      p_qty("write_energy", Dim::EnergyPerOp, "1 pJ/op", "programming one cell"),
      p_qty("program_bandwidth", Dim::Bandwidth, "100 GB/s",
            "weight bytes per second the tiles' write drivers accept, all tiles together"),
      p_real("endurance", "1e8", "writes a cell survives", 1),
      p_qty("tile_area", Dim::Area, "0 mm2", "area of one tile's periphery (buffers, ADCs, shift-add, router)"),
      p_qty("array_area", Dim::Area, "0 mm2", "area of one array"),
      p_qty("tile_static_power", Dim::Power, "0 W", "leakage and refresh of one tile"),
      p_string("ops", "matmul, embedding_bag", "op kinds the tiles take (matmul, embedding_bag)"),
      p_string("match", "\"*\"", "comma-separated name patterns (fnmatch) of the ops the tiles take, e.g. '*_proj'"),
      p_choice("overflow", "reload", {"reload", "digital"},
               "weights beyond capacity: written into a swap region at each use (reload) or run on the compute core"),
      p_bool("replicate", "true", "copy weights into spare arrays so more input vectors run at once"),
  };
}

CimTiles::CimTiles(sc_core::sc_module_name name, const ParamSet& p) : Component(name, "cim_tile", p) {
  const std::string me = this->name();
  tiles_ = int64_t(p.count("tiles"));
  arrays_per_tile_ = int64_t(p.count("arrays_per_tile"));
  total_arrays_ = tiles_ * arrays_per_tile_;
  spec_.rows = int64_t(p.count("rows"));
  spec_.columns = int64_t(p.count("columns"));
  spec_.bits_per_cell = int64_t(p.count("bits_per_cell"));
  if (p.str("cell") == "sram" && spec_.bits_per_cell != 1)
    throw InputError(p.at("cell").mark, me + ".cell is sram but bits_per_cell is " +
                                            std::to_string(spec_.bits_per_cell) + " (an sram cell holds 1 bit)");
  spec_.weight_bits = int64_t(p.count("weight_bits"));
  spec_.input_bits = int64_t(p.count("input_bits"));
  spec_.output_bits = int64_t(p.count("output_bits"));
  spec_.dac_bits = int64_t(p.count("dac_bits"));
  spec_.adc_bits = int64_t(p.count("adc_bits"));
  if (p.count("rows_active")) {
    spec_.rows_active = int64_t(p.count("rows_active"));
  } else if (spec_.adc_bits > 0) {
    // Rows whose summed products the converter still resolves exactly (Shafiee et al., ISCA 2016, Section 4).
    const int64_t one_bit = spec_.dac_bits == 1 || spec_.bits_per_cell == 1 ? 1 : 0;
    const int64_t log_rows = spec_.adc_bits - spec_.bits_per_cell - spec_.dac_bits + 1 + one_bit;
    if (log_rows < 0)
      throw InputError(p.at("adc_bits").mark, me + ": a " + std::to_string(spec_.adc_bits) +
                                                  "-bit ADC cannot resolve even one row of " +
                                                  std::to_string(spec_.bits_per_cell) + "-bit cells");
    spec_.rows_active = std::min<int64_t>(spec_.rows, int64_t(1) << std::min<int64_t>(log_rows, 40));
  } else {
    spec_.rows_active = spec_.rows;
  }
  spec_.adcs_per_array = int64_t(p.count("adcs_per_array"));
  if (spec_.cells_per_weight() > spec_.columns)
    throw InputError(p.at("weight_bits").mark, me + ": a " + std::to_string(spec_.weight_bits) + "-bit weight needs " +
                                                   std::to_string(spec_.cells_per_weight()) +
                                                   " columns but an array has " + std::to_string(spec_.columns));
  spec_.array_read_s = p.qty("array_read_time");
  if (spec_.array_read_s <= 0) throw InputError(p.at("array_read_time").mark, me + ".array_read_time must be > 0");
  spec_.adc_conversion_s = p.qty("adc_conversion_time");
  spec_.accumulate_s = p.qty("accumulate_latency");
  spec_.dac_j = p.qty("dac_energy");
  spec_.array_j = p.qty("array_energy");
  spec_.adc_j = p.qty("adc_energy");
  if (const int64_t ref = int64_t(p.count("adc_reference_bits")); ref > 0 && spec_.adc_bits > 0) {
    spec_.adc_j *= std::pow(2.0, double(spec_.adc_bits - ref));
    spec_.adc_conversion_s *= double(spec_.adc_bits) / double(ref);
  }
  spec_.shift_add_j = p.qty("shift_add_energy");
  spec_.accumulate_j = p.qty("accumulate_energy");
  spec_.buffer_j_per_bit = p.qty("buffer_energy");
  spec_.write_j_per_cell = p.qty("write_energy");
  spec_.write_row_s = p.qty("write_latency");
  program_bw_ = p.qty("program_bandwidth");
  if (program_bw_ <= 0) throw InputError(p.at("program_bandwidth").mark, me + ".program_bandwidth must be > 0");
  endurance_ = p.real("endurance");
  input_buffer_ = p.qty("input_buffer");
  overflow_ = p.str("overflow");
  replicate_ = p.flag("replicate");
  kinds_ = split_list(p.str("ops"));
  for (const auto& k : kinds_)
    if (k != "matmul" && k != "embedding_bag")
      throw InputError(p.at("ops").mark, me + ".ops: '" + k + "' cannot run on CIM tiles (expected matmul, embedding_bag)");
  patterns_ = split_list(p.str("match"));
  if (patterns_.empty()) throw InputError(p.at("match").mark, me + ".match: expected at least one pattern");
  arrays_total_.set(double(total_arrays_));
  SC_METHOD(on_event);
  sensitive << wake_;
  dont_initialize();
}

double CimTiles::area_mm2() const {
  return Component::area_mm2() +
         double(tiles_) * (params().qty("tile_area") + double(arrays_per_tile_) * params().qty("array_area"));
}

double CimTiles::static_power_w() const {
  return Component::static_power_w() + double(tiles_) * params().qty("tile_static_power");
}

double CimTiles::peak_flops() const {
  CimMatrixMap one = cim_map(spec_, spec_.rows, spec_.weights_per_row());
  CimPassCost c = cim_mvm(spec_, one);
  return 2.0 * double(spec_.rows * spec_.weights_per_row()) * double(total_arrays_) / (c.cycles * c.cycle_s);
}

void CimTiles::bind_memory(std::vector<DataPort*> to_memory, uint64_t latency_ps) {
  to_memory_ = std::move(to_memory);
  memory_latency_ps_ = latency_ps;
}

// Expected distinct row blocks a bag of `pooling` random rows touches.
double CimTiles::lookup_blocks(const Weight& w, int64_t pooling) const {
  const double rb = double(w.map.row_blocks);
  return rb <= 1 ? 1.0 : rb * (1 - std::pow(1 - 1 / rb, double(pooling)));
}

void CimTiles::plan(const Workload& wl, const std::map<std::string, std::string>& classes) {
  wl_ = &wl;
  op_weight_.assign(wl.ops.size(), -1);
  std::set<std::string> written;
  for (const auto& op : wl.ops)
    for (const auto& t : op.writes) written.insert(t.name);
  auto resident_as = [&](const std::string& name, const char* cls) {
    auto it = classes.find(name);
    return !written.count(name) && it != classes.end() && it->second == cls;
  };
  auto matches = [&](const std::string& name) {
    for (const auto& p : patterns_)
      if (fnmatch(p.c_str(), name.c_str(), 0) == 0) return true;
    return false;
  };
  std::map<std::string, int> index;
  std::map<int, double> max_call;  // most vectors one op pushes through a weight (replicas beyond it do not help)
  for (size_t i : topological_order(wl)) {
    const Op& op = wl.ops[i];
    if (std::find(kinds_.begin(), kinds_.end(), op_kind_name(op.kind)) == kinds_.end() || !matches(op.name)) continue;
    Weight w;
    double vectors = 0;
    if (op.kind == OpKind::matmul) {
      const auto& s = std::get<MatmulShape>(op.shape);
      if (!s.b_shared || op.reads.size() < 2 || !resident_as(op.reads[1].name, "weights")) continue;
      w.name = op.reads[1].name;
      w.map = cim_map(spec_, s.k, s.n);
      w.workload_bytes = double(s.k) * s.n * dtype_bytes(op.dtype);
      vectors = double(s.batch) * s.m;
      const CimPassCost pass = cim_mvm(spec_, w.map);
      w.pass_s = pass.cycles * pass.cycle_s;
    } else if (op.kind == OpKind::embedding_bag) {
      const auto& s = std::get<EmbeddingBagShape>(op.shape);
      if (op.reads.empty() || !resident_as(op.reads[0].name, "embeddings")) continue;
      w.name = op.reads[0].name;
      w.lookup = true;
      w.tables = s.tables;
      w.map = cim_map(spec_, s.rows, s.dim);
      w.workload_bytes = double(s.tables) * s.rows * s.dim * dtype_bytes(op.dtype);
      // Bags spread over the row blocks of a table, so one copy serves rb / touched bags at once.
      vectors = double(s.batch) * lookup_blocks(w, s.pooling) / double(w.map.row_blocks);
      w.pass_s = spec_.array_read_s;
    } else {
      continue;
    }
    w.arrays = w.map.arrays() * w.tables;
    auto [it, fresh] = index.emplace(w.name, int(weights_.size()));
    if (fresh) weights_.push_back(w);
    Weight& have = weights_[it->second];
    if (have.map.k != w.map.k || have.map.n != w.map.n || have.tables != w.tables) continue;  // another view of it
    have.vectors += vectors;
    max_call[it->second] = std::max(max_call[it->second], vectors);
    op_weight_[i] = it->second;
  }

  // Placement: everything stays if it fits; otherwise weights in order of first use stay while the rest of the
  // arrays can still hold the largest of the others, which is written there at each use (or left to the core).
  int64_t total = 0, largest = 0;
  for (const auto& w : weights_) { total += w.arrays; largest = std::max(largest, w.arrays); }
  int64_t budget = total <= total_arrays_ ? total_arrays_
                   : overflow_ == "reload" ? total_arrays_ - std::min(largest, total_arrays_) : total_arrays_;
  int64_t used = 0;
  for (auto& w : weights_)
    if (used + w.arrays <= budget) { w.pinned = true; used += w.arrays; }
  if (overflow_ == "digital")
    for (size_t i = 0; i < op_weight_.size(); ++i)
      if (op_weight_[i] >= 0 && !weights_[op_weight_[i]].pinned) op_weight_[i] = -1;
  swap_arrays_ = total > total_arrays_ && overflow_ == "reload" ? total_arrays_ - used : 0;

  // Replicas in the spare arrays, each to the weight whose vectors take the longest.
  int64_t spare = total_arrays_ - used - swap_arrays_;
  std::priority_queue<std::pair<double, int>> heap;
  if (replicate_)
    for (size_t i = 0; i < weights_.size(); ++i)
      if (weights_[i].pinned && max_call[int(i)] > 1) heap.push({weights_[i].vectors * weights_[i].pass_s, int(i)});
  double extra = 0;
  while (!heap.empty()) {
    auto [t, i] = heap.top();
    heap.pop();
    Weight& w = weights_[i];
    if (w.arrays > spare || double(w.replicas) >= max_call[i]) continue;
    ++w.replicas;
    spare -= w.arrays;
    extra += 1;
    heap.push({w.vectors / double(w.replicas) * w.pass_s, i});
  }

  double pinned_bytes = 0, cells = 0;
  int64_t rows = 0;
  for (const auto& w : weights_) {
    if (!w.pinned) continue;
    CimProgramCost c = cim_program(spec_, w.map, program_bw_);
    pinned_bytes += c.bytes * w.tables * w.replicas;
    cells += c.cells * w.tables * w.replicas;
    rows = std::max(rows, std::min(w.map.k, spec_.rows));
    pinned_workload_bytes_ += w.workload_bytes;
  }
  pinned_.set(pinned_bytes);
  replicas_.set(extra);
  arrays_used_.set(double(total_arrays_ - spare));
  init_time_.set(std::max(pinned_bytes / program_bw_, double(rows) * spec_.write_row_s));
  init_energy_.set(cells * spec_.write_j_per_cell);
}

uint64_t CimTiles::move(uint64_t now, double bytes, bool write) {
  uint64_t end = now;
  if (bytes <= 0) return end;
  for (DataPort* d : to_memory_) end = std::max(end, d->transfer(now, bytes, Access::stream, write));
  return end;
}

void CimTiles::launch(size_t op_index, std::function<void(const KernelReport&, const std::string&)> done) {
  const uint64_t now = sc_core::sc_time_stamp().value();
  const Op& op = wl_->ops[op_index];
  Weight& w = weights_[op_weight_[op_index]];
  size_t slot = 0;
  while (slot < jobs_.size() && jobs_[slot].done) ++slot;
  if (slot == jobs_.size()) jobs_.emplace_back();
  Job& j = jobs_[slot];
  j = Job{};
  j.op = op_index;
  j.w = op_weight_[op_index];
  j.done = std::move(done);
  j.rep.start_s = now * 1e-12;
  double macs_per_vector = 0;
  char buf[320];
  if (!w.lookup) {
    const auto& s = std::get<MatmulShape>(op.shape);
    j.vectors = double(s.batch) * s.m;
    j.pass = cim_mvm(spec_, w.map);
    j.parallel = double(w.replicas);
    j.in_bytes = double(s.k) * spec_.input_bits / 8.0;
    j.out_bytes = double(s.n) * spec_.output_bits / 8.0;
    j.energy_per_vector = j.pass.energy_j;
    macs_per_vector = double(s.k) * s.n;
    std::snprintf(buf, sizeof buf, "cim: %lldx%lld weights (%lld-bit, %lld cells each) over %lldx%lld arrays of %lldx%lld, "
                  "%lld cop%s, %g cycles x %.3g ns per vector",
                  (long long)s.k, (long long)s.n, (long long)spec_.weight_bits, (long long)spec_.cells_per_weight(),
                  (long long)w.map.row_blocks, (long long)w.map.col_blocks, (long long)spec_.rows,
                  (long long)spec_.columns, (long long)w.replicas, w.replicas == 1 ? "y" : "ies", j.pass.cycles,
                  j.pass.cycle_s * 1e9);
  } else {
    const auto& s = std::get<EmbeddingBagShape>(op.shape);
    const double touched = lookup_blocks(w, s.pooling);
    j.vectors = double(s.batch);
    const int64_t per_block = int64_t(std::ceil(double(s.pooling) / touched));
    j.pass = cim_pass(spec_, w.map, double(s.pooling), per_block, 1, int64_t(std::ceil(touched)));
    j.parallel = double(w.replicas) * std::max(1.0, double(w.map.row_blocks) / touched);
    j.in_bytes = double(s.pooling) * 8 * s.tables;  // int64 indices
    j.out_bytes = double(s.dim) * spec_.output_bits / 8.0 * s.tables;
    j.energy_per_vector = j.pass.energy_j * s.tables;
    macs_per_vector = double(s.pooling) * s.dim * s.tables;
    std::snprintf(buf, sizeof buf, "cim: %lld tables of %lldx%lld over %lldx%lld arrays each, %.1f row blocks per bag "
                  "(1-bit multi-hot rows), %lld cop%s",
                  (long long)s.tables, (long long)s.rows, (long long)s.dim, (long long)w.map.row_blocks,
                  (long long)w.map.col_blocks, touched, (long long)w.replicas, w.replicas == 1 ? "y" : "ies");
  }
  j.mapping = buf;
  if (!w.pinned) {
    j.slices = (w.arrays + swap_arrays_ - 1) / swap_arrays_;
    j.mapping += j.slices > 1 ? ", written into the swap region in " + std::to_string(j.slices) + " slices"
                              : ", written into the swap region";
  }
  // Inputs staged per wave: what the input buffers of the tiles holding one copy take.
  const double copy_tiles = std::ceil(double(w.arrays) / double(j.slices) / double(arrays_per_tile_));
  j.per_wave = std::max(1.0, std::floor(input_buffer_ * copy_tiles / std::max(1.0, j.in_bytes)));
  j.waves = int64_t(std::ceil(std::ceil(j.vectors / j.parallel) / j.per_wave));
  j.rep.matrix_flops = 2 * macs_per_vector * j.vectors;
  j.rep.compute_s = std::ceil(j.vectors / j.parallel) * j.pass.cycles * j.pass.cycle_s * double(j.slices);
  ops_ += 1;
  vectors_ += j.vectors;
  macs_ += macs_per_vector * j.vectors;
  start_slice(j, std::max(now, w.pinned ? w.free_ps : swap_free_ps_));
  start_wave(slot, now);
}

// A weight outside the pinned set (or the next slice of one) is written into the swap region first: its bytes come
// from memory, and the arrays take a row at a time, or the write drivers' bandwidth, whichever is slower.
void CimTiles::start_slice(Job& j, uint64_t start) {
  j.wave = 0;
  j.compute_free = start;
  j.inputs_ready = 0;
  Weight& w = weights_[j.w];
  if (w.pinned) return;
  CimProgramCost c = cim_program(spec_, w.map, program_bw_);
  const double f = double(w.tables) / double(j.slices);
  const double bytes = c.bytes * f, cells = c.cells * f;
  const uint64_t data = move(start, bytes, false) + memory_latency_ps_;
  const uint64_t written = start + to_ps(std::max(bytes / program_bw_, double(std::min(w.map.k, spec_.rows)) * spec_.write_row_s));
  const uint64_t end = std::max(data, written);
  const double e = cells * spec_.write_j_per_cell;
  add_dynamic_energy(e);
  j.rep.energy_j += e;
  j.rep.miss_bytes += bytes;
  program_time_ += (end - start) * 1e-12;
  j.rep.program_s += (end - start) * 1e-12;
  program_energy_ += e;
  cells_written_ += cells;
  reloads_ += 1;
  swap_writes_ += 1;
  j.compute_free = end;
}

// One wave: every copy of the matrix takes the vectors its tiles' input buffers hold; the next wave's inputs load
// while this one computes (double buffering), results go back to memory as the wave ends.
void CimTiles::start_wave(size_t slot, uint64_t now) {
  Job& j = jobs_[slot];
  const double per_copy_total = std::ceil(j.vectors / j.parallel);
  const double done_per_copy = double(j.wave) * j.per_wave;
  const double n = std::min(j.per_wave, per_copy_total - done_per_copy);  // vectors per copy in this wave
  const double vs = std::min(j.vectors - done_per_copy * j.parallel, n * j.parallel);
  const double frac = 1.0 / double(j.slices);
  uint64_t in_ready = j.inputs_ready;
  if (!in_ready) {
    in_ready = move(now, vs * j.in_bytes, false) + memory_latency_ps_;
    j.rep.miss_bytes += vs * j.in_bytes;
  }
  const uint64_t c_start = std::max(in_ready, j.compute_free);
  const double pipe = j.pass.latency_s - j.pass.cycles * j.pass.cycle_s;
  const uint64_t c_end = c_start + to_ps(n * j.pass.cycles * j.pass.cycle_s + pipe);
  j.compute_free = c_end;
  Weight& w = weights_[j.w];
  array_busy_s_ += (c_end - c_start) * 1e-12 * double(w.arrays) * frac * std::min(double(w.replicas), vs);
  const uint64_t out_end = move(c_end, vs * j.out_bytes, true);
  j.rep.write_bytes += vs * j.out_bytes;
  const double e = vs * j.energy_per_vector * frac;
  const double eb = vs * j.pass.buffer_bits * spec_.buffer_j_per_bit * frac * (w.lookup ? double(w.tables) : 1.0);
  add_dynamic_energy(e);
  buffer_energy_j_ += eb;
  j.rep.energy_j += e;
  activations_ += vs * j.pass.activations * frac * (w.lookup ? double(w.tables) : 1.0);
  conversions_ += vs * j.pass.conversions * frac * (w.lookup ? double(w.tables) : 1.0);
  dacs_ += vs * j.pass.dac * frac * (w.lookup ? double(w.tables) : 1.0);
  ++j.wave;
  j.inputs_ready = 0;
  if (j.wave < j.waves) {
    const double next = std::min(j.per_wave, per_copy_total - double(j.wave) * j.per_wave) * j.parallel;
    const double nv = std::min(next, j.vectors - double(j.wave) * j.per_wave * j.parallel);
    // The loads of a stream stay in flight back to back: only the first wave waits a whole memory latency.
    j.inputs_ready = std::max(move(c_start, nv * j.in_bytes, false), c_start + 1);
    j.rep.miss_bytes += nv * j.in_bytes;
  }
  wakeups_.push({std::max(c_end, out_end), slot});
  wake_.notify(sc_core::sc_time::from_value(wakeups_.top().first - now));
}

void CimTiles::on_event() {
  const uint64_t now = sc_core::sc_time_stamp().value();
  while (!wakeups_.empty() && wakeups_.top().first <= now) {
    const size_t slot = wakeups_.top().second;
    wakeups_.pop();
    ++events_;
    Job& j = jobs_[slot];
    if (j.wave < j.waves) { start_wave(slot, now); continue; }
    if (++j.slice < j.slices) {
      start_slice(j, now);
      start_wave(slot, now);
      continue;
    }
    Weight& w = weights_[j.w];
    (w.pinned ? w.free_ps : swap_free_ps_) = now;
    j.rep.end_s = now * 1e-12;
    j.rep.tiles = uint64_t(std::ceil(double(w.arrays) / arrays_per_tile_)) * uint64_t(w.replicas);
    j.rep.waves = uint64_t(j.waves * j.slices);
    auto done = std::move(j.done);
    j.done = nullptr;
    done(j.rep, j.mapping);
  }
  if (!wakeups_.empty()) wake_.notify(sc_core::sc_time::from_value(wakeups_.top().first - now));
}

double CimTiles::utilization(double s) const {
  return s > 0 && total_arrays_ > 0 ? std::min(1.0, array_busy_s_ / (double(total_arrays_) * s)) : 0;
}

void CimTiles::finish(double s) {
  Component::finish(s);
  const bool any_pinned = pinned_.value() > 0;
  const double max_writes = double(any_pinned || swap_writes_ > 0) + swap_writes_;
  max_writes_.set(max_writes);
  endurance_used_.set(max_writes / endurance_);
  // Wear during the run only (the initial write happens once per deployment).
  lifetime_.set(swap_writes_ > 0 && s > 0 ? endurance_ / (swap_writes_ / s) : 0);
}

// isaac: Shafiee et al., ISCA 2016, Table 6 (32 nm). Per-action energies are the component powers divided by their
// action rates at one crossbar cycle per 100 ns: ADC 2 mW at 1.28 GS/s; 8 x 128 DACs 4 mW; crossbar 0.3 mW plus
// sample-and-hold; 4 S+A units 0.2 mW per IMA over 1,024 column results per cycle; tile S+A 0.05 mW; eDRAM 20.7 mW,
// bus 7 mW, tile OR 1.68 mW and IMA registers 12 x 1.47 mW = 47 mW per tile over 12,288 input bits per cycle.
// Static: the router share (42 mW per 4 tiles) and always-on tile logic. Area: 0.372 mm2 per tile with its 96
// crossbars (8 crossbars 0.0002 mm2). Writes: ~11 us per 128-row crossbar (PUMA, Ankit et al. ASPLOS 2019); 2 pJ per
// cell with verify (estimate); endurance 1e8 (review, PMC5105152).
// isscc22_digital: Tu et al., ISSCC 2022 15.5 (28 nm): 64 banks of 32 x 48 bit cells, radix-4 Booth (two input
// bits per 195 MHz cycle), an adder tree per column; the split of its 32.8 mW at full load among actions is ours.
XPU_REGISTER_COMPONENT_WITH_PRESETS(
    CimTiles, "cim_tile",
    "Compute-in-memory tiles: crossbar arrays (RRAM/PCM/SRAM) with DACs, shared ADCs, shift-and-add and buffers; "
    "runs matmuls against stationary weights and embedding lookups in memory",
    CimTiles::param_specs(),
    (std::map<std::string, std::map<std::string, std::string>>{
        {"isaac", {{"arrays_per_tile", "96"}, {"rows", "128"}, {"columns", "128"}, {"cell", "rram"},
                   {"bits_per_cell", "2"}, {"dac_bits", "1"}, {"adc_bits", "8"}, {"adcs_per_array", "1"},
                   {"array_read_time", "100 ns"}, {"adc_conversion_time", "0.78125 ns"}, {"adc_reference_bits", "8"},
                   {"accumulate_latency", "1 ns"}, {"adc_energy", "1.5625 pJ/op"}, {"dac_energy", "0.39 pJ/op"},
                   {"array_energy", "30.1 pJ/op"}, {"shift_add_energy", "0.0195 pJ/op"},
                   {"accumulate_energy", "0.05 pJ/op"}, {"buffer_energy", "0.38 pJ/bit"}, {"input_buffer", "64 KiB"},
                   {"write_latency", "86 ns"}, {"write_energy", "2 pJ/op"}, {"program_bandwidth", "200 GB/s"},
                   {"endurance", "1e8"}, {"tile_area", "0.3696 mm2"}, {"array_area", "0.000025 mm2"},
                   {"tile_static_power", "11.5 mW"}}},
        {"isscc22_digital", {{"arrays_per_tile", "64"}, {"rows", "32"}, {"columns", "48"}, {"cell", "sram"},
                             {"bits_per_cell", "1"}, {"dac_bits", "2"}, {"adc_bits", "0"},
                             {"array_read_time", "5.128 ns"}, {"accumulate_latency", "5.128 ns"},
                             {"dac_energy", "0.005 pJ/op"}, {"array_energy", "0.9 pJ/op"},
                             {"adc_energy", "0.025 pJ/op"}, {"shift_add_energy", "0.0075 pJ/op"},
                             {"accumulate_energy", "0.01 pJ/op"}, {"buffer_energy", "0.02 pJ/bit"},
                             {"input_buffer", "16 KiB"}, {"write_latency", "5.128 ns"}, {"write_energy", "0.01 pJ/op"},
                             {"endurance", "1e16"}, {"tile_area", "0.428 mm2"}, {"array_area", "0.008 mm2"},
                             {"tile_static_power", "0.5 mW"}}},
    }));

}  // namespace xpu
