#pragma once
// Base of every hardware block: a SystemC module with validated parameters, declared statistics, energy accounting
// (per action plus static power over time) and area.
#include <systemc>

#include <cstdint>
#include <string>
#include <vector>

#include "sim/config/params.h"
#include "sim/component/stats.h"

namespace xpu {

class Component : public sc_core::sc_module {
 public:
  Component(sc_core::sc_module_name name, const std::string& type, const ParamSet& params);
  const std::string& type() const { return type_; }
  const ParamSet& params() const { return params_; }
  StatGroup& stats() { return stats_; }
  const StatGroup& stats() const { return stats_; }

  // Kinds built of many repeated blocks (CIM tiles) add their per-block area and leakage to these.
  virtual double area_mm2() const { return params_.qty("area"); }
  virtual double static_power_w() const { return params_.qty("static_power"); }
  // Dynamic energy counted per action so far, in joules.
  double dynamic_energy_j() const { return energy_dynamic_.value(); }
  double static_energy_j() const { return energy_static_.value(); }
  // Energy spent moving data (as opposed to computing); memories and links count all their dynamic energy here.
  virtual double data_movement_energy_j() const { return 0; }
  // Fraction of the run this block was busy (0..1); kinds without a notion of busy return 0.
  virtual double utilization(double sim_seconds) const { return 0; }
  // Called once when simulation ends: books static energy for the elapsed time and any final statistics.
  virtual void finish(double sim_seconds);

  // Every number a kernel changes in this block (its statistics, busy times): the kernel memo
  // (sim/engine/kernel_memo.h) records what one kernel changed and adds the same again when an identical kernel runs
  // in the same state, instead of simulating its tiles.
  void read_counters(std::vector<double>& out);
  void add_counters(const double*& delta);

 protected:
  void add_dynamic_energy(double joules) { energy_dynamic_ += joules; }
  // Counters kept outside the statistics (busy picoseconds of ports, ...); the statistics are listed already.
  virtual void extra_counters(std::vector<double*>&, std::vector<uint64_t*>&) {}

  StatGroup stats_;
  Stat energy_dynamic_{&stats_, "energy_dynamic", "J", "energy spent by actions (compute, accesses, transfers)"};
  Stat energy_static_{&stats_, "energy_static", "J", "static (leakage and idle) power integrated over the run"};

 private:
  std::string type_;
  ParamSet params_;
};

}  // namespace xpu
