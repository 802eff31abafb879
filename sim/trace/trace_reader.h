#pragma once
// Trace replay input: reads a profiler trace of a real run (Kineto/Chrome JSON, PyTorch execution trace JSON,
// Chakra protobuf; each optionally gzip-compressed) into the op IR, and accounts for everything it could not model
// so that nothing is dropped silently.
#include <nlohmann/json.hpp>

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "sim/trace/aten_map.h"
#include "sim/workload/op.h"

namespace xpu {

struct TraceStats {
  std::string format;                           // "kineto", "pytorch-et" or "chakra"
  size_t mapped = 0;                            // ops with a modelled shape
  size_t unmodelled = 0;                        // kept with their measured duration only
  size_t skipped = 0;                           // dropped, each with a reason
  std::map<std::string, size_t> unmodelled_by;  // what was kept unmodelled -> count
  std::map<std::string, size_t> skipped_by;     // reason -> count
  std::vector<std::string> notes;               // e.g. "kept profiler step 1 of 3"
  std::vector<std::string> warnings;            // problems with the trace that did not stop the replay
  std::string size_convention;                  // how collective sizes were read, where the producer's differs

  void unmodelled_one(const std::string& what) { ++unmodelled, ++unmodelled_by[what]; }
  void skip(const std::string& reason) { ++skipped, ++skipped_by[reason]; }
};

struct TraceWorkload {
  Workload workload;
  TraceStats stats;
};

// Picks the reader by extension (.et/.et.gz: Chakra) or content (JSON with traceEvents: Kineto; with nodes:
// execution trace). Throws InputError naming the file for unreadable, malformed or cyclic traces, and when no
// usable op is left.
// `ranks`: the ranks of the job the trace is one of (0: unknown), for a Chakra collective that does not record its
// group (ASTRA-sim's traces do not; without it, the files named like this one beside it are counted).
TraceWorkload read_trace(const std::string& path, int64_t ranks = 0);

// One line per kind of skipped or unmodelled op, with counts ("warning: skipped 12 x aten::foo: no mapping").
void print_trace_report(std::ostream& out, const TraceStats& s);

// One execution-trace node, reduced while parsing to what the reader uses: the node's JSON is dropped as soon as it
// is complete. `parent`: "ctrl_deps" (schema 1.0.x) or "parent" (older), -1 when absent.
struct EtNode {
  int64_t id = 0, parent = -1;
  std::string name;
  std::vector<AtenArg> inputs, outputs;
};
// One execution-trace node's inputs or outputs ("inputs" / "outputs") as aten call arguments, in either schema:
// {"values","shapes","types"} (1.0.x) or the older parallel arrays.
std::vector<AtenArg> et_io_args(const nlohmann::json& node, const char* io);
// Reduces element `index` of an execution trace's "nodes" array; InputError when it is not a well-formed node.
EtNode et_node(const nlohmann::json& node, size_t index, const std::string& path);

// Readers, one per format; read_trace dispatches to them. read_trace parses a JSON trace once, as a stream: it
// drops the Kineto events no reader uses and reduces execution-trace nodes to EtNode as it goes, so the Kineto
// reader gets the kept events and the ET reader the rest of the document (its "nodes" emptied) and the nodes.
TraceWorkload read_kineto(const std::string& path, const nlohmann::json& root);
TraceWorkload read_pytorch_et(const std::string& path, const nlohmann::json& root, const std::vector<EtNode>& nodes);
TraceWorkload read_chakra(const std::string& path, int64_t ranks = 0);
// The parse-time filter read_trace applies: keeps cpu ops, GPU activities, launches and step markers.
bool kineto_keep_event(int depth, const nlohmann::json& object);

}  // namespace xpu
