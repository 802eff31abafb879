#include "sim/workload/explicit_ops.h"

#include <algorithm>
#include <map>

#include "sim/config/params.h"
#include "sim/workload/builder.h"
#include "sim/workload/loader.h"

namespace xpu {

namespace {

const std::vector<std::string>& dtype_choices() {
  static const std::vector<std::string> d = {"fp32", "tf32", "fp16", "bf16", "fp8", "int8"};
  return d;
}

ParamSpec optional(ParamSpec s) {
  s.optional = true;
  return s;
}

std::vector<ParamSpec> common_specs() {
  return {p_string("name", "", "unique op name"),
          p_choice("kind", "", op_kind_names(), "op kind"),
          optional(p_string("variant", "", "finer kind: gelu, silu_mul, add, rmsnorm, layernorm, rope, ...")),
          p_choice("dtype", "bf16", dtype_choices(), "element type"),
          optional(p_string("layer", "", "grouping label for reports")),
          p_count("host_calls", "0",
                  "framework calls made just before this op that launch nothing (views, transposes, splits): an "
                  "eager host pays host.view_overhead for each",
                  0, 1e6)};
}

std::vector<ParamSpec> kind_specs(OpKind k) {
  switch (k) {
    case OpKind::matmul:
      return {p_count("batch", "1", "independent products", 1), p_count("m", "", "rows of A and C", 1),
              p_count("n", "", "columns of B and C", 1), p_count("k", "", "reduction size", 1),
              p_bool("b_shared", "true", "every batch uses the same B (a weight)"),
              optional(p_choice("out_dtype", "", dtype_choices(), "type of C (default: dtype)"))};
    case OpKind::attention:
      return {p_count("batch", "1", "sequences", 1), p_count("heads_q", "", "query heads", 1),
              optional(p_count("heads_kv", "", "key/value heads (default heads_q)", 1)),
              p_count("seq_q", "", "query tokens per sequence", 1),
              optional(p_count("seq_kv", "", "key/value tokens per sequence (default seq_q)", 1)),
              p_count("head_dim", "", "size of one head", 1), p_bool("causal", "true", "causal mask"),
              p_bool("backward", "false", "the backward pass instead")};
    case OpKind::elementwise:
      return {p_count("elements", "", "elements of the output (and of each input)", 1),
              p_real("flops_per_element", "1", "arithmetic per output element")};
    case OpKind::norm:
    case OpKind::softmax:
      return {p_count("rows", "", "rows normalised independently", 1), p_count("cols", "", "row length", 1)};
    case OpKind::embedding_bag:
      return {p_count("tables", "1", "tables of the same shape", 1), p_count("rows", "", "rows per table", 1),
              p_count("dim", "", "embedding dimension", 1), p_count("batch", "", "bags per table", 1),
              p_count("pooling", "1", "lookups summed per bag", 1)};
    case OpKind::concat:
    case OpKind::interaction:
      return {p_count("batch", "", "samples", 1), p_count("features", "", "feature vectors per sample", 1),
              p_count("dim", "", "feature vector size", 1)};
    case OpKind::collective:
      return {p_choice("op", "all_reduce",
                       {"all_reduce", "all_gather", "reduce_scatter", "all_to_all", "broadcast", "send_recv"},
                       "collective"),
              p_qty("bytes", Dim::Bytes, "", "bytes per device"), p_count("group", "1", "devices taking part", 1)};
  }
  return {};
}

OpShape make_shape(OpKind k, const ParamSet& p) {
  auto n = [&](const char* key) { return int64_t(p.count(key)); };
  switch (k) {
    case OpKind::matmul: return MatmulShape{n("batch"), n("m"), n("n"), n("k"), p.flag("b_shared")};
    case OpKind::attention:
      return AttentionShape{n("batch"),  n("heads_q"), p.has("heads_kv") ? n("heads_kv") : n("heads_q"),
                            n("seq_q"),  p.has("seq_kv") ? n("seq_kv") : n("seq_q"),
                            n("head_dim"), p.flag("causal"), p.flag("backward")};
    case OpKind::elementwise: return ElementwiseShape{n("elements"), 1, p.real("flops_per_element")};
    case OpKind::norm:
    case OpKind::softmax: return RowShape{n("rows"), n("cols")};
    case OpKind::embedding_bag:
      return EmbeddingBagShape{n("tables"), n("rows"), n("dim"), n("batch"), n("pooling")};
    case OpKind::concat:
    case OpKind::interaction: return FeatureShape{n("batch"), n("features"), n("dim")};
    case OpKind::collective: {
      if (p.qty("bytes") <= 0) throw InputError(p.at("bytes").mark, p.owner + ".bytes: must be more than 0");
      return CollectiveShape{p.str("op"), int64_t(p.qty("bytes")), n("group")};
    }
  }
  return ElementwiseShape{};
}

const std::string& scalar_of(const ConfigNode& n, const std::string& what) {
  if (!n.is_scalar()) throw InputError(n.mark, what + ": expected a name, found " + n.kind_name());
  return n.scalar;
}

// Names listed under `key` (a list, or one name); `present` tells an absent key from an empty list.
std::vector<const ConfigNode*> name_list(const ConfigNode& item, const std::string& key, const std::string& owner,
                                         bool& present) {
  std::vector<const ConfigNode*> out;
  const ConfigNode* n = item.find(key);
  present = n && n->kind != ConfigNode::Kind::Null;
  if (!present) return out;
  if (n->is_scalar()) return {n};
  if (!n->is_list()) throw InputError(n->mark, owner + "." + key + ": expected a list of names");
  for (const auto& e : n->list) {
    scalar_of(e, owner + "." + key);
    out.push_back(&e);
  }
  return out;
}

}  // namespace

const std::vector<ParamSpec>& op_param_specs(OpKind kind) {
  static const std::vector<std::vector<ParamSpec>> all = [] {
    std::vector<std::vector<ParamSpec>> v;
    for (size_t i = 0; i < op_kind_names().size(); ++i) v.push_back(kind_specs(static_cast<OpKind>(i)));
    return v;
  }();
  return all[static_cast<size_t>(kind)];
}

void parse_explicit_ops(const ConfigNode& list, Workload& w) {
  if (!list.is_list()) throw InputError(list.mark, "ops: expected a list of ops, found " + list.kind_name());
  if (list.list.empty()) throw InputError(list.mark, "ops: the list is empty");
  std::map<std::string, size_t> by_name;
  std::vector<const ConfigNode*> items;
  const size_t base = w.ops.size();

  for (const auto& item : list.list) {
    if (!item.is_map()) throw InputError(item.mark, "ops: each op is a mapping (name, kind, shape keys), found " +
                                                        item.kind_name());
    const ConfigNode* name_node = item.find("name");
    if (!name_node) throw InputError(item.mark, "op without a `name`");
    const std::string name = scalar_of(*name_node, "name");
    const std::string owner = "op '" + name + "'";
    const ConfigNode* kind_node = item.find("kind");
    if (!kind_node)
      throw InputError(item.mark, owner + ": missing `kind` (one of matmul, attention, elementwise, norm, softmax, "
                                          "embedding_bag, concat, interaction, collective)");
    OpKind kind;
    try {
      kind = parse_op_kind(scalar_of(*kind_node, name + ".kind"));
    } catch (const std::invalid_argument&) {
      std::string hint = closest_match(kind_node->scalar, op_kind_names());
      std::string all;
      for (const auto& k : op_kind_names()) all += (all.empty() ? "" : ", ") + k;
      throw InputError(kind_node->mark, owner + ": unknown op kind '" + kind_node->scalar + "'" +
                                            (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                                            "; expected one of " + all);
    }
    std::vector<ParamSpec> specs = common_specs();
    for (const auto& s : op_param_specs(kind)) specs.push_back(s);
    // Owner = the bare op name so that messages read "up.m: 0 is out of range".
    ParamSet p = validate_params(name, op_kind_name(kind), item, specs, {"after", "inputs"});

    Op op;
    op.name = name;
    op.kind = kind;
    op.variant = p.has("variant") ? p.str("variant") : "";
    op.layer = p.has("layer") ? p.str("layer") : "";
    op.host_calls = int(p.count("host_calls"));
    op.dtype = parse_dtype(p.str("dtype"));
    op.out_dtype = p.has("out_dtype") ? parse_dtype(p.str("out_dtype")) : op.dtype;
    op.shape = make_shape(kind, p);
    op.mark = item.mark;
    if (!by_name.emplace(name, base + items.size()).second)
      throw InputError(name_node->mark, "duplicate op name '" + name + "' (first defined at " +
                                            w.ops[by_name[name]].mark.str() + ")");

    // `inputs`: tensor names, or for elementwise a count of inputs.
    bool has_inputs = false;
    std::vector<std::string> in_names;
    const ConfigNode* in_node = item.find("inputs");
    if (in_node && in_node->is_scalar() && kind == OpKind::elementwise) {
      char* end = nullptr;
      long v = std::strtol(in_node->scalar.c_str(), &end, 10);
      if (in_node->scalar.empty() || *end || v < 1)
        throw InputError(in_node->mark, name + ".inputs: expected a count of at least 1 or a list of tensor names");
      std::get<ElementwiseShape>(op.shape).inputs = v;
    } else {
      for (const ConfigNode* n : name_list(item, "inputs", name, has_inputs)) in_names.push_back(n->scalar);
      if (has_inputs && kind == OpKind::elementwise) {
        if (in_names.empty())
          throw InputError(in_node->mark, name + ".inputs: an elementwise op reads at least one tensor");
        std::get<ElementwiseShape>(op.shape).inputs = int64_t(in_names.size());
      }
    }
    const std::vector<double> in_bytes = shape_input_bytes(op);
    if (has_inputs && in_names.size() != in_bytes.size())
      throw InputError(in_node->mark, name + ".inputs: a " + op_kind_name(kind) + " op reads " +
                                          std::to_string(in_bytes.size()) + " tensor(s), " +
                                          std::to_string(in_names.size()) + " named");
    for (size_t i = 0; i < in_bytes.size(); ++i)
      op.reads.push_back({has_inputs ? in_names[i] : name + ".in" + std::to_string(i), in_bytes[i]});
    op.writes.push_back({name + ".out", shape_output_bytes(op)});
    w.ops.push_back(std::move(op));
    items.push_back(&item);
  }

  // Second pass: `after` may name ops defined further down (a cycle is then caught by topological_order).
  std::vector<std::string> names;
  for (const auto& [n, i] : by_name) names.push_back(n);
  std::map<std::string, size_t> writer;
  for (size_t i = base; i < w.ops.size(); ++i) writer[w.ops[i].writes[0].name] = i;
  for (size_t j = 0; j < items.size(); ++j) {
    Op& op = w.ops[base + j];
    auto add_dep = [&](size_t d) {
      if (std::find(op.deps.begin(), op.deps.end(), d) == op.deps.end()) op.deps.push_back(d);
    };
    bool has_after = false;
    for (const ConfigNode* n : name_list(*items[j], "after", op.name, has_after)) {
      auto it = by_name.find(n->scalar);
      if (it == by_name.end()) {
        std::string hint = closest_match(n->scalar, names);
        throw InputError(n->mark, "op '" + op.name + "': `after` names unknown op '" + n->scalar + "'" +
                                      (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
      }
      if (it->second == base + j) throw InputError(n->mark, "op '" + op.name + "' cannot come after itself");
      add_dep(it->second);
    }
    if (!has_after && j > 0) add_dep(base + j - 1);
    for (size_t k = 0; k < op.reads.size(); ++k) {
      const std::string& rn = op.reads[k].name;
      auto it = writer.find(rn);
      if (it != writer.end() && it->second != base + j) add_dep(it->second);
      if (it != writer.end()) continue;
      // A dotted name refers to another op's tensor ("up.out", "norm.in0"): that op must exist, and ".out" must be
      // what it writes. Plain names are tensors from outside the workload (weights, inputs).
      const size_t dot = rn.rfind('.');
      if (dot == std::string::npos) continue;
      const std::string owner = rn.substr(0, dot), part = rn.substr(dot + 1);
      const bool owner_known = by_name.count(owner) > 0;
      if (owner_known && part != "out") continue;
      const ConfigNode* in_node = items[j]->find("inputs");
      const SourceMark mark = in_node && in_node->is_list() && k < in_node->list.size() ? in_node->list[k].mark
                                                                                         : items[j]->mark;
      std::vector<std::string> written;
      for (const auto& [t, i] : writer) written.push_back(t);
      std::string hint = closest_match(rn, written);
      throw InputError(mark, "op '" + op.name + "': input '" + rn + "' is " +
                                 (owner_known ? "not what op '" + owner + "' writes"
                                              : "the tensor of an op '" + owner + "' that the workload does not have") +
                                 (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                                 "; a tensor from outside the workload takes a plain name without a dot");
    }
  }
}

}  // namespace xpu
