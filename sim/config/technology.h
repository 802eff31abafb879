#pragma once
// Process technology of a design: the per-node figures that turn a component's structure (units, MACs per clock,
// vector lanes, SRAM capacity, PHY lanes, HBM stacks) into die area, leakage, energy per action and price.
// A hardware config names a node (`technology: n4`) or a node with some figures replaced
// (`technology: {node: n4, wafer_price: 20000}`); every figure is declared once, with its unit and its published
// source, and `xpusim describe technology` prints them. The PHY kinds (HBM generations, SerDes) are not scaled with
// the node: analog circuits and bump pitch barely shrink.
#include <map>
#include <string>
#include <vector>

#include "sim/config/config_tree.h"
#include "sim/config/params.h"

namespace xpu {

struct TechFigure {
  std::string value;   // YAML text, parsed by the field's ParamSpec
  std::string source;  // where it comes from; "[E]" marks an estimate with its reasoning
};

// The fields a node declares (their units and docs); the defaults are empty: every node gives every field.
const std::vector<ParamSpec>& technology_params();
// n7, n5, n4, n3: field -> figure with source.
const std::map<std::string, std::map<std::string, TechFigure>>& technology_nodes();

// An off-chip interface's PHY on the die, per lane (a SerDes lane, or one 1024-bit HBM stack interface).
struct PhyKind {
  std::string name, unit;     // unit: what one counted item is ("lane", "stack")
  double area_mm2 = 0;        // PHY area per item (not scaled with the node)
  double controller_mm2_n7 = 0;  // controller/MAC logic per item at N7, scaled by the node's logic_scale
  double lane_rate = 0;       // bytes/s per item per direction (HBM: per stack)
  double energy_per_bit = 0;  // J/bit of the PHY (SerDes) or of the whole DRAM access (HBM)
  double price_per_gb = 0;    // HBM only: the stacks' price per GB
  double footprint_mm2 = 0;   // HBM only: a stack's footprint on the interposer
  double idle_w = 0;          // HBM: background power per stack (refresh, PHY idle); SerDes: per lane
  std::string source;
};
const std::map<std::string, PhyKind>& phy_kinds();
const PhyKind& phy_kind(const std::string& name);  // throws std::out_of_range for an unknown kind

struct Technology {
  std::string node;  // empty: the config names no technology (areas and static power as written)
  ParamSet values;   // every field of technology_params(), the node's figures with the config's replacements
  SourceMark mark;
  bool present() const { return !node.empty(); }
  double operator[](const std::string& field) const { return values.real(field); }
  double qty(const std::string& field) const { return values.qty(field); }
};

// `node` is the value of the top-level `technology:` key: a node name or a mapping with `node:` and replacements.
Technology parse_technology(const ConfigNode& node);

}  // namespace xpu
