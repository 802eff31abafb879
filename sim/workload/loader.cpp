#include "sim/workload/loader.h"

#include <algorithm>
#include <filesystem>

#include "sim/workload/explicit_ops.h"
#include "sim/workload/generator.h"
#include "sim/workload/stack.h"

namespace xpu {

std::vector<std::string> split_set_list(const std::string& list) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  char quote = 0;
  auto flush = [&] {
    size_t a = cur.find_first_not_of(" \t"), b = cur.find_last_not_of(" \t");
    if (a != std::string::npos) out.push_back(cur.substr(a, b - a + 1));
    cur.clear();
  };
  for (char c : list) {
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[' || c == '{' || c == '(') {
      ++depth;
    } else if ((c == ']' || c == '}' || c == ')') && depth > 0) {
      --depth;
    } else if (c == ',' && depth == 0) {
      flush();
      continue;
    }
    cur += c;
  }
  flush();
  return out;
}

std::vector<std::string> split_set_lists(const std::vector<std::string>& lists) {
  std::vector<std::string> out;
  for (const auto& l : lists)
    for (auto& part : split_set_list(l)) out.push_back(std::move(part));
  return out;
}

namespace {

const std::vector<std::string>& top_level_keys() {
  static const std::vector<std::string> k = {"name", "description", "generator", "params", "defaults", "ops", "stack"};
  return k;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// Merges `params`, then `defaults`, then each --set into one mapping that keeps every value's own mark.
ConfigNode merged_params(const ConfigNode& root, const Generator& g, const std::vector<std::string>& sets) {
  ConfigNode merged;
  merged.kind = ConfigNode::Kind::Map;
  merged.mark = root.find("generator")->mark;
  for (const char* section : {"params", "defaults"}) {
    const ConfigNode* n = root.find(section);
    if (!n || n->kind == ConfigNode::Kind::Null) continue;
    if (!n->is_map()) throw InputError(n->mark, std::string(section) + ": expected a mapping of parameters, found " +
                                                    n->kind_name());
    for (const auto& [k, v] : n->map) merged.set(k, v);
  }
  std::vector<std::string> names;
  for (const auto& s : g.specs) names.push_back(s.name);
  const SourceMark set_mark{"--set", 0, 0};
  for (const auto& s : sets) {
    const std::string key = s.substr(0, s.find('='));
    if (s.find('=') == std::string::npos)
      throw InputError(set_mark, "'" + s + "' is not of the form key=value");
    if (std::find(names.begin(), names.end(), key) == names.end()) {
      std::string hint = closest_match(key, names);
      throw InputError(set_mark, "unknown workload parameter '" + key + "' for generator '" + g.name + "'" +
                                     (hint.empty() ? "" : " (did you mean '" + hint + "'?)") + "; valid: " +
                                     join(names));
    }
    apply_override(merged, s, "--set");
  }
  return merged;
}

}  // namespace

Workload parse_workload(const ConfigNode& root, const std::string& source, const std::vector<std::string>& sets) {
  if (!root.is_map())
    throw InputError(root.mark, "a workload file is a mapping (name, generator/params or ops), found " +
                                    root.kind_name());
  for (const auto& [k, v] : root.map) {
    if (std::find(top_level_keys().begin(), top_level_keys().end(), k) != top_level_keys().end()) continue;
    std::string hint = closest_match(k, top_level_keys());
    throw InputError(v.key_mark, "unknown workload key '" + k + "'" +
                                     (hint.empty() ? "" : " (did you mean '" + hint + "'?)") + "; expected " +
                                     join(top_level_keys()));
  }
  auto text = [&](const char* key) -> std::string {
    const ConfigNode* n = root.find(key);
    if (!n || n->kind == ConfigNode::Kind::Null) return "";
    if (!n->is_scalar()) throw InputError(n->mark, std::string(key) + ": expected text, found " + n->kind_name());
    return n->scalar;
  };
  std::string name = text("name");
  if (name.empty()) name = std::filesystem::path(source).stem().string();
  // The software stack (sim/workload/stack.h) is every workload's: the top-level `stack:` key or --set stack=...
  std::string stack = text("stack");
  SourceMark stack_mark = root.find("stack") ? root.find("stack")->mark : root.mark;
  std::vector<std::string> gen_sets;
  for (const auto& s : sets) {
    if (s.rfind("stack=", 0) == 0) {
      stack = s.substr(6);
      stack_mark = SourceMark{"--set", 0, 0};
    } else {
      gen_sets.push_back(s);
    }
  }
  const ConfigNode* gen = root.find("generator");
  const ConfigNode* ops = root.find("ops");
  if (gen && ops) throw InputError(ops->key_mark, "a workload has either `generator:` or `ops:`, not both");
  if (!gen && !ops) throw InputError(root.mark, "a workload needs `generator:` (with params) or an `ops:` list");

  Workload w;
  if (gen) {
    const std::string gname = text("generator");
    const Generator* g = find_generator(gname);
    if (!g) {
      std::string hint = closest_match(gname, generator_names());
      throw InputError(gen->mark, "unknown generator '" + gname + "'" +
                                      (hint.empty() ? "" : " (did you mean '" + hint + "'?)") + "; known: " +
                                      join(generator_names()));
    }
    ParamSet p = validate_params(name, g->name, merged_params(root, *g, gen_sets), g->specs, {});
    w = g->fn(p, name);
  } else {
    for (const char* k : {"params", "defaults"})
      if (const ConfigNode* n = root.find(k))
        throw InputError(n->key_mark, std::string("`") + k + ":` belongs to the generator form; explicit ops " +
                                          "carry their sizes themselves");
    if (!gen_sets.empty())
      throw InputError(SourceMark{"--set", 0, 0}, "workload '" + name + "' lists its ops explicitly and has no " +
                                                      "parameters to set (valid: stack)");
    w.name = name;
    parse_explicit_ops(*ops, w);
    w.description = text("description");
    if (w.description.empty()) w.description = name + " (" + std::to_string(w.ops.size()) + " explicit ops)";
  }
  w.name = name;
  w.source = source;
  topological_order(w);  // rejects cycles with the op's line
  try {
    apply_stack(w, parse_stack(stack.empty() ? "eager" : stack));
  } catch (const std::invalid_argument& e) {
    throw InputError(stack_mark, e.what());
  }
  return w;
}

Workload load_workload(const std::string& path, const std::vector<std::string>& sets) {
  return parse_workload(load_yaml_file(path), path, sets);
}

ModelParams load_model_params(const std::string& path, const std::vector<std::string>& sets,
                              const std::string& generator) {
  const ConfigNode root = load_yaml_file(path);
  // The whole file is checked as a step of the model would be; pipeline stages are the engine's to build (a step
  // takes pp only for training), so pp is validated with the parameters below, not by building a step.
  std::vector<std::string> step_sets;
  for (const auto& s : sets)
    if (s.rfind("pp=", 0) != 0) step_sets.push_back(s);
  Workload w = parse_workload(root, path, step_sets);
  const ConfigNode* gen = root.find("generator");
  if (!gen || gen->scalar != generator)
    throw InputError(gen ? gen->mark : root.mark, "expected a workload of generator '" + generator + "'" +
                                                      (gen ? ", found '" + gen->scalar + "'" : ", found explicit ops"));
  std::vector<std::string> gen_sets;
  for (const auto& s : sets)
    if (s.rfind("stack=", 0) != 0) gen_sets.push_back(s);
  const Generator* g = find_generator(generator);
  ModelParams m{w.name, w.stack, validate_params(w.name, g->name, merged_params(root, *g, gen_sets), g->specs, {})};
  return m;
}

}  // namespace xpu
