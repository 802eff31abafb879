// Physical quantities: parsing "<number> <unit>" per dimension, rejecting bad input, and formatting back.
#include <catch2/catch.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "sim/config/units.h"

using namespace xpu;

namespace {

// The reason parse_quantity gives for rejecting `text`, or "" when it accepts it.
std::string rejection(const std::string& text, Dim d) {
  try {
    parse_quantity(text, d);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("units: datasheet quantities parse to SI values", "[units]") {
  CHECK(parse_quantity("3.35 TB/s", Dim::Bandwidth) == Approx(3.35e12));
  CHECK(parse_quantity("50 MiB", Dim::Bytes) == 52428800.0);
  CHECK(parse_quantity("1.98 GHz", Dim::Frequency) == Approx(1.98e9));
  CHECK(parse_quantity("989 TFLOP/s", Dim::FlopRate) == Approx(989e12));
  CHECK(parse_quantity("4.2 pJ/bit", Dim::EnergyPerBit) == Approx(4.2e-12));
  CHECK(parse_quantity("12 ns", Dim::Time) == Approx(12e-9));
  CHECK(parse_quantity("400 Gb/s", Dim::Bandwidth) == Approx(50e9));  // bits, not bytes
  CHECK(parse_quantity("0.3 pJ/MAC", Dim::EnergyPerOp) == Approx(0.3e-12));
  CHECK(parse_quantity("700 W", Dim::Power) == Approx(700));
  CHECK(parse_quantity("814 mm2", Dim::Area) == Approx(814));
  CHECK(parse_quantity("1.5 pJ", Dim::Energy) == Approx(1.5e-12));
}

TEST_CASE("units: binary and decimal prefixes, bits and bytes differ", "[units]") {
  CHECK(parse_quantity("1 KiB", Dim::Bytes) == 1024.0);
  CHECK(parse_quantity("1 KB", Dim::Bytes) == 1000.0);
  CHECK(parse_quantity("80 GB", Dim::Bytes) == Approx(80e9));
  CHECK(parse_quantity("2 GiB", Dim::Bytes) == 2147483648.0);
  CHECK(parse_quantity("8 bit", Dim::Bytes) == Approx(1.0));
  CHECK(parse_quantity("1 GiB/s", Dim::Bandwidth) == 1073741824.0);
  CHECK(parse_quantity("64 GB/s", Dim::Bandwidth) == Approx(64e9));
  CHECK(parse_quantity("1 pJ/B", Dim::EnergyPerBit) == Approx(0.125e-12));
  CHECK(parse_quantity("2 pJ/FLOP", Dim::EnergyPerOp) == Approx(4e-12));  // one MAC is two FLOP
  CHECK(parse_quantity("1 TOPS", Dim::FlopRate) == Approx(1e12));
}

TEST_CASE("units: spacing is flexible and zero is allowed", "[units]") {
  CHECK(parse_quantity("12ns", Dim::Time) == Approx(12e-9));
  CHECK(parse_quantity("  3 us  ", Dim::Time) == Approx(3e-6));
  CHECK(parse_quantity("1e3 MHz", Dim::Frequency) == Approx(1e9));
  CHECK(parse_quantity("0 B/s", Dim::Bandwidth) == 0.0);
  CHECK(parse_quantity("0 mm2", Dim::Area) == 0.0);
}

TEST_CASE("units: a bare number is rejected for missing its unit", "[units]") {
  CHECK_THROWS_AS(parse_quantity("3.35", Dim::Bandwidth), std::invalid_argument);
  CHECK(contains(rejection("3.35", Dim::Bandwidth), "missing unit"));
  CHECK(contains(rejection("50", Dim::Bytes), "missing unit"));
  CHECK(contains(rejection("0", Dim::Time), "missing unit"));
}

TEST_CASE("units: a unit of another dimension is rejected naming the dimension", "[units]") {
  CHECK_THROWS_AS(parse_quantity("3.35 GHz", Dim::Bandwidth), std::invalid_argument);
  std::string why = rejection("3.35 GHz", Dim::Bandwidth);
  CHECK(contains(why, "'GHz'"));
  CHECK(contains(why, "not a unit of bandwidth"));
  CHECK(contains(rejection("50 MiB", Dim::Bandwidth), "not a unit of bandwidth"));  // size where a rate is due
  CHECK(contains(rejection("3 TB/s", Dim::Bytes), "not a unit of size"));
  CHECK(contains(rejection("12 ns", Dim::Frequency), "not a unit of frequency"));
  CHECK(contains(rejection("1 pJ", Dim::EnergyPerBit), "not a unit of energy per bit"));
}

TEST_CASE("units: a unit in the wrong case gets a hint", "[units]") {
  std::string why = rejection("3.35 tb/s", Dim::Bandwidth);
  CHECK(contains(why, "not a unit of bandwidth"));
  CHECK(contains(why, "did you mean 'TB/s'"));
  CHECK(contains(rejection("1.98 ghz", Dim::Frequency), "'GHz'"));
}

TEST_CASE("units: negative and non-numeric values are rejected", "[units]") {
  CHECK_THROWS_AS(parse_quantity("-5 MiB", Dim::Bytes), std::invalid_argument);
  CHECK(contains(rejection("-5 MiB", Dim::Bytes), "negative size"));
  CHECK(contains(rejection("-1 ns", Dim::Time), "negative time"));
  CHECK_THROWS_AS(parse_quantity("abc", Dim::Bytes), std::invalid_argument);
  CHECK(contains(rejection("abc", Dim::Bytes), "expected a number"));
  CHECK(contains(rejection("", Dim::Time), "expected a number"));
  CHECK(contains(rejection("TB/s", Dim::Bandwidth), "expected a number"));
  CHECK(contains(rejection("inf TB/s", Dim::Bandwidth), "not finite"));
  CHECK(contains(rejection("nan GHz", Dim::Frequency), "not finite"));
  CHECK(contains(rejection("3.35 TB/s extra", Dim::Bandwidth), "not a unit"));
}

TEST_CASE("units: every listed unit spelling parses", "[units]") {
  for (Dim d : {Dim::Bytes, Dim::Bandwidth, Dim::Frequency, Dim::FlopRate, Dim::Time, Dim::Energy,
                Dim::EnergyPerBit, Dim::EnergyPerOp, Dim::Power, Dim::Area}) {
    INFO(dim_name(d));
    auto units = dim_units(d);
    REQUIRE_FALSE(units.empty());
    CHECK(std::find(units.begin(), units.end(), dim_canonical_unit(d)) != units.end());
    for (const auto& u : units) {
      INFO(u);
      CHECK(parse_quantity("2 " + u, d) > 0);
    }
  }
}

TEST_CASE("units: format_quantity picks a readable prefix", "[units]") {
  CHECK(format_quantity(3.35e12, Dim::Bandwidth) == "3.35 TB/s");
  CHECK(format_quantity(1.98e9, Dim::Frequency) == "1.98 GHz");
  CHECK(format_quantity(989e12, Dim::FlopRate) == "989 TFLOP/s");
  CHECK(format_quantity(12e-9, Dim::Time) == "12 ns");
  CHECK(format_quantity(4.2e-12, Dim::EnergyPerBit) == "4.2 pJ/bit");
  CHECK(format_quantity(80e9, Dim::Bytes) == "80 GB");
  CHECK(format_quantity(2048, Dim::Bytes) == "2.048 KB");
  CHECK(format_quantity(700, Dim::Power) == "700 W");
  CHECK(format_quantity(0, Dim::Time) == "0 s");
  CHECK(format_quantity(0.5, Dim::Bytes) == "0.5 B");  // no milli-bytes
}

TEST_CASE("units: format_quantity only writes units that parse back", "[units]") {
  // Area has no prefixes ("kmm2"), time none above seconds ("ks").
  CHECK(format_quantity(814, Dim::Area) == "814 mm2");
  CHECK(format_quantity(2000, Dim::Area) == "2000 mm2");
  CHECK(format_quantity(0.001, Dim::Area) == "0.001 mm2");
  CHECK(format_quantity(2500, Dim::Time) == "2500 s");
  CHECK(format_quantity(5e6, Dim::FlopRate) == "5 MFLOP/s");
}

TEST_CASE("units: format_quantity output round-trips through parse_quantity", "[units]") {
  struct Case { double v; Dim d; };
  const Case cases[] = {
      {3.35e12, Dim::Bandwidth}, {52428800, Dim::Bytes},     {1.98e9, Dim::Frequency}, {989e12, Dim::FlopRate},
      {4.2e-12, Dim::EnergyPerBit}, {12e-9, Dim::Time},      {50e9, Dim::Bandwidth},   {0.3e-12, Dim::EnergyPerOp},
      {700, Dim::Power},         {814, Dim::Area},           {1.5e-3, Dim::Energy},    {2.5e4, Dim::Energy},
      {3e6, Dim::Power},         {4e12, Dim::Frequency},     {7200, Dim::Time},        {2e-20, Dim::Energy},
      {1e-4, Dim::Area},         {0.25, Dim::FlopRate},      {64, Dim::Bytes},         {123456789, Dim::Bytes},
  };
  for (const auto& c : cases) {
    std::string text = format_quantity(c.v, c.d, 12);
    INFO(dim_name(c.d) << " " << c.v << " -> '" << text << "'");
    CHECK(parse_quantity(text, c.d) == Approx(c.v).epsilon(1e-9));
    std::string short_text = format_quantity(c.v, c.d);  // default precision: readable, close enough
    INFO("short: '" << short_text << "'");
    CHECK(parse_quantity(short_text, c.d) == Approx(c.v).epsilon(1e-3));
  }
}

TEST_CASE("units: dimension names and canonical units", "[units]") {
  CHECK(std::string(dim_name(Dim::Bandwidth)) == "bandwidth");
  CHECK(std::string(dim_name(Dim::Bytes)) == "size");
  CHECK(std::string(dim_canonical_unit(Dim::Bandwidth)) == "B/s");
  CHECK(std::string(dim_canonical_unit(Dim::EnergyPerOp)) == "J/op");
}
