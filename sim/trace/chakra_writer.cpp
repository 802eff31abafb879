#include "sim/trace/chakra_writer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "chakra_et.pb.h"
#include "sim/config/errors.h"
#include "sim/workload/collective_layout.h"

namespace xpu {
namespace {

namespace pb = xpu_chakra;
namespace fs = std::filesystem;

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(char(v | 0x80));
    v >>= 7;
  }
  out.push_back(char(v));
}

void add_attr(pb::Node& n, const std::string& name, int64_t v) {
  auto* a = n.add_attr();
  a->set_name(name);
  a->set_int64_val(v);
}
void add_attr(pb::Node& n, const std::string& name, const std::string& v) {
  auto* a = n.add_attr();
  a->set_name(name);
  a->set_string_val(v);
}
void add_bool(pb::Node& n, const std::string& name, bool v) {
  auto* a = n.add_attr();
  a->set_name(name);
  a->set_bool_val(v);
}

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string tensors_text(const std::vector<TensorRef>& ts) {
  std::string out;
  for (const auto& t : ts) out += t.name + "\t" + num(t.bytes) + "\n";
  return out;
}

int comm_type(const std::string& op) {
  if (op == "all_reduce") return pb::ALL_REDUCE;
  if (op == "all_gather") return pb::ALL_GATHER;
  if (op == "reduce_scatter") return pb::REDUCE_SCATTER;
  if (op == "all_to_all") return pb::ALL_TO_ALL;
  if (op == "broadcast") return pb::BROADCAST;
  return -1;
}

// The op as xpusim wrote it, for an exact re-timing on replay.
void describe_op(pb::Node& n, const Op& op) {
  add_attr(n, "xpu_kind", op_kind_name(op.kind));
  add_attr(n, "xpu_variant", op.variant);
  add_attr(n, "xpu_dtype", dtype_name(op.dtype));
  add_attr(n, "xpu_out_dtype", dtype_name(op.out_dtype));
  add_attr(n, "xpu_shape", shape_text(op.shape));
  add_attr(n, "xpu_reads", tensors_text(op.reads));
  add_attr(n, "xpu_writes", tensors_text(op.writes));
  if (!op.layer.empty()) add_attr(n, "xpu_layer", op.layer);
  if (op.epilogue_read_bytes > 0 || op.epilogue_flops > 0) {
    add_attr(n, "xpu_epilogue_bytes", num(op.epilogue_read_bytes));
    add_attr(n, "xpu_epilogue_flops", num(op.epilogue_flops));
  }
  if (op.weight_bits > 0) {
    add_attr(n, "xpu_weight_bits", int64_t(op.weight_bits));
    add_attr(n, "xpu_weight_group", op.weight_group);
  }
}

