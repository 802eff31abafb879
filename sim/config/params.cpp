#include "sim/config/params.h"

#include "sim/config/vocabulary.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace xpu {

const std::vector<std::string>& dtype_keys() {
  static const std::vector<std::string> k = {"fp64", "fp32", "tf32", "fp16", "bf16", "fp8", "int8", "int4"};
  return k;
}

static ParamSpec make(std::string name, ParamKind kind, std::string def, std::string doc) {
  ParamSpec s;
  s.name = std::move(name);
  s.kind = kind;
  s.default_value = std::move(def);
  s.doc = std::move(doc);
  return s;
}
ParamSpec p_count(std::string n, std::string d, std::string doc, double min, double max) {
  auto s = make(std::move(n), ParamKind::Count, std::move(d), std::move(doc));
  s.min = min; s.max = max;
  return s;
}
ParamSpec p_real(std::string n, std::string d, std::string doc, double min, double max) {
  auto s = make(std::move(n), ParamKind::Real, std::move(d), std::move(doc));
  s.min = min; s.max = max;
  return s;
}
ParamSpec p_bool(std::string n, std::string d, std::string doc) { return make(std::move(n), ParamKind::Bool, std::move(d), std::move(doc)); }
ParamSpec p_string(std::string n, std::string d, std::string doc) { return make(std::move(n), ParamKind::String, std::move(d), std::move(doc)); }
ParamSpec p_choice(std::string n, std::string d, std::vector<std::string> c, std::string doc) {
  auto s = make(std::move(n), ParamKind::Choice, std::move(d), std::move(doc));
  s.choices = std::move(c);
  return s;
}
ParamSpec p_qty(std::string n, Dim dim, std::string d, std::string doc) {
  auto s = make(std::move(n), ParamKind::Quantity, std::move(d), std::move(doc));
  s.dim = dim;
  return s;
}
ParamSpec p_dtype_map(std::string n, std::string d, std::string doc) {
  auto s = make(std::move(n), ParamKind::DtypeMap, std::move(d), std::move(doc));
  s.choices = dtype_keys();
  return s;
}
ParamSpec p_count_list(std::string n, std::string d, std::string doc, size_t length, double min, double max) {
  auto s = make(std::move(n), ParamKind::CountList, std::move(d), std::move(doc));
  s.length = length;
  s.min = min;
  s.max = max;
  return s;
}
ParamSpec p_keyed_qty_map(std::string n, Dim dim, std::string d, std::string key_vocabulary, std::string doc) {
  auto s = p_dtype_map(std::move(n), std::move(d), std::move(doc));
  s.dim = dim;
  s.map_of_quantity = true;
  s.choices.clear();
  s.key_kind = key_vocabulary;
  s.key_vocabulary = std::move(key_vocabulary);
  return s;
}

std::vector<std::string> ParamSpec::allowed_keys() const {
  return key_vocabulary.empty() ? choices : vocabulary(key_vocabulary);
}
ParamSpec p_dtype_qty_map(std::string n, Dim dim, std::string d, std::string doc) {
  auto s = p_dtype_map(std::move(n), std::move(d), std::move(doc));
  s.dim = dim;
  s.map_of_quantity = true;
  return s;
}

std::string ParamSpec::type_text() const {
  auto units = [&] {
    auto u = dim_units(dim);
    std::string t;
    for (size_t i = 0; i < u.size() && i < 6; ++i) t += (i ? ", " : "") + u[i];
    return t + (u.size() > 6 ? ", ..." : "");
  };
  switch (kind) {
    case ParamKind::Count: return "integer";
    case ParamKind::Real: return "number";
    case ParamKind::Bool: return "true/false";
    case ParamKind::String: return "text";
    case ParamKind::Choice: {
      std::string t = "one of ";
      for (size_t i = 0; i < choices.size(); ++i) t += (i ? "|" : "") + choices[i];
      return t;
    }
    case ParamKind::Quantity: return std::string(dim_name(dim)) + " (" + units() + ")";
    case ParamKind::CountList: return "list of " + std::to_string(length) + " integers, or []";
    case ParamKind::DtypeMap:
      return map_of_quantity ? "map " + key_kind + " -> " + std::string(dim_name(dim)) + " (" + units() + ")"
                             : "map " + key_kind + " -> number";
  }
  return "?";
}

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    std::vector<size_t> prev(c.size() + 1), cur(c.size() + 1);
    for (size_t j = 0; j <= c.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= word.size(); ++i) {
      cur[0] = i;
      for (size_t j = 1; j <= c.size(); ++j)
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (word[i - 1] == c[j - 1] ? 0 : 1)});
      std::swap(prev, cur);
    }
    if (prev[c.size()] < best_d) { best_d = prev[c.size()]; best = c; }
  }
  return best;
}

