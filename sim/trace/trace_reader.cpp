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

}  // namespace

TraceWorkload read_trace(const std::string& path) {
  const std::string plain = strip_gz(path);
  TraceWorkload t;
  int c = ends_with(plain, ".et") ? 0 : first_byte(path);
  if (c < 0) throw InputError(SourceMark{path, 0, 0}, "empty trace file");
  if (c != '{' && c != '[' && !ends_with(plain, ".json")) {
    t = read_chakra(path);
  } else {
    nlohmann::json root = read_json(path, kineto_keep_event);
    if (root.is_array() || (root.is_object() && root.contains("traceEvents"))) t = read_kineto(path, root);
    else if (root.is_object() && root.contains("nodes")) t = read_pytorch_et(path, root);
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
