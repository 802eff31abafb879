#pragma once
// Physical quantities as strong types, parsed once from strings such as "3.35 TB/s", "50 MiB", "1.98 GHz".
// Internally everything is SI: bytes, bytes/s, Hz, FLOP/s, seconds, joules, watts, mm^2.
#include <cstdint>
#include <string>
#include <vector>

namespace xpu {

enum class Dim { Bytes, Bandwidth, Frequency, FlopRate, Time, Energy, EnergyPerBit, EnergyPerOp, Power, Area };

const char* dim_name(Dim d);
// The canonical unit written back into effective configs and shown by `describe`.
const char* dim_canonical_unit(Dim d);
// Every unit spelling accepted for a dimension, for error messages.
std::vector<std::string> dim_units(Dim d);

// Parses "<number> <unit>" for the dimension; throws std::invalid_argument with a short reason otherwise.
double parse_quantity(const std::string& text, Dim d);
// Formats an SI value with a readable prefix, e.g. 3.35e12 B/s -> "3.35 TB/s".
std::string format_quantity(double value, Dim d, int precision = 4);
// The span a non-zero value of a dimension may take in a hardware description: far wider than any machine built or
// imagined, but narrow enough that every time the simulator derives from it fits its 64-bit picosecond clock
// (a 1 B/s memory would take 400 years per decode step). Zero stays legal where a parameter gives it a meaning.
struct DimRange { double lo, hi; };
DimRange dim_physical_range(Dim d);

struct Bytes { uint64_t v = 0; };
struct Bandwidth { double bytes_per_s = 0; };
struct Frequency { double hz = 0; };
struct FlopRate { double flops_per_s = 0; };
struct Seconds { double s = 0; };
struct Joules { double j = 0; };
struct JoulesPerBit { double j = 0; };
struct JoulesPerOp { double j = 0; };
struct Watts { double w = 0; };
struct SquareMm { double mm2 = 0; };

}  // namespace xpu
