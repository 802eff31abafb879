#include "sim/config/technology.h"

#include <algorithm>
#include <stdexcept>

namespace xpu {

const std::vector<ParamSpec>& technology_params() {
  // No defaults: each node gives every figure (below), so a field a node forgot is a programming error caught by
  // the test that parses every node.
  static const std::vector<ParamSpec> specs = [] {
    std::vector<ParamSpec> s = {
        // Area.
        p_real("logic_scale", "",
               "area of a logic block (controllers, schedulers, crossbars) relative to the same block at N7, for "
               "high-performance (HPC-library) designs", 0.01, 10),
        p_qty("mac_area", Dim::Area, "",
              "area of a matrix unit per bf16 multiply-accumulate per clock, operand staging and accumulators "
              "included; other dtypes scale by their multiplier width (models/README.md, `Area and cost`)"),
        p_qty("vector_lane_area", Dim::Area, "",
              "area of one fp32 FMA vector lane with its share of int32, fp64, register-file ports and dispatch"),
        p_qty("sram_area_per_mib", Dim::Area, "",
              "area of 1 MiB of cache or scratchpad macro with its periphery (sense amplifiers, decoders, redundancy); "
              "tags and ECC are added by the cache's own model"),
        p_qty("crossbar_area_per_tbps", Dim::Area, "",
              "area of on-chip interconnect (crossbar, cache-slice ports) per TB/s of bandwidth it carries"),
        p_real("integration_overhead", "",
               "die area beyond the blocks (clock and power grid, test, top-level routing, whitespace), as a share of "
               "the blocks' area", 0, 2),
        p_real("leakage_w_per_mm2", "", "static (leakage and clock-tree idle) power per mm² of logic die", 0, 10),
        p_real("metal_half_pitch", "",
               "half the tightest metal pitch (nm): the F of a cross-point memory cell (RRAM/PCM crossbars, 4 F²)", 1,
               1000),
        // Energy.
        p_qty("mac_energy", Dim::EnergyPerOp, "",
              "energy of one bf16 multiply-accumulate with operand delivery (register file, shared memory) at the "
              "nominal voltage; other dtypes scale like the multiplier area"),
        p_qty("vector_energy", Dim::EnergyPerOp, "", "energy of one fp32 vector operation at the nominal voltage"),
        p_qty("sram_energy", Dim::EnergyPerBit, "", "energy per bit read from a large on-chip SRAM (writes: +15 %)"),
        p_qty("crossbar_energy", Dim::EnergyPerBit, "", "energy per bit carried across the on-chip crossbar (a few mm)"),
        p_real("nominal_voltage", "", "core voltage the energies above are quoted at (V)", 0.3, 2),
        p_real("voltage", "",
               "core voltage the design runs at (V); dynamic energies scale as (voltage / nominal_voltage)^2", 0.3, 2),
        // Price.
        p_real("wafer_price", "", "price of one processed 300 mm wafer (USD)", 1, 1e7),
        p_real("defect_density", "", "killer defects per cm² (D0)", 0, 100),
        p_real("defect_clustering", "",
               "clustering parameter alpha of the negative-binomial yield model Y = (1 + A·D0/alpha)^-alpha "
               "(large: defects spread evenly, Poisson)", 0.1, 1000),
        p_real("wafer_diameter", "", "wafer diameter (mm)", 50, 1000),
        p_real("edge_exclusion", "", "unusable ring at the wafer edge (mm)", 0, 50),
        p_real("scribe", "", "scribe line between dies (mm)", 0, 5),
        p_real("interposer_price_per_mm2", "",
               "price of silicon interposer (CoWoS-S class) per mm², for designs with HBM (USD)", 0, 100),
        p_real("package_price", "", "substrate, assembly and final test of one package (USD)", 0, 1e7),
        p_real("assembly_yield", "", "share of packages that survive assembly (a lost package loses its dies and HBM)",
               0.01, 1),
    };
    return s;
  }();
  return specs;
}

const std::map<std::string, std::map<std::string, TechFigure>>& technology_nodes() {
  // The common figures first: the same on every node unless a node replaces them.
  static const std::map<std::string, std::map<std::string, TechFigure>> nodes = [] {
    const std::map<std::string, TechFigure> common = {
        {"integration_overhead",
         {"0.10", "[E] 10 % of block area for clock, power grid, test and whitespace (McPAT/LLMCompass-style "
                  "whole-die overhead)"}},
        {"nominal_voltage", {"0.75", "[E] typical N7-N3 high-performance core supply"}},
        {"voltage", {"0.75", "the nominal voltage unless the config sets another"}},
        {"defect_clustering",
         {"3", "negative binomial with alpha = 3, the usual choice in die-cost models (Cunningham, IEEE TSM 1990)"}},
        {"wafer_diameter", {"300", "300 mm wafers"}},
        {"edge_exclusion", {"3", "[E] 3 mm unusable edge"}},
        {"scribe", {"0.1", "[E] 100 um scribe lines"}},
        {"interposer_price_per_mm2",
         {"0.30", "[E] CoWoS-S: analysts put H100's package at ~$700-1,000 (2023) for ~2,500 mm² of interposer"}},
        {"package_price", {"150", "[E] organic substrate, assembly and final test of a large GPU package"}},
        {"assembly_yield", {"0.98", "[E] CoWoS assembly yield of a mature product"}},
    };
    std::map<std::string, std::map<std::string, TechFigure>> n;
    n["n7"] = {
        {"logic_scale", {"1.0", "reference node"}},
        {"mac_area", {"620 um2", "[E] chosen with the die areas of the A100 (N7, 826 mm²) and H100 (4N, 814 mm²) in view, with the published N7->N4 scaling: an in-sample check (models/README.md)"}},
        {"vector_lane_area", {"0.010 mm2", "[E] fp32 FMA ~0.004 mm² at 7 nm plus its int32/fp64 share, register-file ports and operand collectors"}},
        {"sram_area_per_mib",
         {"1.05 mm2", "AMD Zen 2 (N7): 16 MiB L3 macro ~16.8 mm² (ISSCC 2020); TSMC N7 HD bit cell 0.027 um²"}},
        {"crossbar_area_per_tbps", {"4 mm2", "[E] crossbar of a GA100-class die: ~28 mm² for 7 TB/s"}},
        {"leakage_w_per_mm2", {"0.075", "[E] ~60 W idle of an A100 SXM board, less HBM, over 826 mm²"}},
        {"metal_half_pitch", {"20", "TSMC N7 minimum metal pitch 40 nm (WikiChip)"}},
        {"mac_energy", {"2.1 pJ/MAC", "[E] set so that an A100 at 1.41 GHz draws its 400 W under dense bf16"}},
        {"vector_energy", {"2.5 pJ/op", "[E] fp32 FMA with register-file access at 7 nm (Dally/Keckler tables scaled)"}},
        {"sram_energy", {"0.9 pJ/bit", "[E] LLC access ~50 pJ per 64-bit word at 45 nm (Dally), scaled to 7 nm"}},
        {"crossbar_energy", {"0.4 pJ/bit", "~0.1-0.2 pJ/bit/mm on-chip wires (Keckler/Dally) over a few mm"}},
        {"wafer_price", {"9346", "CSET, Khan & Mann, 'AI Chips: What They Are and Why They Matter' (2020), Table 9"}},
        {"defect_density", {"0.09", "TSMC Technology Symposium 2020: N7 D0 ~0.09 /cm²"}},
    };
    n["n5"] = {
        {"logic_scale",
         {"0.60", "TSMC: N5 has 1.84x the logic density of N7 (IEDM 2019) for dense libraries; HPC designs realise "
                  "~1.67x [E]"}},
        {"mac_area", {"372 um2", "N7 x logic_scale"}},
        {"vector_lane_area", {"0.006 mm2", "N7 x logic_scale"}},
        {"sram_area_per_mib", {"0.82 mm2", "TSMC N5 HD bit cell 0.021 um² vs 0.027 um² on N7 (IEDM 2019)"}},
        {"crossbar_area_per_tbps", {"2.6 mm2", "[E] wires scale less than logic: N7 x 0.65"}},
        {"leakage_w_per_mm2", {"0.09", "[E] denser transistors leak more per mm²"}},
        {"metal_half_pitch", {"14", "TSMC N5 minimum metal pitch 28 nm (WikiChip)"}},
        {"mac_energy", {"1.47 pJ/MAC", "TSMC: N5 -30 % power at the same speed as N7"}},
        {"vector_energy", {"1.75 pJ/op", "N7 x 0.70 (TSMC iso-speed power)"}},
        {"sram_energy", {"0.65 pJ/bit", "N7 x 0.72 [E]"}},
        {"crossbar_energy", {"0.32 pJ/bit", "N7 x 0.8 [E] wires scale slowly"}},
        {"wafer_price", {"16988", "CSET, Khan & Mann (2020), Table 9"}},
        {"defect_density", {"0.10", "TSMC: N5 D0 below 0.10 /cm² in volume (Technology Symposium 2020)"}},
    };
    n["n4"] = {
        {"logic_scale", {"0.565", "TSMC: N4 a further 6 % area reduction over N5"}},
        {"mac_area", {"350 um2", "N7 x logic_scale"}},
        {"vector_lane_area", {"0.00565 mm2", "N7 x logic_scale"}},
        {"sram_area_per_mib", {"0.82 mm2", "same 0.021 um² bit cell as N5"}},
        {"crossbar_area_per_tbps", {"2.5 mm2", "[E] N5 x 0.96"}},
        {"leakage_w_per_mm2", {"0.095", "[E] ~90 W idle of an H100 SXM board, less HBM, over 814 mm²"}},
        {"metal_half_pitch", {"14", "N4 keeps N5's 28 nm metal pitch"}},
        {"mac_energy", {"1.40 pJ/MAC", "N5 x 0.95 (TSMC: N4 lowers power a few % over N5; N4P -22 %)"}},
        {"vector_energy", {"1.66 pJ/op", "N5 x 0.95"}},
        {"sram_energy", {"0.6 pJ/bit", "N5 x 0.93 [E]"}},
        {"crossbar_energy", {"0.3 pJ/bit", "N5 x 0.95 [E]"}},
        {"wafer_price", {"18000", "[E] N5 price plus ~6 % for N4 (reported 2022-23 contract prices)"}},
        {"defect_density", {"0.08", "[E] mature N5-family yield"}},
    };
    n["n3"] = {
        {"logic_scale",
         {"0.444", "TSMC: N3E 1.6x the logic density of N5 for dense libraries; HPC designs ~1.35x [E]"}},
        {"mac_area", {"275 um2", "N7 x logic_scale"}},
        {"vector_lane_area", {"0.00444 mm2", "N7 x logic_scale"}},
        {"sram_area_per_mib", {"0.80 mm2", "TSMC N3E HD bit cell 0.021 um², no shrink from N5 (IEDM 2022)"}},
        {"crossbar_area_per_tbps", {"2.1 mm2", "[E] N5 x 0.8"}},
        {"leakage_w_per_mm2", {"0.10", "[E]"}},
        {"metal_half_pitch", {"11.5", "TSMC N3E minimum metal pitch 23 nm (WikiChip)"}},
        {"mac_energy", {"1.03 pJ/MAC", "TSMC: N3E -30 to -35 % power at the same speed as N5"}},
        {"vector_energy", {"1.2 pJ/op", "N5 x 0.68"}},
        {"sram_energy", {"0.5 pJ/bit", "N5 x 0.77 [E]"}},
        {"crossbar_energy", {"0.27 pJ/bit", "N5 x 0.85 [E]"}},
        {"wafer_price", {"20000", "reported TSMC N3 wafer price ~$20,000 (2023 press)"}},
        {"defect_density", {"0.10", "[E] N3 in its second year of volume"}},
    };
    for (auto& [name, figures] : n)
      for (const auto& [k, f] : common) figures.emplace(k, f);
    return n;
  }();
  return nodes;
}

const std::map<std::string, PhyKind>& phy_kinds() {
  static const std::map<std::string, PhyKind> kinds = [] {
    std::map<std::string, PhyKind> k;
    auto add = [&](PhyKind p) { k[p.name] = p; };
    // HBM: one item is a stack's 1024-bit interface. Controller: [E] ~4 mm² of scheduler and queues at N7.
    add({"hbm2e", "stack", 10.45, 4.0, 460e9, 3.9e-12, 10, 92, 2.0,
         "PHY 10.45 mm² per 1024-bit interface (LLMCompass cost model, from die shots); 3.6 Gb/s/pin; 3.9 pJ/bit "
         "(O'Connor et al., MICRO 2017); ~$10/GB [E]; 7.75 x 11.87 mm stack; ~2 W idle per stack [E]"});
    add({"hbm3", "stack", 11.0, 4.0, 819e9, 3.9e-12, 15, 121, 2.5,
         "PHY ~11 mm² [E: HBM2e + 5 %]; 6.4 Gb/s/pin (JEDEC JESD238); ~$15/GB (analysts' 2023 H100 bill of "
         "materials: ~$1,200 for 80 GB) [E]; 11 x 11 mm stack; ~2.5 W idle [E]"});
    add({"hbm3e", "stack", 11.5, 4.0, 1229e9, 3.9e-12, 20, 121, 2.5,
         "PHY ~11.5 mm² [E]; 9.6 Gb/s/pin; 3.9 pJ/bit (Samsung HBM3E); ~$20/GB [E: 2024 contract prices]"});
    // SerDes: one item is a lane (one differential pair each way). Controller/MAC logic per lane [E] at N7.
    add({"pcie4", "lane", 0.48, 0.05, 1.97e9, 5e-12, 0, 0, 0.05,
         "0.48 mm² per lane (LLMCompass cost model); 16 GT/s 128b/130b; ~5 pJ/bit [E]"});
    add({"pcie5", "lane", 0.64, 0.05, 3.94e9, 5e-12, 0, 0, 0.05,
         "0.64 mm² per lane (LLMCompass cost model); 32 GT/s; ~5 pJ/bit [E]"});
    add({"nvlink3", "lane", 0.47, 0.05, 6.25e9, 6e-12, 0, 0, 0.05,
         "1.89 mm² per 4-lane NVLink3 link (LLMCompass cost model); 50 Gb/s NRZ lanes; ~6 pJ/bit [E]"});
    add({"nvlink4", "lane", 0.48, 0.05, 12.5e9, 5.5e-12, 0, 0, 0.05,
         "0.965 mm² per 2-lane NVLink4 link (LLMCompass cost model); 100 Gb/s PAM4 lanes; ~5.5 pJ/bit [E]"});
    add({"serdes112", "lane", 0.50, 0.05, 12.5e9, 5e-12, 0, 0, 0.05,
         "[E] 112G PAM4 long-reach SerDes (Ethernet/InfiniBand NDR): ~0.5 mm² and ~5 pJ/bit per lane"});
    add({"ucie", "lane", 0.010, 0.002, 4e9, 0.3e-12, 0, 0, 0.001,
         "UCIe advanced package, 32 GT/s: a 64-lane module in ~0.6 mm² [E]; 0.25-0.3 pJ/bit (Hot Interconnects 2025)"});
    return k;
  }();
  return kinds;
}

const PhyKind& phy_kind(const std::string& name) {
  auto it = phy_kinds().find(name);
  if (it == phy_kinds().end()) throw std::out_of_range("unknown PHY kind '" + name + "'");
  return it->second;
}

Technology parse_technology(const ConfigNode& node) {
  Technology t;
  t.mark = node.key_mark.file.empty() ? node.mark : node.key_mark;
  std::vector<std::string> names;
  for (const auto& [n, f] : technology_nodes()) names.push_back(n);
  auto list = [&] {
    std::string s;
    for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
    return s;
  };
  ConfigNode fields;
  fields.kind = ConfigNode::Kind::Map;
  fields.mark = node.mark;
  const ConfigNode* node_name = nullptr;
  if (node.is_scalar()) {
    node_name = &node;
  } else if (node.is_map()) {
    node_name = node.find("node");
    if (!node_name || !node_name->is_scalar())
      throw InputError(node_name ? node_name->mark : node.mark,
                       "`technology:` as a mapping needs `node:` (" + list() + ") and the figures it replaces");
    for (const auto& [k, v] : node.map)
      if (k != "node") fields.set(k, v);
  } else {
    throw InputError(node.mark, "`technology:` expects a node name (" + list() + ") or {node: NAME, FIELD: VALUE}");
  }
  auto it = technology_nodes().find(node_name->scalar);
  if (it == technology_nodes().end()) {
    std::string hint = closest_match(node_name->scalar, names);
    throw InputError(node_name->mark, "unknown technology node '" + node_name->scalar + "'" +
                                          (hint.empty() ? "" : " (did you mean '" + hint + "'?)") + "; expected " +
                                          list() + " (`xpusim describe technology`)");
  }
  t.node = it->first;
  for (const auto& [k, f] : it->second) {
    if (fields.find(k)) continue;
    ConfigNode v = parse_yaml(f.value, "technology " + t.node + "." + k);
    v.mark = v.key_mark = node_name->mark;
    fields.set(k, v);
  }
  t.values = validate_params("technology", "technology", fields, technology_params(), {});
  if (t.values.real("defect_density") < 0) throw InputError(t.mark, "technology.defect_density must be >= 0");
  return t;
}

}  // namespace xpu
