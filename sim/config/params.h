#pragma once
// A component kind declares each parameter once (name, kind, unit, default, one-line doc). Validation, `describe`
// and the defaults all come from that one declaration.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/config/config_tree.h"
#include "sim/config/units.h"

namespace xpu {

enum class ParamKind { Count, Real, Bool, String, Choice, Quantity, DtypeMap, CountList };

struct ParamSpec {
  std::string name;
  ParamKind kind = ParamKind::Real;
  Dim dim = Dim::Bytes;              // for Quantity, and DtypeMap when `map_of_quantity`
  std::string default_value;         // YAML text; empty means required (unless `optional`)
  std::string doc;
  double min = 0;                    // inclusive bounds for Count/Real (and each item of a CountList)
  double max = 1e300;
  std::vector<std::string> choices;  // Choice; also the allowed keys of a DtypeMap
  bool map_of_quantity = false;      // DtypeMap values are quantities of `dim` rather than plain numbers
  bool optional = false;             // may be absent, with no default
  std::string key_kind = "dtype";    // what the keys of a DtypeMap name, for messages
  size_t length = 0;                 // items of a non-empty CountList
  // Keys of a keyed map named by a vocabulary that another layer registers (sim/config/vocabulary.h), looked up when
  // a value is checked rather than when the spec is declared (declarations run at static initialisation).
  std::string key_vocabulary;

  std::vector<std::string> allowed_keys() const;  // the vocabulary's names, else `choices`

  std::string type_text() const;     // e.g. "bandwidth (TB/s, GB/s, ...)"
};

// Builders keep declarations short and readable in each model file.
ParamSpec p_count(std::string name, std::string def, std::string doc, double min = 0, double max = 1e18);
ParamSpec p_real(std::string name, std::string def, std::string doc, double min = 0, double max = 1e300);
ParamSpec p_bool(std::string name, std::string def, std::string doc);
ParamSpec p_string(std::string name, std::string def, std::string doc);
ParamSpec p_choice(std::string name, std::string def, std::vector<std::string> choices, std::string doc);
ParamSpec p_qty(std::string name, Dim dim, std::string def, std::string doc);
ParamSpec p_dtype_map(std::string name, std::string def, std::string doc);
// A list of `length` integers in [min, max] (e.g. `[128, 128]`), or the empty list `[]`.
ParamSpec p_count_list(std::string name, std::string def, std::string doc, size_t length, double min = 0,
                       double max = 1e18);
ParamSpec p_dtype_qty_map(std::string name, Dim dim, std::string def, std::string doc);
// A map from a name of the registered vocabulary `key_vocabulary` (e.g. "op kind") to a quantity.
ParamSpec p_keyed_qty_map(std::string name, Dim dim, std::string def, std::string key_vocabulary, std::string doc);

// Dtype names accepted as keys in per-dtype maps.
const std::vector<std::string>& dtype_keys();

struct ParamValue {
  double number = 0;                    // Count, Real, Bool (0/1), Quantity in SI units
  std::string text;                     // String, Choice; the written form otherwise
  std::map<std::string, double> by_key; // DtypeMap
  std::vector<double> items;            // CountList
  bool present = false;                 // false for an absent optional parameter
  SourceMark mark;
};

class ParamSet {
 public:
  std::string owner;  // the component name, for error messages
  SourceMark mark;    // where the owner is defined (its key), for errors about a parameter left at its default
  std::map<std::string, ParamValue> values;

  uint64_t count(const std::string& name) const;
  double real(const std::string& name) const;
  bool flag(const std::string& name) const;
  const std::string& str(const std::string& name) const;
  double qty(const std::string& name) const;
  const std::map<std::string, double>& dmap(const std::string& name) const;
  const std::vector<double>& list(const std::string& name) const;
  bool has(const std::string& name) const;
  const ParamValue& at(const std::string& name) const;
};

// Validates `node` (a mapping of key -> value) against `specs`. Keys in `reserved` (like `type`) are skipped.
// Unknown keys, wrong kinds, missing or wrong units, out-of-range values all throw InputError at the right line.
ParamSet validate_params(const std::string& owner, const std::string& kind_name, const ConfigNode& node,
                         const std::vector<ParamSpec>& specs, const std::vector<std::string>& reserved);

// The closest of `candidates` to `word` (edit distance), for "did you mean" hints; empty when none is close.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace xpu