const ParamValue& ParamSet::at(const std::string& name) const {
  auto it = values.find(name);
  if (it == values.end()) throw std::logic_error("parameter '" + name + "' was not declared for " + owner);
  return it->second;
}
uint64_t ParamSet::count(const std::string& n) const { return static_cast<uint64_t>(at(n).number); }
double ParamSet::real(const std::string& n) const { return at(n).number; }
bool ParamSet::flag(const std::string& n) const { return at(n).number != 0; }
const std::string& ParamSet::str(const std::string& n) const { return at(n).text; }
double ParamSet::qty(const std::string& n) const { return at(n).number; }
const std::map<std::string, double>& ParamSet::dmap(const std::string& n) const { return at(n).by_key; }
const std::vector<double>& ParamSet::list(const std::string& n) const { return at(n).items; }
bool ParamSet::has(const std::string& n) const {
  auto it = values.find(n);
  return it != values.end() && it->second.present;
}

namespace {

// "0.01", "1", "1e+07" rather than std::to_string's "0.010000".
std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// "a bandwidth", "an energy per bit".
std::string a_(const std::string& noun) {
  bool vowel = !noun.empty() && std::string("aeiou").find(noun[0]) != std::string::npos;
  return (vowel ? "an " : "a ") + noun;
}

// A typical value of each dimension, for "e.g." in error messages.
const char* example_of(Dim d) {
  switch (d) {
    case Dim::Bytes: return "50 MiB";
    case Dim::Bandwidth: return "3.35 TB/s";
    case Dim::Frequency: return "1.98 GHz";
    case Dim::FlopRate: return "989 TFLOP/s";
    case Dim::Time: return "450 ns";
    case Dim::Energy: return "1.5 pJ";
    case Dim::EnergyPerBit: return "3.9 pJ/bit";
    case Dim::EnergyPerOp: return "0.4 pJ/MAC";
    case Dim::Power: return "700 W";
    case Dim::Area: return "640 mm2";
  }
  return "?";
}

// Out of the dimension's physical span: refused at its line rather than overflowing the simulated clock later.
void check_physical(double v, Dim d, const ConfigNode& n, const std::string& what) {
  if (v == 0) return;
  const DimRange r = dim_physical_range(d);
  if (v < r.lo || v > r.hi)
    throw InputError(n.mark, what + ": '" + n.scalar + "' is outside the physical range of " + a_(dim_name(d)) +
                                 " (" + format_quantity(r.lo, d) + " to " + format_quantity(r.hi, d) + ")");
}

double parse_number(const ConfigNode& n, const std::string& what) {
  if (!n.is_scalar()) throw InputError(n.mark, what + ": expected a number, found " + n.kind_name());
  const std::string& s = n.scalar;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !std::isfinite(v))
    throw InputError(n.mark, what + ": expected a number, found '" + s + "'");
  return v;
}

