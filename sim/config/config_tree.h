#pragma once
// A YAML document as a tree whose every node remembers the file and line it came from, so that errors found after
// overlays (`extends:`) and command-line overrides (`-p a.b=c`) still point at the right place.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/config/errors.h"

namespace xpu {

struct ConfigNode {
  enum class Kind { Null, Scalar, Map, List };
  Kind kind = Kind::Null;
  std::string scalar;
  // Map entries keep file order: users read effective configs and error lists in that order.
  std::vector<std::pair<std::string, ConfigNode>> map;
  std::vector<ConfigNode> list;
  SourceMark mark;      // where this node's value is written
  SourceMark key_mark;  // for map values: where the key is written

  bool is_map() const { return kind == Kind::Map; }
  bool is_scalar() const { return kind == Kind::Scalar; }
  bool is_list() const { return kind == Kind::List; }
  const ConfigNode* find(const std::string& key) const;
  ConfigNode* find(const std::string& key);
  // Inserts or replaces a map entry, keeping its original position when it exists.
  ConfigNode& set(const std::string& key, ConfigNode value);
  void erase(const std::string& key);
  std::string kind_name() const;
};

// Parses YAML text; `file` names it in marks and errors. Rejects duplicate keys.
ConfigNode parse_yaml(const std::string& text, const std::string& file);
ConfigNode load_yaml_file(const std::string& path);

// Loads a file and resolves `extends:` chains (paths relative to the including file): the child's maps are merged
// key by key over the parent's; scalars and lists replace. Detects cycles.
ConfigNode load_with_extends(const std::string& path);

void merge_into(ConfigNode& base, const ConfigNode& overlay);

// Applies "a.b.c=value" to the tree. The value is parsed as YAML (so "[1,2]" is a list). `origin` names it in marks.
// Missing segments are created: a misspelt key then meets the validation of its component or generator, which
// names the valid keys.
void apply_override(ConfigNode& root, const std::string& assignment, const std::string& origin);

// Writes the tree back as YAML text.
std::string to_yaml(const ConfigNode& node);

}  // namespace xpu