// The order a pipeline stage issues its ops in, as Megatron's 1F1B schedule does: the generated rank lists each
// micro-batch's forward and backward in turn (ops named *.mb<k>, the backward from the same offset in each copy as
// the first's), the stage `stage` of `pp` runs min(pp - stage - 1, m) forwards ahead, then one forward and one
// backward in turn, then the remaining backwards; ops of no micro-batch (the weight update) come last.
std::vector<size_t> one_f_one_b(const Workload& wl, int64_t stage, int64_t pp) {
  std::vector<size_t> plain(wl.ops.size());
  for (size_t i = 0; i < plain.size(); ++i) plain[i] = i;
  if (pp <= 1 || wl.backward_start >= wl.ops.size()) return plain;
  std::vector<long> mb_of(wl.ops.size(), -1);
  std::vector<size_t> first;
  for (size_t i = 0; i < wl.ops.size(); ++i) {
    const std::string& n = wl.ops[i].name;
    const size_t dot = n.rfind(".mb");
    if (dot == std::string::npos || dot + 3 >= n.size() ||
        n.find_first_not_of("0123456789", dot + 3) != std::string::npos)
      continue;
    const long k = std::stol(n.substr(dot + 3));
    if (k < 0 || size_t(k) > first.size()) return plain;  // not the generator's layout
    if (size_t(k) == first.size()) first.push_back(i);
    mb_of[i] = k;
  }
  const long m = long(first.size());
  if (m < 2 || wl.backward_start < first[0]) return plain;
  const size_t bwd_offset = wl.backward_start - first[0];
  std::vector<std::vector<size_t>> fwd(m), bwd(m);
  std::vector<size_t> rest;
  for (size_t i = 0; i < wl.ops.size(); ++i) {
    if (mb_of[i] < 0) rest.push_back(i);
    else (i - first[mb_of[i]] < bwd_offset ? fwd : bwd)[mb_of[i]].push_back(i);
  }
  std::vector<size_t> order;
  auto take = [&](const std::vector<size_t>& v) { order.insert(order.end(), v.begin(), v.end()); };
  const long warm = std::min<long>(long(pp - stage - 1), m);
  for (long k = 0; k < warm; ++k) take(fwd[k]);
  for (long k = 0; k + warm < m; ++k) {
    take(fwd[k + warm]);
    take(bwd[k]);
  }
  for (long k = std::max<long>(0, m - warm); k < m; ++k) take(bwd[k]);
  take(rest);
  return order;
}

}  // namespace

