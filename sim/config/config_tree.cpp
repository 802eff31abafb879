#include "sim/config/config_tree.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "sim/config/input_file.h"

namespace xpu {
namespace fs = std::filesystem;

const ConfigNode* ConfigNode::find(const std::string& key) const {
  for (const auto& [k, v] : map)
    if (k == key) return &v;
  return nullptr;
}
ConfigNode* ConfigNode::find(const std::string& key) {
  for (auto& [k, v] : map)
    if (k == key) return &v;
  return nullptr;
}
ConfigNode& ConfigNode::set(const std::string& key, ConfigNode value) {
  kind = Kind::Map;
  if (ConfigNode* n = find(key)) { *n = std::move(value); return *n; }
  map.emplace_back(key, std::move(value));
  return map.back().second;
}
void ConfigNode::erase(const std::string& key) {
  for (auto it = map.begin(); it != map.end(); ++it)
    if (it->first == key) { map.erase(it); return; }
}
std::string ConfigNode::kind_name() const {
  switch (kind) {
    case Kind::Null: return "nothing";
    case Kind::Scalar: return "a value";
    case Kind::Map: return "a mapping";
    case Kind::List: return "a list";
  }
  return "?";
}

namespace {

SourceMark mark_of(const YAML::Node& n, const std::string& file) {
  YAML::Mark m = n.Mark();
  SourceMark s;
  s.file = file;
  if (m.line >= 0) { s.line = m.line + 1; s.column = m.column + 1; }
  return s;
}

// Aliases share nodes in yaml-cpp, but converting copies them: nine levels of ten aliases each ("billion laughs")
// would expand to 10^9 nodes. The expansion is bounded by count and depth, far above any real config.
constexpr size_t kMaxYamlNodes = 1000000;
constexpr int kMaxYamlDepth = 64;

ConfigNode convert(const YAML::Node& n, const std::string& file, size_t& nodes, int depth) {
  ConfigNode out;
  out.mark = mark_of(n, file);
  if (++nodes > kMaxYamlNodes)
    throw InputError(out.mark, "the document expands to more than " + std::to_string(kMaxYamlNodes) +
                                   " values (aliases that repeat aliases?); xpusim reads no more");
  if (depth > kMaxYamlDepth)
    throw InputError(out.mark, "values nested more than " + std::to_string(kMaxYamlDepth) + " levels deep");
  switch (n.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null: out.kind = ConfigNode::Kind::Null; break;
    case YAML::NodeType::Scalar: out.kind = ConfigNode::Kind::Scalar; out.scalar = n.Scalar(); break;
    case YAML::NodeType::Sequence:
      out.kind = ConfigNode::Kind::List;
      for (const auto& item : n) out.list.push_back(convert(item, file, nodes, depth + 1));
      break;
    case YAML::NodeType::Map: {
      out.kind = ConfigNode::Kind::Map;
      std::set<std::string> seen;
      for (const auto& kv : n) {
        if (!kv.first.IsScalar())
          throw InputError(mark_of(kv.first, file), "a mapping key must be a plain name");
        const std::string key = kv.first.Scalar();
        if (!seen.insert(key).second)
          throw InputError(mark_of(kv.first, file), "duplicate key '" + key + "'");
        ConfigNode v = convert(kv.second, file, nodes, depth + 1);
        v.key_mark = mark_of(kv.first, file);
        if (v.kind == ConfigNode::Kind::Null) v.mark = v.key_mark;
        out.map.emplace_back(key, std::move(v));
      }
      break;
    }
  }
  return out;
}

}  // namespace

ConfigNode parse_yaml(const std::string& text, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    SourceMark m{file, e.mark.line + 1, e.mark.column + 1};
    throw InputError(m, "invalid YAML: " + e.msg);
  }
  size_t nodes = 0;
  ConfigNode out = convert(root, file, nodes, 0);
  if (out.kind == ConfigNode::Kind::Null) out.mark = SourceMark{file, 1, 1};
  return out;
}

ConfigNode load_yaml_file(const std::string& path) {
  return parse_yaml(read_input_file(path, "a YAML file"), path);
}

void merge_into(ConfigNode& base, const ConfigNode& overlay) {
  if (base.is_map() && overlay.is_map()) {
    for (const auto& [k, v] : overlay.map) {
      if (ConfigNode* b = base.find(k)) merge_into(*b, v);
      else base.map.emplace_back(k, v);
    }
    return;
  }
  SourceMark key_mark = base.key_mark;
  base = overlay;
  if (base.key_mark.file.empty()) base.key_mark = key_mark;
}

