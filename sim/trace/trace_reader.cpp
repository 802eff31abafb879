#include "sim/trace/trace_reader.h"

#include <cctype>

#include "sim/trace/trace_file.h"

namespace xpu {
namespace {

bool ends_with(const std::string& s, const std::string& e) {
  return s.size() >= e.size() && s.compare(s.size() - e.size(), e.size(), e) == 0;
}

// First non-blank byte of the (decompressed) content, -1 for an empty file.
int first_byte(const std::string& path) {
  TraceFile f(path);
  for (int c = f.get(); c >= 0; c = f.get())
    if (!std::isspace(c)) return c;
  return -1;
}

std::string summary(const TraceStats& s) {
  std::string r = std::to_string(s.skipped) + " skipped";
  for (const auto& [why, n] : s.skipped_by) r += "; " + std::to_string(n) + " x " + why;
  return r;
}

// The parse of a JSON trace, split by the root's member: each element of a "nodes" array (an execution trace)
// becomes an EtNode as soon as it is complete; Kineto events are filtered by kineto_keep_event. Either way the bulk
// of a large trace is never held as JSON.
struct JsonTraceParse {
  std::string path;
  std::string top_key;    // the root object's member being parsed
  bool in_nodes = false;  // inside the root's "nodes" array
  std::vector<EtNode> nodes;

  bool operator()(int depth, nlohmann::json::parse_event_t ev, nlohmann::json& v) {
    using E = nlohmann::json::parse_event_t;
    if (depth == 1 && ev == E::key) {
      top_key = v.get<std::string>();
      in_nodes = false;
      return true;
    }
    if (depth == 1 && ev == E::array_start) in_nodes = top_key == "nodes";
    if (in_nodes && depth == 2) {
      if (ev == E::object_end) {
        nodes.push_back(et_node(v, nodes.size(), path));
        return false;
      }
      if (ev == E::value || ev == E::array_end)
        throw InputError(SourceMark{path, 0, 0}, "node #" + std::to_string(nodes.size()) + " is not an object");
    }
    return ev != E::object_end || kineto_keep_event(depth, v);
  }
};

}  // namespace

TraceWorkload read_trace(const std::string& path, int64_t ranks) {
  const std::string plain = strip_gz(path);
  TraceWorkload t;
  int c = ends_with(plain, ".et") ? 0 : first_byte(path);
  if (c < 0) throw InputError(SourceMark{path, 0, 0}, "empty trace file");
  if (c != '{' && c != '[' && !ends_with(plain, ".json")) {
    t = read_chakra(path, ranks);
  } else {
    JsonTraceParse parse;
    parse.path = path;
    nlohmann::json root = read_json(path, [&parse](int depth, nlohmann::json::parse_event_t ev, nlohmann::json& v) {
      return parse(depth, ev, v);
    });
    if (root.is_array() || (root.is_object() && root.contains("traceEvents"))) t = read_kineto(path, root);
    else if (root.is_object() && root.contains("nodes")) t = read_pytorch_et(path, root, parse.nodes);
    else
      throw InputError(SourceMark{path, 0, 0},
                       "unrecognised JSON trace: expected a Kineto/Chrome trace (\"traceEvents\") or a PyTorch "
                       "execution trace (\"nodes\")");
  }
  if (t.workload.ops.empty())
    throw InputError(SourceMark{path, 0, 0}, "nothing to simulate: no GPU work in the " + t.stats.format +
                                                 " trace (" + summary(t.stats) + ")");
  topological_order(t.workload);  // a dependency cycle among the kept ops is the trace's error, reported here
  return t;
}

void print_trace_report(std::ostream& out, const TraceStats& s) {
  out << "trace: " << s.format << ", " << s.mapped << " modelled ops, " << s.unmodelled
      << " kept with measured durations, " << s.skipped << " skipped\n";
  for (const auto& n : s.notes) out << "  note: " << n << "\n";
  for (const auto& [what, n] : s.unmodelled_by) out << "  unmodelled: " << n << " x " << what << "\n";
  for (const auto& [why, n] : s.skipped_by) out << "warning: skipped " << n << " x " << why << "\n";
  for (const auto& w : s.warnings) out << "warning: " << w << "\n";
}

}  // namespace xpu
