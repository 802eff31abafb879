#include "sim/serve/serve_trace.h"

#include <cstdio>
#include <fstream>

#include "sim/config/errors.h"
#include "sim/report/json_stream.h"

namespace xpu {
namespace {

// Microseconds with picosecond digits kept: the trace format's unit.
void us(std::ostream& o, double s) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.6f", s * 1e6);
  o << buf;
}

}  // namespace

void write_serve_trace(const std::string& path, const ServeResult& r) {
  make_parent_dirs(path);
  std::ofstream o(path, std::ios::binary);
  if (!o) throw InputError(SourceMark{path, 0, 0}, "cannot write file");
  const int requests_pid = r.replicas;
  o << "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n";
  bool first = true;
  auto sep = [&] {
    if (!first) o << ",\n";
    first = false;
  };
  // Replicas are numbered pool by pool (the prefill pool first when disaggregated).
  int k = 0;
  for (const auto& p : r.pools)
    for (int i = 0; i < p.replicas; ++i, ++k) {
      sep();
      o << "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":" << k << ",\"args\":{\"name\":\"replica " << k << " ("
        << p.name << ", tp " << p.tp << ", pp " << p.pp << ")\"}}";
      sep();
      o << "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":" << k << ",\"tid\":0,\"args\":{\"name\":\"iterations\"}}";
    }
  sep();
  o << "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":" << requests_pid << ",\"args\":{\"name\":\"requests\"}}";
  for (const auto& s : r.samples) {
    sep();
    o << "{\"ph\":\"X\",\"cat\":\"iteration\",\"name\":\"" << s.tokens << " tokens, " << s.seqs
      << " requests\",\"pid\":" << s.replica << ",\"tid\":0,\"ts\":";
    us(o, s.start_s);
    o << ",\"dur\":";
    us(o, s.end_s - s.start_s);
    o << ",\"args\":{\"tokens\":" << s.tokens << ",\"requests\":" << s.seqs
      << ",\"prefill_tokens\":" << s.prefill_tokens << ",\"decodes\":" << s.decodes
      << ",\"kv_blocks_used\":" << s.kv_blocks_used << "}}";
    sep();
    o << "{\"ph\":\"C\",\"name\":\"batch\",\"pid\":" << s.replica << ",\"ts\":";
    us(o, s.start_s);
    o << ",\"args\":{\"tokens\":" << s.tokens << ",\"requests\":" << s.seqs << "}}";
    sep();
    o << "{\"ph\":\"C\",\"name\":\"kv_cache_occupancy_%\",\"pid\":" << s.replica << ",\"ts\":";
    us(o, s.start_s);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.3f",
                  s.kv_blocks > 0 ? 100.0 * double(s.kv_blocks_used) / double(s.kv_blocks) : 0);
    o << ",\"args\":{\"occupancy\":" << buf << "}}";
  }
  // Each request on its own async track: waiting, prefill (to the first token), decode (to the last).
  for (const auto& q : r.requests) {
    auto phase = [&](const char* name, double a, double b) {
      if (a < 0 || b < a) return;
      sep();
      o << "{\"ph\":\"b\",\"cat\":\"request\",\"name\":\"" << name << "\",\"id\":" << q.id
        << ",\"pid\":" << requests_pid << ",\"ts\":";
      us(o, a);
      o << ",\"args\":{\"request\":" << q.id << ",\"replica\":" << q.replica << ",\"prompt_tokens\":" << q.prompt_tokens
        << ",\"output_tokens\":" << q.output_tokens << ",\"preemptions\":" << q.preemptions << "}}";
      sep();
      o << "{\"ph\":\"e\",\"cat\":\"request\",\"name\":\"" << name << "\",\"id\":" << q.id
        << ",\"pid\":" << requests_pid << ",\"ts\":";
      us(o, b);
      o << "}";
    };
    const double end = q.finish_s >= 0 ? q.finish_s : r.duration_s;
    phase("queued", q.arrival_s, q.scheduled_s >= 0 ? q.scheduled_s : end);
    phase("prefill", q.scheduled_s, q.first_token_s >= 0 ? q.first_token_s : end);
    phase("decode", q.first_token_s, end);
  }
  o << "\n]}\n";
  if (!o.flush()) throw InputError(SourceMark{path, 0, 0}, "cannot write file (disk full?)");
}

}  // namespace xpu
