// Packet switches (NVSwitch, InfiniBand): per-hop latency, output-port contention (the links' own queues), a buffer
// per output port that back-pressures the upstream link when full, and optional in-network reduction (NVLS, SHARP).
#include "models/network/net_element.h"
#include "sim/config/registry.h"

namespace xpu {
namespace {

class SwitchModule : public SwitchTemplate {
 public:
  SwitchModule(sc_core::sc_module_name name, const ParamSet& p) : SwitchTemplate(name, "switch", p) {
    if (p.flag("reduction") && p.qty("reduction_bandwidth") <= 0)
      throw InputError(p.at("reduction_bandwidth").mark,
                       std::string(this->name()) + ": reduction: true needs reduction_bandwidth > 0");
  }
  static std::vector<ParamSpec> specs() {
    return {
        p_count("ports", "64", "ports; the topology may not attach more links than this", 1, 1e6),
        p_qty("latency", Dim::Time, "0.5 us", "port-to-port latency of one traversal"),
        p_qty("buffer", Dim::Bytes, "0 B", "buffer per output port; a fuller queue stalls the sender (0: unbounded)"),
        p_bool("reduction", "false", "reduces data in the switch (NVLink SHARP / NVLS, InfiniBand SHARP)"),
        p_qty("reduction_bandwidth", Dim::Bandwidth, "0 B/s", "reduced bytes per second the switch can produce"),
        p_qty("energy_per_bit", Dim::EnergyPerBit, "2 pJ/bit", "switching energy per bit forwarded"),
        p_real("price", "0", "price of one switch, USD, for the TCO; 0: not priced", 0, 1e9),
    };
  }
  double hop_latency_s() const override { return params().qty("latency"); }
  double buffer_bytes() const override { return params().qty("buffer"); }
  double reduction_bandwidth() const override { return params().flag("reduction") ? params().qty("reduction_bandwidth") : 0; }
  double ports() const override { return double(params().count("ports")); }
  double energy_per_bit() const override { return params().qty("energy_per_bit"); }
};

}  // namespace

// NVSwitch gen3: 64 NVLink4 ports, in-switch reduction (NVLS). Its reduction rate is not published; 610 GB/s of operand
// bytes per switch (a 5-link switch reduces 8 x 5/18 of the data) reproduces the 480 GB/s NVLS all_reduce bus bandwidth of nccl-tests on 8 GPUs
// (hardware_facts.md). Quantum-2 NDR: 64 x 400 Gb/s ports, ~0.5-0.6 us per hop. Prices [E]: a QM9700 64-port NDR
// switch lists at ~$25,000-35,000 (2023 resellers); an NVSwitch3 chip with its share of the HGX baseboard ~$6,000.
XPU_REGISTER_COMPONENT_WITH_PRESETS(
    SwitchModule, "switch",
    "Packet switch: ports, per-hop latency, output buffers with back-pressure, optional in-network reduction",
    SwitchModule::specs(),
    (std::map<std::string, std::map<std::string, std::string>>{
        {"nvswitch3", {{"ports", "64"}, {"latency", "0.25 us"}, {"buffer", "0 B"}, {"reduction", "true"},
                       {"reduction_bandwidth", "610 GB/s"}, {"energy_per_bit", "2 pJ/bit"}, {"static_power", "60 W"},
                       {"price", "6000"}}},
        {"quantum2", {{"ports", "64"}, {"latency", "0.55 us"}, {"buffer", "0 B"}, {"reduction", "false"},
                      {"reduction_bandwidth", "0 B/s"}, {"energy_per_bit", "2 pJ/bit"}, {"static_power", "700 W"},
                      {"price", "30000"}}},
    }));

}  // namespace xpu
