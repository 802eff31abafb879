// Chakra execution traces (MLCommons): a GlobalMetadata message, then Node messages, each preceded by its length
// as a varint. Read one message at a time, so a trace of millions of nodes never sits in memory as protobufs.
// GPU compute nodes keep their measured duration (the PyTorch-converted traces name kernels, not ops), or are
// modelled from num_ops / tensor_size where the producer recorded them; collectives become collective ops.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <regex>
#include <unordered_map>

#include "chakra_et.pb.h"
#include "sim/trace/trace_names.h"
#include "sim/trace/trace_deps.h"
#include "sim/trace/trace_file.h"
#include "sim/trace/trace_reader.h"

namespace xpu {
namespace {

namespace pb = xpu_chakra;
namespace fs = std::filesystem;

// Varint length prefix; false at a clean end of file (before its first byte).
bool read_length(TraceFile& f, uint64_t& len) {
  len = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    int b = f.get();
    if (b < 0) {
      if (shift == 0) return false;
      f.fail("truncated file: the data ends inside a message length");
    }
    len |= uint64_t(b & 0x7f) << shift;
    if (!(b & 0x80)) return true;
  }
  f.fail("malformed message length (a varint of more than 10 bytes): not a Chakra trace?");
}

bool next_message(TraceFile& f, std::string& buf, const std::string& what) {
  uint64_t len;
  if (!read_length(f, len)) return false;
  if (len > (uint64_t(1) << 30)) f.fail("message length " + std::to_string(len) + " is implausible: not a Chakra trace?");
  buf.resize(len);
  f.read_exact(buf.data(), len, what);
  return true;
}

double attr_number(const pb::AttributeProto& a) {
  switch (a.value_case()) {
    case pb::AttributeProto::kDoubleVal: return a.double_val();
    case pb::AttributeProto::kFloatVal: return a.float_val();
    case pb::AttributeProto::kInt32Val: return a.int32_val();
    case pb::AttributeProto::kInt64Val: return double(a.int64_val());
    case pb::AttributeProto::kUint32Val: return a.uint32_val();
    case pb::AttributeProto::kUint64Val: return double(a.uint64_val());
    case pb::AttributeProto::kSint32Val: return a.sint32_val();
    case pb::AttributeProto::kSint64Val: return double(a.sint64_val());
    case pb::AttributeProto::kFixed32Val: return a.fixed32_val();
    case pb::AttributeProto::kFixed64Val: return double(a.fixed64_val());
    case pb::AttributeProto::kSfixed32Val: return a.sfixed32_val();
    case pb::AttributeProto::kSfixed64Val: return double(a.sfixed64_val());
    case pb::AttributeProto::kBoolVal: return a.bool_val() ? 1 : 0;
    default: return NAN;
  }
}

struct Attrs {
  std::unordered_map<std::string, double> num;
  std::unordered_map<std::string, std::string> text;
  explicit Attrs(const pb::Node& n) {
    for (const auto& a : n.attr()) {
      if (a.value_case() == pb::AttributeProto::kStringVal) text[a.name()] = a.string_val();
      else if (double v = attr_number(a); !std::isnan(v)) num[a.name()] = v;
    }
  }
  double get(const std::string& k, double def = -1) const {
    auto it = num.find(k);
    return it == num.end() ? def : it->second;
  }
};

std::string comm_name(int type) {
  switch (type) {
    case pb::ALL_REDUCE: case pb::REDUCE: return "all_reduce";
    case pb::ALL_GATHER: case pb::GATHER: return "all_gather";
    case pb::REDUCE_SCATTER: case pb::REDUCE_SCATTER_BLOCK: case pb::SCATTER: return "reduce_scatter";
    case pb::ALL_TO_ALL: return "all_to_all";
    case pb::BROADCAST: return "broadcast";
    case pb::BARRIER: return "barrier";
    default: return "";
  }
}

// Chakra writes one file per rank, <prefix>.<rank>.et: the group of a collective is the number of ranks beside it,
// since the node itself does not say.
int64_t ranks_beside(const std::string& path) {
  static const std::regex rank_file(R"((.*)\.(\d+)\.et(\.gz)?)");
  std::smatch m;
  std::string base = fs::path(path).filename().string();
  if (!std::regex_match(base, m, rank_file)) return 0;
  std::string prefix = m[1];
  int64_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(path).parent_path().empty() ? "." : fs::path(path).parent_path(), ec)) {
    std::smatch m2;
    std::string other = e.path().filename().string();
    if (std::regex_match(other, m2, rank_file) && m2[1] == prefix) ++n;
  }
  return n;
}