namespace {
// `stack` holds (canonical path, path as written) of the files being loaded; `via` is the `extends:` that led here.
ConfigNode load_chain(const std::string& path, std::vector<std::pair<std::string, std::string>>& stack,
                      const SourceMark* via) {
  std::string canon = fs::weakly_canonical(fs::path(path)).string();
  for (size_t i = 0; i < stack.size(); ++i) {
    if (stack[i].first != canon) continue;
    std::string chain;
    for (size_t j = i; j < stack.size(); ++j) chain += stack[j].second + " -> ";
    throw InputError(via ? *via : SourceMark{path, 0, 0}, "`extends:` cycle: " + chain + path);
  }
  stack.emplace_back(canon, path);
  ConfigNode node = load_yaml_file(path);
  if (!node.is_map()) throw InputError(node.mark, "expected a mapping at the top of the file, found " + node.kind_name());
  if (const ConfigNode* ext = node.find("extends")) {
    if (!ext->is_scalar() || ext->scalar.empty()) throw InputError(ext->mark, "`extends:` expects a file path");
    std::string parent = (fs::path(path).parent_path() / ext->scalar).lexically_normal().string();
    std::error_code ec;
    if (!fs::exists(parent, ec))
      throw InputError(ext->mark, "`extends:` file not found: " + parent + " (paths are relative to " +
                                      (fs::path(path).parent_path().empty() ? std::string(".")
                                                                            : fs::path(path).parent_path().string()) +
                                      ")");
    if (fs::is_directory(parent, ec)) throw InputError(ext->mark, "`extends:` names a directory: " + parent);
    if (!fs::is_regular_file(parent, ec) && !fs::is_fifo(parent, ec))
      throw InputError(ext->mark, "`extends:` names a device or socket, not a config file: " + parent);
    SourceMark ext_mark = ext->mark;
    ConfigNode base = load_chain(parent, stack, &ext_mark);
    node.erase("extends");
    merge_into(base, node);
    node = std::move(base);
  }
  stack.pop_back();
  return node;
}
}  // namespace

ConfigNode load_with_extends(const std::string& path) {
  std::vector<std::pair<std::string, std::string>> stack;
  return load_chain(path, stack, nullptr);
}

void apply_override(ConfigNode& root, const std::string& assignment, const std::string& origin) {
  SourceMark m{origin, 0, 0};
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw InputError(m, "override '" + assignment + "' is not of the form path.to.key=value");
  std::string path = assignment.substr(0, eq);
  std::string value = assignment.substr(eq + 1);
  std::vector<std::string> parts;
  std::stringstream ss(path);
  for (std::string seg; std::getline(ss, seg, '.');) {
    if (seg.empty()) throw InputError(m, "override path '" + path + "' has an empty segment");
    parts.push_back(seg);
  }
  ConfigNode* cur = &root;
  std::string walked;
  for (size_t i = 0; i < parts.size(); ++i) {
    walked += (i ? "." : "") + parts[i];
    if (cur->kind == ConfigNode::Kind::Null) cur->kind = ConfigNode::Kind::Map;
    if (!cur->is_map()) throw InputError(m, "override path '" + walked + "': parent is not a mapping");
    ConfigNode* next = cur->find(parts[i]);
    if (!next) {
      ConfigNode fresh;
      fresh.mark = m;
      fresh.key_mark = m;
      next = &cur->set(parts[i], fresh);
    }
    cur = next;
  }
  ConfigNode v;
  try {
    v = parse_yaml(value, origin);
  } catch (const InputError& e) {
    // "-p a.b=[4: error: ..." rather than a line and column inside the one-line value.
    std::string what = e.what();
    const std::string sep = ": error: ";
    auto at = what.find(sep);
    throw InputError(m, "value '" + value + "': " + (at == std::string::npos ? what : what.substr(at + sep.size())));
  }
  // Every node of the value, nested ones included, comes from the override as a whole.
  struct Remark {
    const SourceMark& m;
    void operator()(ConfigNode& n) const {
      n.mark = m;
      n.key_mark = m;
      for (auto& kv : n.map) (*this)(kv.second);
      for (auto& item : n.list) (*this)(item);
    }
  };
  Remark{m}(v);
  *cur = std::move(v);
}

namespace {
void emit(YAML::Emitter& e, const ConfigNode& n) {
  switch (n.kind) {
    case ConfigNode::Kind::Null: e << YAML::Null; break;
    case ConfigNode::Kind::Scalar: e << n.scalar; break;
    case ConfigNode::Kind::List:
      e << YAML::BeginSeq;
      for (const auto& i : n.list) emit(e, i);
      e << YAML::EndSeq;
      break;
    case ConfigNode::Kind::Map:
      e << YAML::BeginMap;
      for (const auto& [k, v] : n.map) { e << YAML::Key << k << YAML::Value; emit(e, v); }
      e << YAML::EndMap;
      break;
  }
}
}  // namespace

std::string to_yaml(const ConfigNode& node) {
  YAML::Emitter e;
  emit(e, node);
  return std::string(e.c_str()) + "\n";
}

}  // namespace xpu