void parse_value(const ParamSpec& spec, const ConfigNode& n, ParamValue& out, const std::string& what) {
  out.mark = n.mark;
  out.present = true;
  auto range = [&](double v) {
    if (v < spec.min || v > spec.max) {
      std::string hi = spec.max >= 1e17 && v <= spec.max ? "" : " and at most " + number_text(spec.max);
      throw InputError(n.mark, what + ": " + n.scalar + " is out of range (expected at least " +
                                   number_text(spec.min) + hi + ")");
    }
  };
  switch (spec.kind) {
    case ParamKind::Count: {
      double v = parse_number(n, what);
      if (v != std::floor(v)) throw InputError(n.mark, what + ": expected an integer, found '" + n.scalar + "'");
      range(v);
      out.number = v;
      out.text = n.scalar;
      return;
    }
    case ParamKind::Real: {
      double v = parse_number(n, what);
      range(v);
      out.number = v;
      out.text = n.scalar;
      return;
    }
    case ParamKind::Bool: {
      if (!n.is_scalar() || (n.scalar != "true" && n.scalar != "false"))
        throw InputError(n.mark, what + ": expected true or false");
      out.number = n.scalar == "true";
      out.text = n.scalar;
      return;
    }
    case ParamKind::String:
      if (!n.is_scalar()) throw InputError(n.mark, what + ": expected text, found " + n.kind_name());
      out.text = n.scalar;
      return;
    case ParamKind::Choice:
      if (!n.is_scalar() || std::find(spec.choices.begin(), spec.choices.end(), n.scalar) == spec.choices.end())
        throw InputError(n.mark, what + ": expected " + spec.type_text() + ", found " +
                                     (n.is_scalar() ? "'" + n.scalar + "'" : n.kind_name()));
      out.text = n.scalar;
      return;
    case ParamKind::Quantity: {
      if (!n.is_scalar())
        throw InputError(n.mark, what + ": expected " + a_(spec.type_text()) + ", found " + n.kind_name());
      try {
        out.number = parse_quantity(n.scalar, spec.dim);
      } catch (const std::invalid_argument& e) {
        throw InputError(n.mark, what + ": '" + n.scalar + "': " + e.what() + "; expected " + a_(spec.type_text()) +
                                     ", e.g. '" + example_of(spec.dim) + "'");
      }
      check_physical(out.number, spec.dim, n, what);
      out.text = n.scalar;
      return;
    }
    case ParamKind::CountList: {
      if (!n.is_list())
        throw InputError(n.mark, what + ": expected a " + spec.type_text() + ", found " + n.kind_name());
      if (!n.list.empty() && n.list.size() != spec.length)
        throw InputError(n.mark, what + ": expected " + std::to_string(spec.length) + " integers, found " +
                                     std::to_string(n.list.size()));
      out.items.clear();
      out.text.clear();
      for (const auto& item : n.list) {
        double v = parse_number(item, what);
        if (v != std::floor(v)) throw InputError(item.mark, what + ": expected an integer, found '" + item.scalar + "'");
        if (v < spec.min || v > spec.max)
          throw InputError(item.mark, what + ": " + item.scalar + " is out of range (expected at least " +
                                          number_text(spec.min) + ")");
        out.items.push_back(v);
        out.text += (out.text.empty() ? "" : ", ") + item.scalar;
      }
      out.text = "[" + out.text + "]";
      return;
    }
    case ParamKind::DtypeMap: {
      if (!n.is_map()) throw InputError(n.mark, what + ": expected " + a_(spec.type_text()) + ", found " + n.kind_name());
      out.by_key.clear();
      for (const auto& [k, v] : n.map) {
        const std::vector<std::string> keys = spec.allowed_keys();
        if (std::find(keys.begin(), keys.end(), k) == keys.end()) {
          std::string all, hint = closest_match(k, keys);
          for (const auto& c : keys) all += (all.empty() ? "" : ", ") + c;
          throw InputError(v.key_mark, what + ": unknown " + spec.key_kind + " '" + k + "'" +
                                           (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                                           "; expected one of " + all);
        }
        if (spec.map_of_quantity) {
          if (!v.is_scalar()) throw InputError(v.mark, what + "." + k + ": expected " + a_(dim_name(spec.dim)) + ", found " + v.kind_name());
          try {
            out.by_key[k] = parse_quantity(v.scalar, spec.dim);
            check_physical(out.by_key[k], spec.dim, v, what + "." + k);
          } catch (const std::invalid_argument& e) {
            throw InputError(v.mark, what + "." + k + ": '" + v.scalar + "': " + e.what() + "; expected " +
                                         a_(dim_name(spec.dim)) + ", e.g. '" + example_of(spec.dim) + "'");
          }
        } else {
          out.by_key[k] = parse_number(v, what + "." + k);
        }
      }
      return;
    }
  }
}

}  // namespace

ParamSet validate_params(const std::string& owner, const std::string& kind_name, const ConfigNode& node,
                         const std::vector<ParamSpec>& specs, const std::vector<std::string>& reserved) {
  ParamSet ps;
  ps.owner = owner;
  ps.mark = node.key_mark.file.empty() ? node.mark : node.key_mark;
  if (!node.is_map()) throw InputError(node.mark, owner + ": expected a mapping of parameters, found " + node.kind_name());
  std::vector<std::string> names;
  for (const auto& s : specs) names.push_back(s.name);
  for (const auto& [k, v] : node.map) {
    if (std::find(reserved.begin(), reserved.end(), k) != reserved.end()) continue;
    if (std::find(names.begin(), names.end(), k) == names.end()) {
      std::string hint = closest_match(k, names);
      throw InputError(v.key_mark, owner + ": unknown parameter '" + k + "' for type '" + kind_name + "'" +
                                       (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                                       "; `xpusim describe " + kind_name + "` lists them");
    }
  }
  for (const auto& spec : specs) {
    ParamValue pv;
    const std::string what = owner + "." + spec.name;
    if (const ConfigNode* n = node.find(spec.name); n && n->kind != ConfigNode::Kind::Null) {
      parse_value(spec, *n, pv, what);
    } else if (!spec.default_value.empty()) {
      ConfigNode d = parse_yaml(spec.default_value, "default of " + kind_name + "." + spec.name);
      parse_value(spec, d, pv, what);
      pv.mark = SourceMark{"default", 0, 0};
    } else if (!spec.optional) {
      // Point at the component's name (`hbm:`) rather than at its first parameter.
      const SourceMark& at = node.key_mark.file.empty() ? node.mark : node.key_mark;
      throw InputError(at, owner + ": missing required parameter '" + spec.name + "' (" + spec.type_text() +
                                      ": " + spec.doc + ")");
    }
    ps.values[spec.name] = pv;
  }
  return ps;
}

}  // namespace xpu
