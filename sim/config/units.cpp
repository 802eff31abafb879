#include "sim/config/units.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <stdexcept>
#include <iterator>
#include <utility>

namespace xpu {
namespace {

struct UnitDef { const char* name; double scale; };

const std::vector<UnitDef>& units_of(Dim d) {
  static const std::vector<UnitDef> bytes = {
      {"B", 1}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"PB", 1e15},
      {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"TiB", 1099511627776.0},
      {"bit", 0.125}, {"Kb", 125}, {"Mb", 125e3}, {"Gb", 125e6}};
  static const std::vector<UnitDef> bw = {
      {"B/s", 1}, {"KB/s", 1e3}, {"MB/s", 1e6}, {"GB/s", 1e9}, {"TB/s", 1e12}, {"PB/s", 1e15},
      {"KiB/s", 1024.0}, {"MiB/s", 1048576.0}, {"GiB/s", 1073741824.0}, {"TiB/s", 1099511627776.0},
      {"bit/s", 0.125}, {"b/s", 0.125}, {"Kb/s", 125}, {"Mb/s", 125e3}, {"Gb/s", 125e6}, {"Tb/s", 125e9},
      {"Pb/s", 125e12}};
  static const std::vector<UnitDef> freq = {{"Hz", 1}, {"kHz", 1e3}, {"KHz", 1e3}, {"MHz", 1e6}, {"GHz", 1e9}};
  static const std::vector<UnitDef> flops = {
      {"FLOP/s", 1}, {"GFLOP/s", 1e9}, {"TFLOP/s", 1e12}, {"PFLOP/s", 1e15},
      {"OP/s", 1}, {"GOP/s", 1e9}, {"TOP/s", 1e12}, {"TOPS", 1e12}, {"POP/s", 1e15},
      {"kFLOP/s", 1e3}, {"MFLOP/s", 1e6}};
  static const std::vector<UnitDef> time = {
      {"s", 1}, {"ms", 1e-3}, {"us", 1e-6}, {"\xC2\xB5s", 1e-6}, {"ns", 1e-9}, {"ps", 1e-12}};
  static const std::vector<UnitDef> energy = {
      {"J", 1}, {"mJ", 1e-3}, {"uJ", 1e-6}, {"nJ", 1e-9}, {"pJ", 1e-12}, {"fJ", 1e-15}, {"kJ", 1e3}, {"MJ", 1e6}};
  static const std::vector<UnitDef> epb = {
      {"J/bit", 1}, {"nJ/bit", 1e-9}, {"pJ/bit", 1e-12}, {"fJ/bit", 1e-15}, {"pJ/B", 1e-12 / 8}, {"pJ/byte", 1e-12 / 8}};
  static const std::vector<UnitDef> epo = {
      {"J/op", 1}, {"nJ/op", 1e-9}, {"pJ/op", 1e-12}, {"fJ/op", 1e-15},
      {"pJ/MAC", 1e-12}, {"fJ/MAC", 1e-15}, {"nJ/MAC", 1e-9}, {"pJ/FLOP", 2e-12}, {"fJ/FLOP", 2e-15}};
  static const std::vector<UnitDef> power = {{"W", 1}, {"mW", 1e-3}, {"uW", 1e-6}, {"kW", 1e3}, {"MW", 1e6}};
  static const std::vector<UnitDef> area = {{"mm2", 1}, {"mm^2", 1}, {"mm\xC2\xB2", 1}, {"um2", 1e-6},
                                            {"um^2", 1e-6}, {"cm2", 100}, {"cm^2", 100}};
  switch (d) {
    case Dim::Bytes: return bytes;
    case Dim::Bandwidth: return bw;
    case Dim::Frequency: return freq;
    case Dim::FlopRate: return flops;
    case Dim::Time: return time;
    case Dim::Energy: return energy;
    case Dim::EnergyPerBit: return epb;
    case Dim::EnergyPerOp: return epo;
    case Dim::Power: return power;
    case Dim::Area: return area;
  }
  throw std::logic_error("unknown dimension");
}

}  // namespace

const char* dim_name(Dim d) {
  switch (d) {
    case Dim::Bytes: return "size";
    case Dim::Bandwidth: return "bandwidth";
    case Dim::Frequency: return "frequency";
    case Dim::FlopRate: return "compute rate";
    case Dim::Time: return "time";
    case Dim::Energy: return "energy";
    case Dim::EnergyPerBit: return "energy per bit";
    case Dim::EnergyPerOp: return "energy per operation";
    case Dim::Power: return "power";
    case Dim::Area: return "area";
  }
  return "?";
}

