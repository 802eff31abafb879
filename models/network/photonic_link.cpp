// A WDM photonic link: waveguides (fibres) x wavelengths x per-wavelength rate. Electrical-optical-electrical
// conversion adds a fixed latency and light takes ~5 ns per metre. The lasers and the microring heaters burn power
// whether or not data flows (laser output / wall-plug efficiency, tuning per ring); modulator, driver and receiver
// cost energy per bit. Defaults follow DSENT and published optical I/O (hardware_facts.md, Photonics).
#include "models/network/net_element.h"
#include "sim/config/registry.h"

namespace xpu {
namespace {

class PhotonicLink : public LinkTemplate {
 public:
  PhotonicLink(sc_core::sc_module_name name, const ParamSet& p) : LinkTemplate(name, "photonic_link", p) {
    if (bandwidth() <= 0)
      throw InputError(p.at("rate").mark, std::string(this->name()) + ": waveguides x wavelengths x rate must be > 0");
  }
  static std::vector<ParamSpec> specs() {
    return {
        p_count("waveguides", "1", "waveguides or fibres per direction", 1, 1e6),
        p_count("wavelengths", "16", "WDM wavelengths per waveguide", 1, 1024),
        p_qty("rate", Dim::Bandwidth, "", "data rate per wavelength (e.g. 32 Gb/s NRZ, 112 Gb/s PAM4)"),
        p_real("coding_efficiency", "0.97", "payload share after line coding and FEC", 0.01, 1),
        p_qty("eoe_latency", Dim::Time, "5 ns", "electrical-optical-electrical conversion latency (serdes, driver, TIA)"),
        p_real("length_m", "2", "fibre or waveguide length in metres", 0, 1e6),
        p_qty("flight_per_m", Dim::Time, "5 ns", "time of flight per metre (group index ~1.47)"),
        p_qty("laser_power", Dim::Power, "1 mW", "optical power per wavelength the laser must deliver"),
        p_real("wall_plug_efficiency", "0.25", "laser electrical-to-optical efficiency", 0.001, 1),
        p_qty("tuning_power", Dim::Power, "50 uW", "thermal tuning per microring (a modulator and a filter per wavelength)"),
        p_qty("energy_per_bit", Dim::EnergyPerBit, "1 pJ/bit", "modulator, driver, receiver and serdes energy per bit"),
        p_real("price", "0", "price of one instance (its fibres, lasers and transceivers), USD, for the TCO; 0: not priced",
               0, 1e9),
    };
  }
  double bandwidth() const override {
    return double(params().count("waveguides") * params().count("wavelengths")) * params().qty("rate") *
           params().real("coding_efficiency");
  }
  double latency_s() const override {
    return params().qty("eoe_latency") + params().real("length_m") * params().qty("flight_per_m");
  }
  double lanes() const override { return double(params().count("waveguides")); }
  double energy_per_bit() const override { return params().qty("energy_per_bit"); }
  // Both directions: lasers for every wavelength of every waveguide, and two rings per wavelength at each end.
  double extra_static_w() const override {
    const double lambdas = 2.0 * double(params().count("waveguides") * params().count("wavelengths"));
    return lambdas * (params().qty("laser_power") / params().real("wall_plug_efficiency") +
                      2 * 2 * params().qty("tuning_power"));
  }
};

class CircuitSwitch : public SwitchTemplate {
 public:
  CircuitSwitch(sc_core::sc_module_name name, const ParamSet& p) : SwitchTemplate(name, "optical_circuit_switch", p) {}
  static std::vector<ParamSpec> specs() {
    return {
        p_count("ports", "136", "optical ports (each one fibre in and out)", 2, 1e6),
        p_qty("reconfiguration_time", Dim::Time, "1.2 ms", "time to set new circuits (no traffic meanwhile)"),
        p_qty("latency", Dim::Time, "0 s", "added latency of a traversal (passive MEMS mirrors: none)"),
        p_qty("energy_per_bit", Dim::EnergyPerBit, "0 pJ/bit", "energy per bit switched (passive: none)"),
        p_real("price", "0", "price of one switch, USD, for the TCO; 0: not priced", 0, 1e9),
    };
  }
  double hop_latency_s() const override { return params().qty("latency"); }
  bool circuit_switched() const override { return true; }
  double reconfiguration_s() const override { return params().qty("reconfiguration_time"); }
  double ports() const override { return double(params().count("ports")); }
  double energy_per_bit() const override { return params().qty("energy_per_bit"); }
};

}  // namespace

// Lightmatter Passage-like: 16 wavelengths x 56 Gb/s per fibre.
XPU_REGISTER_COMPONENT_WITH_PRESETS(
    PhotonicLink, "photonic_link",
    "WDM photonic link: waveguides x wavelengths x rate, E/O/E latency, flight time, laser and ring-tuning power",
    PhotonicLink::specs(),
    (std::map<std::string, std::map<std::string, std::string>>{
        {"passage_like", {{"wavelengths", "16"}, {"rate", "56 Gb/s"}, {"energy_per_bit", "1.2 pJ/bit"}}},
        {"teraphy_like", {{"wavelengths", "8"}, {"rate", "32 Gb/s"}, {"energy_per_bit", "2 pJ/bit"}}},
    }));

// Palomar-like MEMS OCS: 136 x 136 ports, ~1.2 ms median reconfiguration, passive.
XPU_REGISTER_COMPONENT(CircuitSwitch, "optical_circuit_switch",
                       "Optical circuit switch: ports, reconfiguration time; circuits set per phase of the workload",
                       CircuitSwitch::specs());

}  // namespace xpu