// num_ops and tensor_size without a shape: a dense GEMM when the arithmetic intensity is GEMM-like, else a
// streaming kernel moving `tensor_size` bytes; either way the machine's compute and memory ceilings both count.
Op op_from_counts(const std::string& name, double ops, double bytes, DType dt, double measured_us) {
  Op op;
  op.name = name;
  op.dtype = op.out_dtype = dt;
  op.measured_us = measured_us;
  double e = dtype_bytes(dt);
  if (ops > 0 && ops >= 16 * std::max(bytes, 1.0)) {
    int64_t m = std::max<int64_t>(1, std::llround(std::cbrt(ops / 2)));
    op.kind = OpKind::matmul;
    op.variant = "from num_ops";
    op.shape = MatmulShape{1, m, m, m, true};
    op.reads = {{"", double(m) * m * e}, {"", double(m) * m * e}};
    op.writes = {{"", double(m) * m * e}};
  } else {
    int64_t elements = std::max<int64_t>(1, std::llround(bytes / (2 * e)));
    op.kind = OpKind::elementwise;
    op.variant = "from tensor_size";
    op.shape = ElementwiseShape{elements, 1, ops / double(elements)};
    op.reads = {{"", elements * e}};
    op.writes = {{"", elements * e}};
  }
  return op;
}

DType dtype_of_inputs(const pb::Node& n) {
  // types is a Python-literal list: "['Tensor(c10::BFloat16)', 'Int', ...]"; the first tensor type decides.
  const std::string& t = n.inputs().types();
  for (const char* key : {"BFloat16", "Half", "Float8", "float", "double"})
    if (t.find(key) != std::string::npos) {
      std::string k = key;
      return k == "BFloat16" ? DType::bf16 : k == "Half" ? DType::fp16 : k == "Float8" ? DType::fp8 : DType::fp32;
    }
  return DType::fp32;
}

std::vector<double> numbers(const std::string& text, size_t from = 0) {
  std::vector<double> v;
  size_t i = from;
  while (i < text.size()) {
    size_t j = text.find(',', i);
    if (j == std::string::npos) j = text.size();
    const double x = std::stod(text.substr(i, j - i));
    if (!std::isfinite(x) || x < 0 || x > 1e15) throw std::invalid_argument("xpu_shape holds " + text.substr(i, j - i));
    v.push_back(x);
    i = j + 1;
  }
  return v;
}

std::vector<TensorRef> tensors(const std::string& text) {
  std::vector<TensorRef> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t nl = text.find('\n', i), tab = text.find('\t', i);
    if (nl == std::string::npos || tab == std::string::npos || tab > nl) throw std::invalid_argument("tensor list");
    const double bytes = std::stod(text.substr(tab + 1, nl - tab - 1));
    if (!std::isfinite(bytes) || bytes < 0) throw std::invalid_argument("a tensor of " + std::to_string(bytes) + " bytes");
    out.push_back({text.substr(i, tab - i), bytes});
    i = nl + 1;
  }
  return out;
}

// The converter writes a node's inputs as Python literals ("[[64], [64], []]", "['Tensor(float)', 'Bool']",
// "[[4, 5, 0, 64, 4, 'cuda:0'], True]"): the same text as JSON, for the execution-trace argument reader.
nlohmann::json python_literal(const std::string& text) {
  std::string j;
  j.reserve(text.size() + 8);
  for (size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (ch == '\'' || ch == '"') {
      j += '"';
      for (++i; i < text.size() && text[i] != ch; ++i) {
        if (text[i] == '"' || text[i] == '\\') j += '\\';
        j += text[i];
      }
      j += '"';
    } else if (ch == '(') {
      j += '[';
    } else if (ch == ')') {
      j += ']';
    } else if (std::isdigit(static_cast<unsigned char>(ch)) || ch == '-' || ch == '.') {
      size_t e = i;  // a number, exponent included ("1e-05")
      while (e < text.size() && (std::isdigit(static_cast<unsigned char>(text[e])) || std::strchr("eE+-.", text[e])))
        ++e;
      j += text.substr(i, e - i);
      i = e - 1;
    } else if (std::isalpha(static_cast<unsigned char>(ch))) {
      size_t e = i;
      while (e < text.size() && (std::isalnum(static_cast<unsigned char>(text[e])) || text[e] == '_')) ++e;
      const std::string word = text.substr(i, e - i);
      j += word == "True" ? "true" : word == "False" ? "false" : "null";  // None, inf, nan: no usable value
      i = e - 1;
    } else {
      j += ch;
    }
  }
  return nlohmann::json::parse(j, nullptr, false);
}