const char* dim_canonical_unit(Dim d) {
  switch (d) {
    case Dim::Bytes: return "B";
    case Dim::Bandwidth: return "B/s";
    case Dim::Frequency: return "Hz";
    case Dim::FlopRate: return "FLOP/s";
    case Dim::Time: return "s";
    case Dim::Energy: return "J";
    case Dim::EnergyPerBit: return "J/bit";
    case Dim::EnergyPerOp: return "J/op";
    case Dim::Power: return "W";
    case Dim::Area: return "mm2";
  }
  return "?";
}

std::vector<std::string> dim_units(Dim d) {
  std::vector<std::string> out;
  for (const auto& u : units_of(d))
    if (u.scale > 0) out.push_back(u.name);
  return out;
}

double parse_quantity(const std::string& text, Dim d) {
  size_t i = 0;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  const char* begin = text.c_str() + i;
  char* end = nullptr;
  double value = std::strtod(begin, &end);
  if (end == begin) throw std::invalid_argument("expected a number followed by a unit");
  std::string unit(end);
  auto trim = [](std::string s) {
    size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
    return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
  };
  unit = trim(unit);
  if (!std::isfinite(value)) throw std::invalid_argument("the number is not finite");
  if (value < 0) throw std::invalid_argument("a negative " + std::string(dim_name(d)) + " is not allowed");
  if (unit.empty()) throw std::invalid_argument("missing unit");
  for (const auto& u : units_of(d)) {
    if (unit == u.name && u.scale > 0) return value * u.scale;
  }
  // A unit written in the wrong case ("tb/s", "ghz") gets a hint; "mb/s" may mean either MB/s or Mb/s.
  auto lower = [](std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  std::string hint;
  for (const auto& u : units_of(d))
    if (u.scale > 0 && lower(u.name) == lower(unit)) hint += (hint.empty() ? "" : " or ") + ("'" + std::string(u.name) + "'");
  throw std::invalid_argument("'" + unit + "' is not a unit of " + dim_name(d) +
                              (hint.empty() ? "" : " (did you mean " + hint + "?)"));
}

std::string format_quantity(double v, Dim d, int precision) {
  static const std::pair<double, const char*> si[] = {{1e15, "P"}, {1e12, "T"}, {1e9, "G"}, {1e6, "M"},
                                                      {1e3, "k"}, {1, ""}, {1e-3, "m"}, {1e-6, "u"},
                                                      {1e-9, "n"}, {1e-12, "p"}, {1e-15, "f"}};
  const std::string base = dim_canonical_unit(d);
  // Decimal prefixes on B read as in datasheets (KB, TB/s).
  auto spelled = [&](const char* prefix) {
    std::string pre = prefix;
    if ((d == Dim::Bytes || d == Dim::Bandwidth) && pre == "k") pre = "K";
    return pre + base;
  };
  // Only spellings that parse_quantity accepts with that very scale, so that the output reads back
  // (no "ks", "kmm2" or "mB/s").
  auto accepted = [&](const std::string& unit, double scale) {
    for (const auto& u : units_of(d))
      if (unit == u.name && u.scale == scale) return true;
    return false;
  };
  double scale = 1;
  std::string unit = base;
  double mag = std::fabs(v);
  if (mag > 0 && std::isfinite(mag)) {
    bool found = false;
    for (const auto& [s, p] : si) {
      if (mag < s * 0.9995) continue;
      if (accepted(spelled(p), s)) { scale = s; unit = spelled(p); found = true; break; }
    }
    if (!found) {  // smaller than every accepted prefix: use the smallest one
      for (auto it = std::rbegin(si); it != std::rend(si); ++it)
        if (accepted(spelled(it->second), it->first)) { scale = it->first; unit = spelled(it->second); break; }
    }
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g %s", precision, v / scale, unit.c_str());
  return buf;
}

DimRange dim_physical_range(Dim d) {
  switch (d) {
    case Dim::Bytes: return {1, 1e21};                 // a byte to a zettabyte
    case Dim::Bandwidth: return {1e3, 1e18};           // 1 kB/s to 1 EB/s
    case Dim::Frequency: return {1e3, 1e14};           // 1 kHz to 100 THz
    case Dim::FlopRate: return {1e3, 1e24};
    case Dim::Time: return {1e-15, 1e6};               // a femtosecond to 11 days (a latency, an overhead)
    case Dim::Energy: return {1e-21, 1e9};
    case Dim::EnergyPerBit: return {1e-21, 1e-3};      // a zeptojoule to a millijoule per bit
    case Dim::EnergyPerOp: return {1e-21, 1e-3};
    case Dim::Power: return {1e-9, 1e9};               // a nanowatt to a gigawatt
    case Dim::Area: return {1e-12, 1e12};
  }
  return {0, 1e300};
}

}  // namespace xpu
