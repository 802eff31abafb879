// Electrical links (NVLink, PCIe, InfiniBand) and die-to-die links (UCIe): lanes x per-lane rate, less the packet
// or flit header share; a fixed one-way latency; energy per bit. Figures: ../shared/reference/hardware_facts.md.
#include "models/network/net_element.h"
#include "sim/config/registry.h"

namespace xpu {
namespace {

std::vector<ParamSpec> link_specs() {
  return {
      p_qty("bandwidth", Dim::Bandwidth, "", "signalling rate per lane per direction"),
      p_count("lanes", "1", "lanes (links, sub-links) bundled between the two ends", 1, 1e6),
      p_qty("latency", Dim::Time, "0 s", "one-way latency of the first byte (PHY, controller, cable)"),
      p_qty("flit_payload", Dim::Bytes, "0 B", "payload bytes per flit or packet (0: no header overhead)"),
      p_qty("flit_overhead", Dim::Bytes, "0 B", "header/CRC bytes added to each flit or packet"),
      p_qty("energy_per_bit", Dim::EnergyPerBit, "5 pJ/bit", "energy per payload bit carried"),
      p_real("price", "0",
             "price of one instance (the bundle of `lanes`) with its cables, transceivers and share of NICs, USD, for "
             "the TCO; 0: not priced (traces on a baseboard)", 0, 1e9),
  };
}

class LinkModule : public LinkTemplate {
 public:
  LinkModule(sc_core::sc_module_name name, const ParamSet& p, const char* type = "link") : LinkTemplate(name, type, p) {
    if (p.qty("bandwidth") <= 0)
      throw InputError(p.at("bandwidth").mark, std::string(this->name()) + ".bandwidth must be > 0 (a link that carries "
                                                                           "nothing cannot be routed over)");
  }
  double bandwidth() const override {
    const double pay = params().qty("flit_payload"), over = params().qty("flit_overhead");
    const double eff = pay > 0 ? pay / (pay + over) : 1.0;
    return params().qty("bandwidth") * double(params().count("lanes")) * eff;
  }
  double lanes() const override { return double(params().count("lanes")); }
  double latency_s() const override { return params().qty("latency"); }
  double energy_per_bit() const override { return params().qty("energy_per_bit"); }
};

class D2dModule : public LinkModule {
 public:
  D2dModule(sc_core::sc_module_name name, const ParamSet& p) : LinkModule(name, p, "d2d") {}
};

}  // namespace

// NVLink4: 18 links x 25 GB/s per direction (900 GB/s bidirectional), 256 B flits with a 16 B header. PCIe Gen5 x16:
// 64 GB/s per direction, 256 B TLPs with ~24 B of header/framing. InfiniBand NDR: 400 Gb/s, 4 KiB MTU with ~58 B of
// headers, ~1 us NIC-to-NIC port latency; two
// pluggable 400G optics draw ~15 W per link whether or not it carries data (~30 W per 1.6 Tb/s port). Price [E]: two
// 400G transceivers (~$1,000 each, 2023 street prices), fibre and a share of a ConnectX-7 NIC: ~$3,000 per link.
XPU_REGISTER_COMPONENT_WITH_PRESETS(
    LinkModule, "link",
    "Electrical point-to-point link: lanes x per-lane rate per direction, flit overhead, latency, pJ/bit",
    link_specs(),
    (std::map<std::string, std::map<std::string, std::string>>{
        {"nvlink4", {{"bandwidth", "25 GB/s"}, {"lanes", "18"}, {"latency", "0.3 us"}, {"flit_payload", "256 B"},
                     {"flit_overhead", "16 B"}, {"energy_per_bit", "5.5 pJ/bit"}}},
        {"pcie5_x16", {{"bandwidth", "64 GB/s"}, {"lanes", "1"}, {"latency", "0.6 us"}, {"flit_payload", "256 B"},
                       {"flit_overhead", "24 B"}, {"energy_per_bit", "6.5 pJ/bit"}}},
        {"ib_ndr", {{"bandwidth", "50 GB/s"}, {"lanes", "1"}, {"latency", "1 us"}, {"flit_payload", "4096 B"},
                    {"flit_overhead", "58 B"}, {"energy_per_bit", "5.5 pJ/bit"}, {"static_power", "15 W"},
                    {"price", "3000"}}},
    }));

// UCIe die-to-die: 16-lane standard-package module at 32 GT/s is 64 GB/s per direction, 0.5-0.6 pJ/bit; an
// advanced-package x64 module is 256 GB/s per direction at 0.25-0.3 pJ/bit; ~2 ns round trip (hardware_facts.md).
XPU_REGISTER_COMPONENT_WITH_PRESETS(
    D2dModule, "d2d",
    "Die-to-die link between chiplets (UCIe-like): modules x per-module rate, ns latency, sub-pJ/bit",
    link_specs(),
    (std::map<std::string, std::map<std::string, std::string>>{
        {"ucie_standard", {{"bandwidth", "64 GB/s"}, {"lanes", "1"}, {"latency", "1 ns"}, {"flit_payload", "256 B"},
                           {"flit_overhead", "8 B"}, {"energy_per_bit", "0.55 pJ/bit"}}},
        {"ucie_advanced", {{"bandwidth", "256 GB/s"}, {"lanes", "1"}, {"latency", "1 ns"}, {"flit_payload", "256 B"},
                           {"flit_overhead", "8 B"}, {"energy_per_bit", "0.28 pJ/bit"}}},
    }));

}  // namespace xpu