// A GPU kernel's framework op, from the inputs the converter copied from it and its parent's name.
std::optional<Op> kernel_op(const pb::Node& n, const std::string& parent, std::string& why) {
  static const std::regex suffix(R"(\(\d+\)$)");
  AtenCall call;
  call.name = std::regex_replace(parent, suffix, "");
  call.kernel = n.name();
  nlohmann::json node = {{"inputs",
                          {{"values", python_literal(n.inputs().values())},
                           {"shapes", python_literal(n.inputs().shapes())},
                           {"types", python_literal(n.inputs().types())}}}};
  for (auto& [k, v] : node["inputs"].items())
    if (v.is_discarded()) v = nlohmann::json::array();
  call.args = et_io_args(node, "inputs");
  MapResult r = map_aten(call);
  if (!r.op) {
    why = r.why;
    return std::nullopt;
  }
  return r.op->op;
}

// A node `xpusim run --chakra` wrote: the op exactly as it was simulated (chakra_writer's describe_op).
Op xpusim_op(const pb::Node& n, const Attrs& at) {
  auto text = [&](const char* k) {
    auto it = at.text.find(k);
    if (it == at.text.end()) throw std::invalid_argument(std::string("missing attribute ") + k);
    return it->second;
  };
  Op op;
  op.name = n.name();
  op.kind = parse_op_kind(text("xpu_kind"));
  op.variant = text("xpu_variant");
  op.dtype = parse_dtype(text("xpu_dtype"));
  op.out_dtype = parse_dtype(text("xpu_out_dtype"));
  if (auto it = at.text.find("xpu_layer"); it != at.text.end()) op.layer = it->second;
  const std::string shape = text("xpu_shape");
  auto need = [](const std::vector<double>& v, size_t k) {
    if (v.size() != k) throw std::invalid_argument("xpu_shape has " + std::to_string(v.size()) + " numbers, expected " +
                                                   std::to_string(k));
    return v;
  };
  auto i64 = [](double d) { return int64_t(std::llround(d)); };
  switch (op.kind) {
    case OpKind::matmul: {
      auto v = need(numbers(shape), 5);
      op.shape = MatmulShape{i64(v[0]), i64(v[1]), i64(v[2]), i64(v[3]), v[4] != 0};
      break;
    }
    case OpKind::attention: {
      auto v = need(numbers(shape), 8);
      op.shape = AttentionShape{i64(v[0]), i64(v[1]), i64(v[2]), i64(v[3]), i64(v[4]), i64(v[5]), v[6] != 0, v[7] != 0};
      break;
    }
    case OpKind::elementwise: {
      auto v = need(numbers(shape), 3);
      op.shape = ElementwiseShape{i64(v[0]), i64(v[1]), v[2]};
      break;
    }
    case OpKind::norm:
    case OpKind::softmax: {
      auto v = need(numbers(shape), 2);
      op.shape = RowShape{i64(v[0]), i64(v[1])};
      break;
    }
    case OpKind::embedding_bag: {
      auto v = need(numbers(shape), 5);
      op.shape = EmbeddingBagShape{i64(v[0]), i64(v[1]), i64(v[2]), i64(v[3]), i64(v[4])};
      break;
    }
    case OpKind::concat:
    case OpKind::interaction: {
      auto v = need(numbers(shape), 3);
      op.shape = FeatureShape{i64(v[0]), i64(v[1]), i64(v[2])};
      break;
    }
    case OpKind::collective: {
      const size_t comma = shape.find(',');
      if (comma == std::string::npos) throw std::invalid_argument("xpu_shape of a collective");
      auto v = need(numbers(shape, comma + 1), 3);
      op.shape = CollectiveShape{shape.substr(0, comma), i64(v[0]), i64(v[1]), i64(v[2])};
      break;
    }
  }
  op.reads = tensors(text("xpu_reads"));
  op.writes = tensors(text("xpu_writes"));
  op.weight_bits = int(at.get("xpu_weight_bits", 0));
  if (op.weight_bits != 0 && op.weight_bits != 4 && op.weight_bits != 8)
    throw std::invalid_argument("xpu_weight_bits " + std::to_string(op.weight_bits) + " (4 or 8)");
  for (auto [key, field] : {std::pair<const char*, double*>{"xpu_epilogue_bytes", &op.epilogue_read_bytes},
                            {"xpu_epilogue_flops", &op.epilogue_flops}})
    if (auto it = at.text.find(key); it != at.text.end()) {
      *field = std::stod(it->second);
      if (!std::isfinite(*field) || *field < 0) throw std::invalid_argument(std::string(key) + " " + it->second);
    }
  op.weight_group = std::max<int64_t>(0, int64_t(std::min(at.get("xpu_weight_group", 0), 1e9)));
  return op;
}

}  // namespace