std::vector<std::string> write_chakra(const std::string& dir, const Workload& wl, const RunResult& r) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!fs::is_directory(dir, ec)) throw InputError(SourceMark{dir, 0, 0}, "cannot create this directory for --chakra");
  const int64_t R = job_ranks(wl);
  std::vector<double> dur_us(wl.ops.size(), 0);
  for (const auto& rec : r.ops)
    if (rec.index < dur_us.size()) dur_us[rec.index] = rec.duration_s() * 1e6;
  std::string stem = wl.name.empty() ? "workload" : wl.name;
  for (char& c : stem)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';

  std::vector<std::string> files;
  for (int64_t rank = 0; rank < R; ++rank) {
    std::string out;
    pb::GlobalMetadata meta;
    meta.set_version("0.0.4");
    auto add_meta = [&](const std::string& k, const std::string& v) {
      auto* a = meta.add_attr();
      a->set_name(k);
      a->set_string_val(v);
    };
    add_meta("schema", "1.0.2-chakra.0.0.4");
    add_meta("producer", "xpusim");
    add_meta("xpu_workload", wl.name);
    add_meta("xpu_description", wl.description);
    add_meta("xpu_host_dispatch", wl.host_dispatch ? "1" : "0");
    add_meta("xpu_stack", wl.stack);
    add_meta("xpu_backward_start", wl.backward_start == SIZE_MAX ? "-1" : std::to_string(wl.backward_start));
    auto dp = wl.parallel.find("dp");
    add_meta("xpu_items", num(wl.items * double(dp == wl.parallel.end() ? 1 : std::max<int64_t>(1, dp->second))));
    add_meta("xpu_item", wl.item);
    std::string buf;
    meta.SerializeToString(&buf);
    put_varint(out, buf.size());
    out += buf;

    auto pp_it = wl.parallel.find("pp");
    const int64_t pp = pp_it == wl.parallel.end() ? 1 : std::max<int64_t>(1, pp_it->second);
    const int64_t per_stage = std::max<int64_t>(1, R / pp);
    for (size_t i : one_f_one_b(wl, (rank / per_stage) % pp, pp)) {
      const Op& op = wl.ops[i];
      pb::Node n;
      n.set_id(i);
      n.set_name(op.name);
      for (size_t d : op.deps) n.add_data_deps(d);
      add_bool(n, "is_cpu_op", false);
      const bool comm = op.kind == OpKind::collective && op.variant != "pipeline_bubble" && op.variant.rfind("unmodelled:", 0) != 0;
      const auto* cs = std::get_if<CollectiveShape>(&op.shape);
      const uint64_t micros = uint64_t(std::llround(std::max(0.0, dur_us[i])));
      if (op.variant == "pipeline_bubble") {
        // The representative rank's stand-in for the time a stage waits; replayed ranks wait for each other instead.
        n.set_type(pb::COMP_NODE);
        n.set_name(op.name + " (pipeline idle: the replayed stages wait for each other instead)");
        add_attr(n, "xpu_kind", "none");
      } else if (comm && cs && cs->group > 1) {
        const CollectiveLayout l = collective_layout(op, wl);
        const int64_t block = l.group * l.stride, b = rank / block, off = rank % l.stride;
        const int64_t pos = (rank % block) / l.stride;  // this rank's place in its group
        describe_op(n, op);
        if (l.chain || cs->op == "send_recv") {
          // A pipeline hand-off. The generator names a stage's forward hand-offs "recv" (from the previous stage)
          // and "send" (to the next); autograd's backward of each ("recv.bwd", "send.bwd") moves the gradient back.
          const bool bwd = op.name.find(".bwd") != std::string::npos, send = op.name.rfind("send", 0) == 0;
          const bool sending = send != bwd;
          const int64_t peer_pos = pos + (send ? 1 : -1);
          if (peer_pos < 0 || peer_pos >= l.group) {
            n.set_type(pb::COMP_NODE);
            n.set_name(op.name + (sending ? " (last stage: nothing to send)" : " (first stage: nothing to receive)"));
            add_attr(n, "xpu_kind", "none");
          } else {
            n.set_type(sending ? pb::COMM_SEND_NODE : pb::COMM_RECV_NODE);
            add_attr(n, "comm_type", int64_t(sending ? pb::COMM_SEND_NODE : pb::COMM_RECV_NODE));
            add_attr(n, "comm_size", cs->bytes);
            add_attr(n, sending ? "comm_dst" : "comm_src", int64_t(rank + (peer_pos - pos) * l.stride));
            add_attr(n, "comm_tag", int64_t(0));
          }
        } else {
          const int ct = comm_type(cs->op);
          if (ct < 0) throw std::logic_error("chakra export: collective op '" + cs->op + "'");
          n.set_type(pb::COMM_COLL_NODE);
          add_attr(n, "comm_type", int64_t(ct));
          // ASTRA-sim's all-gather size is each rank's input; xpusim's is the gathered output.
          add_attr(n, "comm_size", cs->op == "all_gather" ? cs->bytes / l.group : cs->bytes);
          add_attr(n, "comm_group_size", l.group);
          auto* dims = n.add_attr();  // ASTRA-sim: the collective spans the network's dimensions
          dims->set_name("involved_dim");
          dims->mutable_bool_list()->add_values(true);
          add_attr(n, "pg_name", (op.variant.empty() ? std::string("group") : op.variant) + "." + std::to_string(l.group) +
                                     "." + std::to_string(b) + "." + std::to_string(off));
        }
      } else {
        n.set_type(pb::COMP_NODE);
        n.set_duration_micros(micros);
        add_attr(n, "num_ops", int64_t(std::llround(op.flops())));
        add_attr(n, "tensor_size", int64_t(std::llround(op.min_bytes())));
        if (op.measured_us >= 0 && op.variant.rfind("unmodelled:", 0) == 0) {
          // Kept at a measured duration in the run: so it stays.
          add_attr(n, "xpu_kind", "measured");
        } else {
          describe_op(n, op);
        }
      }
      buf.clear();
      n.SerializeToString(&buf);
      put_varint(out, buf.size());
      out += buf;
    }
    const std::string path = (fs::path(dir) / (stem + "." + std::to_string(rank) + ".et")).string();
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(out.data(), std::streamsize(out.size()));
    f.close();
    if (!f) throw InputError(SourceMark{path, 0, 0}, "cannot write this file");
    files.push_back(path);
  }
  return files;
}

}  // namespace xpu
