#pragma once
// Compute-in-memory tiles: crossbar arrays holding weights (weight-stationary), fed bit-serial inputs through DACs,
// read out by shared ADCs (or a digital adder tree), partial sums joined digitally across arrays. A workload's
// matmuls against resident weights and its embedding lookups run here; everything else stays on the digital core.
// Weights are placed once before the run; spare arrays hold replicas (more input vectors at once); weights that do
// not fit are written into a swap region each time they are used, and that programming time, energy and wear show
// in the result.
#include <queue>
#include <map>
#include <string>
#include <vector>

#include "models/cim_array.h"
#include "models/op_engine.h"
#include "sim/component/component.h"

namespace xpu {

class CimTiles : public Component, public OpEngine {
 public:
  SC_HAS_PROCESS(CimTiles);
  CimTiles(sc_core::sc_module_name name, const ParamSet& p);
  static std::vector<ParamSpec> param_specs();

  std::string engine_name() const override { return name(); }
  void bind_memory(std::vector<DataPort*> to_memory, uint64_t latency_ps) override;
  void plan(const Workload& wl, const std::map<std::string, std::string>& resident_class) override;
  bool takes(size_t op) const override { return op < op_weight_.size() && op_weight_[op] >= 0; }
  double resident_bytes() const override { return pinned_workload_bytes_; }
  void launch(size_t op, std::function<void(const KernelReport&, const std::string&)> done) override;
  double peak_flops() const override;
  uint64_t events() const override { return events_; }

  const CimArraySpec& array() const { return spec_; }
  int64_t total_arrays() const { return total_arrays_; }
  double area_mm2() const override;
  double static_power_w() const override;
  double utilization(double sim_seconds) const override;
  double data_movement_energy_j() const override { return buffer_energy_j_; }
  void finish(double sim_seconds) override;

 private:
  // A weight matrix (or the embedding tables of one op) and where it lives.
  struct Weight {
    std::string name;
    bool lookup = false;        // embedding tables: multi-hot rows, 1-bit inputs
    int64_t tables = 1;         // copies of the matrix shape side by side (embedding tables)
    CimMatrixMap map;           // one table's arrays
    int64_t arrays = 0;         // one copy, all tables
    double workload_bytes = 0;  // at the workload's dtype (what device memory would otherwise hold)
    double vectors = 0;         // input vectors per run over all its ops (sizes replication)
    double pass_s = 0;          // array time of one vector
    bool pinned = false;
    int64_t replicas = 1;
    uint64_t free_ps = 0;       // its arrays are busy until then (pinned only)
  };
  struct Job {
    size_t op = 0;
    int w = -1;
    double vectors = 0;          // input vectors through one copy of the matrix (per table for lookups)
    double parallel = 1;         // vectors served at once (replicas; spread over row blocks for lookups)
    int64_t slices = 1, slice = 0;
    int64_t waves = 1, wave = 0;
    double per_wave = 0;         // vectors per replica in a wave (bounded by the tiles' input buffers)
    CimPassCost pass;
    double in_bytes = 0, out_bytes = 0;  // per vector
    double energy_per_vector = 0;
    uint64_t compute_free = 0;   // the arrays finish the current wave then
    uint64_t inputs_ready = 0;   // the next wave's inputs are in the buffers then
    KernelReport rep;
    std::string mapping;
    std::function<void(const KernelReport&, const std::string&)> done;
  };

  void on_event();
  void start_slice(Job& j, uint64_t now);
  void start_wave(size_t slot, uint64_t now);
  uint64_t move(uint64_t now, double bytes, bool write);
  double lookup_blocks(const Weight& w, int64_t pooling) const;

  CimArraySpec spec_;
  int64_t tiles_ = 0, arrays_per_tile_ = 0, total_arrays_ = 0;
  double program_bw_ = 0, endurance_ = 0, input_buffer_ = 0;
  std::string overflow_;
  bool replicate_ = true;
  std::vector<std::string> kinds_, patterns_;
  std::vector<DataPort*> to_memory_;
  uint64_t memory_latency_ps_ = 0;

  const Workload* wl_ = nullptr;
  std::vector<Weight> weights_;
  std::vector<int> op_weight_;       // weight index per op, -1: not taken
  int64_t swap_arrays_ = 0;          // arrays left for weights that are written on use
  uint64_t swap_free_ps_ = 0;
  double swap_writes_ = 0;           // programming rounds of the swap region (its cells' wear)
  double pinned_workload_bytes_ = 0;
  double buffer_energy_j_ = 0;
  double array_busy_s_ = 0;          // array-seconds busy

  std::vector<Job> jobs_;
  std::priority_queue<std::pair<uint64_t, size_t>, std::vector<std::pair<uint64_t, size_t>>,
                      std::greater<std::pair<uint64_t, size_t>>> wakeups_;
  sc_core::sc_event wake_;
  uint64_t events_ = 0;

  Stat ops_{&stats_, "ops", "", "ops run on the tiles"};
  Stat vectors_{&stats_, "input_vectors", "", "input vectors pushed through a weight matrix"};
  Stat macs_{&stats_, "macs", "MAC", "multiply-accumulates performed in the arrays"};
  Stat activations_{&stats_, "array_activations", "", "array cycles (all rows driven, bitlines sensed)"};
  Stat conversions_{&stats_, "adc_conversions", "", "ADC conversions (digital macros: adder-tree outputs)"};
  Stat dacs_{&stats_, "dac_conversions", "", "row inputs driven"};
  Stat arrays_used_{&stats_, "arrays_used", "", "arrays holding weights (all copies and the swap region)"};
  Stat arrays_total_{&stats_, "arrays_total", "", "arrays on the device"};
  Stat pinned_{&stats_, "weights_pinned", "B", "weight bytes (at the tiles' precision) held for the whole run"};
  Stat replicas_{&stats_, "replicas", "", "extra copies of weights placed in spare arrays"};
  Stat init_time_{&stats_, "initial_program_time", "s", "writing the pinned weights before the run (not in the run time)"};
  Stat init_energy_{&stats_, "initial_program_energy", "J", "energy of that initial programming (not in the run energy)"};
  Stat reloads_{&stats_, "reprograms", "", "weight matrices written into the swap region during the run"};
  Stat program_time_{&stats_, "program_time", "s", "time spent writing weights during the run"};
  Stat program_energy_{&stats_, "program_energy", "J", "energy of writing weights during the run"};
  Stat cells_written_{&stats_, "cells_written", "", "cells programmed during the run"};
  Stat max_writes_{&stats_, "max_cell_writes", "", "most writes any cell took during the run (initial write included)"};
  Stat endurance_used_{&stats_, "endurance_used", "", "max_cell_writes / endurance"};
  Stat lifetime_{&stats_, "lifetime", "s", "time until the most-written cells reach their endurance at this run's rate (0: no writes in the run)"};
};

}  // namespace xpu