TraceWorkload read_chakra(const std::string& path, int64_t ranks_hint) {
  TraceFile f(path);
  TraceWorkload out;
  out.stats.format = "chakra";
  std::string buf;
  pb::GlobalMetadata meta;
  if (!next_message(f, buf, "the GlobalMetadata message"))
    throw InputError(SourceMark{path, 0, 0}, "empty trace file (expected a Chakra GlobalMetadata message)");
  if (!meta.ParseFromString(buf))
    throw InputError(SourceMark{path, 0, 0}, "not a Chakra trace: the first message is not a GlobalMetadata");
  std::string version = meta.version();
  std::map<std::string, std::string> meta_text;
  for (const auto& a : meta.attr())
    if (a.value_case() == pb::AttributeProto::kStringVal) meta_text[a.name()] = a.string_val();
  if (meta_text.count("schema")) version = meta_text["schema"];
  const bool by_xpusim = meta_text["producer"] == "xpusim";
  if (!version.empty()) out.stats.notes.push_back("schema " + version);

  Workload& w = out.workload;
  w.name = strip_gz(fs::path(path).filename().string());
  w.source = path;
  std::vector<uint64_t> ids;
  std::vector<std::vector<uint64_t>> dep_ids;
  std::vector<long> op_of_node;
  int64_t ranks = -1;  // computed on the first collective
  size_t host = 0, zero_dur = 0, gathers = 0, merged = 0;
  long parent_instance = -1;                        // the CPU op the next GPU kernels belong to, counted
  std::string parent_name;                          // and its name ("aten::conv2d")
  std::unordered_map<long, size_t> op_of_parent;    // the op a parent's first kernel became
  pb::Node n;
  for (size_t k = 0; next_message(f, buf, "Node message #" + std::to_string(k + 1)); ++k) {
    if (!n.ParseFromString(buf))
      throw InputError(SourceMark{path, 0, 0}, "Node message #" + std::to_string(k + 1) + " is not a valid Chakra Node");
    Attrs at(n);
    ids.push_back(n.id());
    std::vector<uint64_t> d(n.data_deps().begin(), n.data_deps().end());
    d.insert(d.end(), n.ctrl_deps().begin(), n.ctrl_deps().end());
    dep_ids.push_back(std::move(d));
    op_of_node.push_back(-1);
    double dur = double(n.duration_micros());
    bool on_host = at.get("is_cpu_op", 0) != 0;
    Op op;
    bool described = false;  // written by xpusim with the op itself: its tensors keep their names
    if (by_xpusim && n.type() == pb::COMP_NODE && at.text.count("xpu_kind")) {
      const std::string& kind = at.text.at("xpu_kind");
      if (kind == "none") continue;  // a pipeline end with nothing to send or receive: only its ordering counts
      if (kind == "measured") {
        op = unmodelled_op(n.name(), n.name(), double(n.duration_micros()));
        out.stats.unmodelled_one(n.name());
      } else {
        try {
          op = xpusim_op(n, at);
        } catch (const std::logic_error& e) {  // invalid_argument, or a number out of range
          throw InputError(SourceMark{path, 0, 0}, "node " + std::to_string(n.id()) + " ('" + n.name() +
                                                       "'): malformed xpu_* attributes: " + e.what());
        }
        op.measured_us = n.duration_micros() ? double(n.duration_micros()) : -1;
        ++out.stats.mapped;
        described = true;
      }
    } else if (on_host && (n.type() == pb::COMP_NODE || n.type() == pb::COMM_COLL_NODE)) {
      if (n.type() == pb::COMP_NODE) {
        // The converter brackets an op's kernels with CPU nodes aten::op(0), aten::op(1), ...: a "(0)" (or a name
        // without a count) starts the next op.
        static const std::regex piece(R"((.*)\((\d+)\)$)");
        std::smatch m;
        const std::string& name = n.name();
        if (!std::regex_match(name, m, piece) || m[2] == "0" || m[1] != parent_name) {
          ++parent_instance;
          parent_name = std::regex_match(name, m, piece) ? m[1].str() : name;
        }
      }
      ++host;  // host-side calls: their order reaches the kernels through resolve_deps
      continue;
    } else if (n.type() == pb::COMP_NODE) {
      if (!n.duration_micros()) ++zero_dur;
      double ops = at.get("num_ops"), bytes = at.get("tensor_size");
      if (ops > 0 || bytes > 0) {
        op = op_from_counts(n.name(), std::max(ops, 0.0), std::max(bytes, 0.0), dtype_of_inputs(n), dur);
        ++out.stats.mapped;
      } else {
        // A converted PyTorch trace: a kernel carries the inputs of the CPU op that launched it (its control
        // dependencies only order it after the previous op), so the latest CPU op with those inputs is its parent.
        // A parent's kernels together are that op, re-timed once: the first carries the op, the others add their
        // measured time to it.
        const long parent = parent_instance;
        std::string why;
        std::optional<Op> framework;
        if (parent >= 0) {
          if (auto it = op_of_parent.find(parent); it != op_of_parent.end()) {
            w.ops[it->second].measured_us += dur;
            ++merged;
            continue;
          }
          try {
            framework = kernel_op(n, parent_name, why);
          } catch (const InputError& err) {  // a corrupt size among the inputs the converter copied
            throw InputError(SourceMark{path, 0, 0}, "node " + std::to_string(n.id()) + " ('" + n.name() +
                                                         "'): an input " + std::string(err.what()).substr(7));
          }
        }
        if (framework) {
          op = std::move(*framework);
          op.name = parent_name;
          op.measured_us = dur;
          op_of_parent[parent] = w.ops.size();
          ++out.stats.mapped;
        } else {
          std::string s = short_kernel_name(n.name());
          op = unmodelled_op(s, s, dur);
          out.stats.unmodelled_one(why.empty() ? s : why);
        }
      }
    } else if (n.type() == pb::COMM_COLL_NODE || n.type() == pb::COMM_SEND_NODE || n.type() == pb::COMM_RECV_NODE) {
      CollectiveShape s;
      s.op = n.type() == pb::COMM_COLL_NODE ? comm_name(int(at.get("comm_type", 0))) : "send_recv";
      if (s.op.empty()) s.op = collective_name(n.name());
      s.bytes = int64_t(std::max(0.0, at.get("comm_size", 0)));
      s.group = int64_t(at.get("comm_group_size", at.get("group_size", 0)));
      if (auto it = at.text.find("pg_name"); it != at.text.end()) s.pg = it->second;
      else if (double pg = at.get("pg_name", -1); pg >= 0) s.pg = std::to_string(int64_t(pg));
      if (n.type() != pb::COMM_COLL_NODE) {
        s.recv = n.type() == pb::COMM_RECV_NODE;
        s.peer = int64_t(at.get(s.recv ? "comm_src" : "comm_dst", -1));
        s.tag = int64_t(at.get("comm_tag", 0));
        if (s.group <= 0) s.group = 2;
      }
      if (s.group <= 0) {
        if (ranks < 0) ranks = ranks_hint > 0 ? ranks_hint : ranks_beside(path);
        s.group = ranks;
      }
      // ASTRA-sim's convention: an all-gather's comm_size is each rank's input; xpusim counts the gathered output,
      // as nccl-tests does (all-reduce, reduce-scatter and all-to-all sizes are the whole input in both).
      if (s.op == "all_gather" && s.group > 1) {
        s.bytes *= s.group;
        ++gathers;
      }
      if (s.op.empty() || s.op == "barrier") {
        out.stats.skip(n.name() + ": collective type " + std::to_string(int(at.get("comm_type", -1))) + " not modelled");
        continue;
      }
      if (s.group <= 1 && dur > 0) {
        // A rank's file alone does not say how many ranks took part: keep what it measured.
        op = unmodelled_op(short_kernel_name(n.name()), s.op + " (group size unknown)", dur);
        out.stats.unmodelled_one(op.variant.substr(11));
      } else {
        op.name = by_xpusim ? n.name() : short_kernel_name(n.name());
        op.kind = OpKind::collective;
        op.variant = s.op;
        if (auto it = at.text.find("xpu_variant"); by_xpusim && it != at.text.end()) op.variant = it->second;
        op.shape = s;
        op.reads = {{"", double(s.bytes)}};
        op.writes = {{"", double(s.bytes)}};
        op.measured_us = dur > 0 ? dur : -1;
        ++out.stats.mapped;
      }
    } else {
      out.stats.skip(pb::NodeType_Name(n.type()) + " nodes are not modelled");
      continue;
    }
    if (!described)
      for (size_t r = 0; r < op.reads.size(); ++r) op.reads[r].name = "n" + std::to_string(n.id()) + ".in" + std::to_string(r);
    if (!described)
      for (size_t r = 0; r < op.writes.size(); ++r) op.writes[r].name = "n" + std::to_string(n.id()) + ".out" + std::to_string(r);
    op.mark = SourceMark{path, 0, 0};
    op_of_node.back() = long(w.ops.size());
    w.ops.push_back(std::move(op));
  }
  if (merged)
    out.stats.notes.push_back(std::to_string(merged) +
                              " GPU kernels merged into their framework op (re-timed together with its first kernel)");
  if (gathers) {
    out.stats.size_convention = std::to_string(gathers) +
                                " all_gather sizes read as ASTRA-sim writes them (comm_size: each rank's input) and "
                                "simulated on the gathered output (comm_size x group)";
    out.stats.notes.push_back(out.stats.size_convention);
  }
  if (host) out.stats.notes.push_back(std::to_string(host) + " host (CPU) nodes: not device work, their ordering kept");
  if (zero_dur)
    out.stats.notes.push_back(std::to_string(zero_dur) + " GPU compute nodes record no duration (under 1 us): taken as 0");

  std::unordered_map<uint64_t, size_t> index;
  for (size_t i = 0; i < ids.size(); ++i)
    if (!index.emplace(ids[i], i).second)
      throw InputError(SourceMark{path, 0, 0}, "two nodes have id " + std::to_string(ids[i]));
  std::vector<std::vector<size_t>> deps(ids.size());
  size_t missing = 0;
  for (size_t i = 0; i < ids.size(); ++i)
    for (uint64_t id : dep_ids[i]) {
      auto it = index.find(id);
      if (it == index.end()) ++missing;
      else deps[i].push_back(it->second);
    }
  if (missing) out.stats.notes.push_back(std::to_string(missing) + " dependencies on nodes absent from the file ignored");
  size_t cyclic = 0;
  auto resolved = resolve_deps(std::move(deps), op_of_node, w.ops.size(), cyclic);
  if (cyclic)
    out.stats.warnings.push_back("dropped " + std::to_string(cyclic) +
                                 " dependency edge(s) closing a cycle (the trace's dependencies are not acyclic)");
  for (size_t i = 0; i < w.ops.size(); ++i) w.ops[i].deps = std::move(resolved[i]);
  // ASTRA-sim's feeder issues nodes as their dependencies allow; a trace xpusim wrote says how its run was launched.
  w.host_dispatch = by_xpusim && meta_text["xpu_host_dispatch"] == "1";
  if (by_xpusim) {
    w.item = meta_text["xpu_item"];
    // The stack's fusions are in the exported ops already; its launch model (compiled, graphs) comes with them.
    if (const std::string& st = meta_text["xpu_stack"]; st == "compiled" || st == "graphs") w.stack = st;
    else if (!st.empty() && st != "eager")
      out.stats.warnings.push_back("GlobalMetadata: unknown xpu_stack '" + st + "': launched as eager");
    try {
      if (!meta_text["xpu_items"].empty()) w.items = std::stod(meta_text["xpu_items"]);
    } catch (const std::exception&) {
      throw InputError(SourceMark{path, 0, 0}, "GlobalMetadata: xpu_items '" + meta_text["xpu_items"] + "' is not a number");
    }
    if (!meta_text["xpu_description"].empty()) w.description = meta_text["xpu_description"] + " (replayed)";
    long bw = -1;
    try {
      if (!meta_text["xpu_backward_start"].empty()) bw = std::stol(meta_text["xpu_backward_start"]);
    } catch (const std::exception&) {
      throw InputError(SourceMark{path, 0, 0}, "GlobalMetadata: xpu_backward_start is not a number");
    }
    // The node ids are the exported ops' indices; the first op at or after that node starts the backward pass.
    for (size_t i = 0; bw >= 0 && i < ids.size(); ++i)
      if (long(ids[i]) >= bw && op_of_node[i] >= 0) {
        w.backward_start = size_t(op_of_node[i]);
        break;
      }
  }
  if (!by_xpusim || w.description.empty())
    w.description = "replay of " + w.name + " (" + std::to_string(w.ops.size()) + " device nodes)";
  return out;
}

}  // namespace xpu
