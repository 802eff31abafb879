#include "sim/serve/serve_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <ostream>

#include "sim/config/errors.h"
#include "sim/config/units.h"
#include "sim/report/format.h"

namespace xpu {

Slo parse_slo(const std::string& text) {
  Slo s;
  const SourceMark at{"--slo", 0, 0};
  size_t pos = 0;
  if (text.empty()) throw InputError(at, "expected ttft=TIME,tbt=TIME (either or both), got an empty value");
  bool bound = false;
  while (pos <= text.size()) {
    const size_t comma = text.find(',', pos);
    const std::string part = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    const size_t eq = part.find('=');
    const std::string key = part.substr(0, eq);
    if (eq != std::string::npos && key == "attainment") {
      char* end = nullptr;
      const std::string v = part.substr(eq + 1);
      s.attainment = std::strtod(v.c_str(), &end);
      if (v.empty() || *end || !(s.attainment > 0 && s.attainment <= 1))
        throw InputError(at, "attainment: expected a fraction in (0, 1], got '" + v + "'");
      if (comma == std::string::npos) break;
      pos = comma + 1;
      continue;
    }
    if (eq == std::string::npos || (key != "ttft" && key != "tbt"))
      throw InputError(at, "expected ttft=TIME,tbt=TIME (either or both), got '" + part + "'");
    double v = 0;
    try {
      v = parse_quantity(part.substr(eq + 1), Dim::Time);
    } catch (const std::exception& e) {
      throw InputError(at, key + ": expected a time such as 2s or 100ms, got '" + part.substr(eq + 1) + "'");
    }
    if (!(v > 0) || !std::isfinite(v)) throw InputError(at, key + " must be a positive time, got '" + part + "'");
    (key == "ttft" ? s.ttft_s : s.tbt_s) = v;
    bound = true;
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  if (!bound) throw InputError(at, "expected a bound: ttft=TIME and/or tbt=TIME, got '" + text + "'");
  return s;
}

Distribution distribution(std::vector<double> v) {
  Distribution d;
  d.count = v.size();
  if (v.empty()) return d;
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  d.mean = sum / double(v.size());
  auto q = [&](double p) {
    const double pos = p * double(v.size() - 1);
    const size_t i = size_t(std::floor(pos));
    const double f = pos - double(i);
    return i + 1 < v.size() ? v[i] * (1 - f) + v[i + 1] * f : v.back();
  };
  d.p50 = q(0.5);
  d.p90 = q(0.9);
  d.p99 = q(0.99);
  d.max = v.back();
  return d;
}

ServeMetrics serve_metrics(const ServeResult& r, const Slo& slo) {
  ServeMetrics m;
  m.requests = r.requests.size();
  std::vector<double> ttft, tbt, e2e, queue;
  for (const auto& q : r.requests) {
    m.prompt_tokens += q.prompt_tokens;
    m.output_tokens += q.generated;
    if (q.rejected) {
      ++m.rejected;
      continue;
    }
    if (!q.completed) continue;
    ++m.completed;
    ttft.push_back(q.first_token_s - q.arrival_s);
    e2e.push_back(q.finish_s - q.arrival_s);
    queue.push_back(q.scheduled_s - q.arrival_s);
    tbt.insert(tbt.end(), q.tbt_s.begin(), q.tbt_s.end());
    // Goodput (DistServe's definition): the first token within the TTFT bound and the mean gap within the TBT bound.
    if ((slo.ttft_s <= 0 || ttft.back() <= slo.ttft_s) && (slo.tbt_s <= 0 || q.mean_tbt_s() <= slo.tbt_s))
      ++m.goodput_requests;
  }
  const double T = r.duration_s;
  if (T > 0) {
    m.throughput_tokens_per_s = double(m.output_tokens) / T;
    m.throughput_requests_per_s = double(m.completed) / T;
    m.goodput_requests_per_s = double(m.goodput_requests) / T;
    m.average_power_w = r.energy_j / T;
    m.mean_in_system = r.in_system_area / T;
  }
  if (m.output_tokens > 0) m.energy_per_token_j = r.energy_j / double(m.output_tokens);
  double busy = 0, tok = 0, seq = 0, kv = 0;
  for (const auto& s : r.samples) {
    const double d = s.end_s - s.start_s;
    busy += d;
    tok += d * double(s.tokens);
    seq += d * double(s.seqs);
    const double occ = s.kv_blocks > 0 ? double(s.kv_blocks_used) / double(s.kv_blocks) : 0;
    kv += d * occ;
    m.peak_kv_occupancy = std::max(m.peak_kv_occupancy, occ);
  }
  if (busy > 0) {
    m.mean_batch_tokens = tok / busy;
    m.mean_batch_seqs = seq / busy;
    m.mean_kv_occupancy = kv / busy;
  }
  m.ttft = distribution(ttft);
  m.tbt = distribution(tbt);
  m.e2e = distribution(e2e);
  m.queue = distribution(queue);
  return m;
}

int total_devices(const ServeResult& r) {
  int n = 0;
  for (const auto& p : r.pools) n += p.replicas * p.devices_per_replica();
  return n;
}

double system_cost_usd(const ServeResult& r) {
  double usd = 0;
  for (const auto& p : r.pools) {
    if (p.device_usd <= 0) return 0;  // one pool unpriced: the system has no price
    usd += p.device_usd * double(p.replicas) * double(p.devices_per_replica());
  }
  return usd;
}

namespace {

// No samples (no request completed): every statistic is null, not 0.
nlohmann::json dist_json(const Distribution& d) {
  auto v = [&](double x) { return d.count ? nlohmann::json(x) : nlohmann::json(nullptr); };
  return {{"mean", v(d.mean)}, {"p50", v(d.p50)}, {"p90", v(d.p90)},
          {"p99", v(d.p99)},   {"max", v(d.max)}, {"count", d.count}};
}

std::string dist_line(const char* name, const Distribution& d) {
  char buf[200];
  if (d.count == 0) {
    std::snprintf(buf, sizeof buf, "  %-5s none: no request completed\n", name);
    return buf;
  }
  std::snprintf(buf, sizeof buf, "  %-5s mean %10s  p50 %10s  p90 %10s  p99 %10s  (%zu)\n", name,
                fmt_time(d.mean).c_str(), fmt_time(d.p50).c_str(), fmt_time(d.p90).c_str(), fmt_time(d.p99).c_str(),
                d.count);
  return buf;
}

}  // namespace

void print_serve_summary(std::ostream& out, const ServeResult& r, const ServeMetrics& m, const Slo& slo) {
  char buf[400];
  const int devices = total_devices(r);
  out << "Serving " << r.model_name << " on " << r.hw_name << ": " << r.replicas << " replica(s), " << devices
      << " device(s), stack " << r.stack << "\n";
  for (const auto& p : r.pools) {
    out << (r.pools.size() > 1 ? "Pool " + p.name + ": " : std::string("Replicas: ")) << p.replicas << " of "
        << p.devices_per_replica() << " device(s) (tp " << p.tp << ", pp " << p.pp << ")"
        << (r.pools.size() > 1 ? " of " + p.hw_name : std::string()) << "\n";
    std::snprintf(buf, sizeof buf,
                  "KV cache        %lld blocks of %lld tokens per replica (%s per token per device; weights %s, "
                  "activations %s of %s per device)\n",
                  (long long)p.kv_blocks, (long long)r.block_tokens, fmt_si(p.kv_bytes_per_token, "B").c_str(),
                  fmt_si(p.weights_bytes, "B").c_str(), fmt_si(p.activations_bytes, "B").c_str(),
                  fmt_si(p.memory_bytes, "B").c_str());
    out << buf;
  }
  if (r.kv_transfers > 0) {
    std::snprintf(buf, sizeof buf, "KV transfers    %lld caches, %s over the fabric, %s each on average\n",
                  (long long)r.kv_transfers, fmt_si(r.kv_transfer_bytes, "B").c_str(),
                  fmt_time(r.kv_transfer_s / double(r.kv_transfers)).c_str());
    out << buf;
  }
  std::snprintf(buf, sizeof buf,
                "Requests        %zu arrived, %zu completed, %zu rejected (longer than the KV cache), "
                "%lld preemptions (%lld by recompute, %lld swapped)\n",
                m.requests, m.completed, m.rejected, (long long)r.preemptions, (long long)(r.preemptions - r.swaps),
                (long long)r.swaps);
  out << buf;
  if (r.swaps > 0) {
    std::snprintf(buf, sizeof buf, "Swapping        %s to '%s' and back, iterations waited %s for the copies\n",
                  fmt_si(r.swap_bytes, "B").c_str(), r.pools[0].swap_target.c_str(), fmt_time(r.swap_stall_s).c_str());
    out << buf;
  }
  std::snprintf(buf, sizeof buf,
                "Duration        %s simulated (first arrival to last completion), %lld iterations (%lld reused: the "
                "same requests, new tokens and cached lengths as one simulated)\n",
                fmt_time(r.duration_s).c_str(), (long long)r.iterations, (long long)r.reused_iterations);
  out << buf;
  std::snprintf(buf, sizeof buf,
                "Throughput      %.2f requests/s, %.1f output tokens/s (whole system); %.1f tokens/s "
                "per device\n",
                m.throughput_requests_per_s, m.throughput_tokens_per_s,
                devices > 0 ? m.throughput_tokens_per_s / devices : 0.0);
  out << buf;
  if (slo.any()) {
    std::string bounds;
    if (slo.ttft_s > 0) bounds += "TTFT <= " + fmt_time(slo.ttft_s);
    if (slo.tbt_s > 0) bounds += (bounds.empty() ? "" : ", ") + std::string("mean TBT <= ") + fmt_time(slo.tbt_s);
    std::snprintf(buf, sizeof buf, "Goodput         %.2f requests/s meet the SLO (%zu of %zu completed; %s)\n",
                  m.goodput_requests_per_s, m.goodput_requests, m.completed, bounds.c_str());
    out << buf;
  }
  out << "Latency (per request; TBT per token gap)\n";
  out << dist_line("TTFT", m.ttft) << dist_line("TBT", m.tbt) << dist_line("E2E", m.e2e) << dist_line("queue", m.queue);
  std::snprintf(buf, sizeof buf,
                "Batches         %.1f tokens and %.1f requests per iteration (time-weighted); KV "
                "occupancy mean %.1f%%, peak %.1f%%\n",
                m.mean_batch_tokens, m.mean_batch_seqs, 100 * m.mean_kv_occupancy, 100 * m.peak_kv_occupancy);
  out << buf;
  const double system_usd = system_cost_usd(r);
  if (system_usd > 0) {
    std::snprintf(buf, sizeof buf,
                  "Silicon         $%.0f for the %d devices (technology price); %.3f %s requests/s "
                  "per $1k\n",
                  system_usd, devices, m.goodput_requests_per_s / (system_usd / 1000),
                  slo.any() ? "goodput" : "completed");
    out << buf;
  }
  std::snprintf(buf, sizeof buf, "Energy          %s whole system, %s per output token, %.0f W average (%d devices)\n",
                fmt_energy(r.energy_j).c_str(),
                (m.output_tokens > 0 ? fmt_energy(m.energy_per_token_j) : std::string("n/a")).c_str(),
                m.average_power_w, devices);
  out << buf;
  std::snprintf(buf, sizeof buf,
                "Little's law    %.3f requests in the system on average (the engine's own count); "
                "completion rate x mean latency = %.3f\n",
                m.mean_in_system, r.duration_s > 0 ? double(m.completed) / r.duration_s * m.e2e.mean : 0.0);
  out << buf;
  std::snprintf(buf, sizeof buf, "Simulated in    %.2f s wall (%s events)\n", r.wall_s,
                fmt_count(double(r.events)).c_str());
  out << buf;
}

nlohmann::json serve_json(const ServeResult& r, const ServeMetrics& m, const Slo& slo) {
  nlohmann::json j;
  j["hardware"] = r.hw_name;
  j["model"] = r.model_name;
  j["stack"] = r.stack;
  j["replicas"] = r.replicas;
  const ServePool& first = r.first_pool();
  j["devices_per_replica"] = first.devices_per_replica();
  j["devices"] = total_devices(r);
  j["tp"] = first.tp;
  j["pp"] = first.pp;
  j["requests"] = m.requests;
  j["completed"] = m.completed;
  j["rejected"] = m.rejected;
  j["preemptions"] = r.preemptions;
  j["swaps"] = {{"count", r.swaps},
                {"bytes", r.swap_bytes},
                {"stall_s", r.swap_stall_s},
                {"to", r.pools.empty() ? "" : r.pools[0].swap_target}};
  j["iterations"] = r.iterations;
  j["reused_iterations"] = r.reused_iterations;
  j["duration_s"] = r.duration_s;
  j["throughput_tokens_per_s"] = m.throughput_tokens_per_s;
  j["throughput_requests_per_s"] = m.throughput_requests_per_s;
  j["goodput_requests_per_s"] = m.goodput_requests_per_s;
  j["goodput_requests"] = m.goodput_requests;
  j["slo"] = {{"ttft_s", slo.ttft_s > 0 ? nlohmann::json(slo.ttft_s) : nlohmann::json(nullptr)},
              {"tbt_s", slo.tbt_s > 0 ? nlohmann::json(slo.tbt_s) : nlohmann::json(nullptr)},
              {"definition", "TTFT within ttft and the request's mean TBT within tbt"}};
  // Silicon: the devices of every replica at the config's technology price (null without one).
  const double system_usd = system_cost_usd(r);
  const bool priced = system_usd > 0;
  j["cost_usd"] = first.device_usd > 0 ? nlohmann::json(first.device_usd) : nlohmann::json(nullptr);
  j["system_cost_usd"] = priced ? nlohmann::json(system_usd) : nlohmann::json(nullptr);
  j["goodput_per_kusd"] =
      priced ? nlohmann::json(m.goodput_requests_per_s / (system_usd / 1000)) : nlohmann::json(nullptr);
  nlohmann::json pools = nlohmann::json::array();
  for (const auto& p : r.pools)
    pools.push_back({{"name", p.name},
                     {"hardware", p.hw_name},
                     {"replicas", p.replicas},
                     {"tp", p.tp},
                     {"pp", p.pp},
                     {"kv_bytes_per_token_per_device", p.kv_bytes_per_token},
                     {"kv_blocks_per_replica", p.kv_blocks},
                     {"weights_bytes_per_device", p.weights_bytes},
                     {"device_usd", p.device_usd > 0 ? nlohmann::json(p.device_usd) : nlohmann::json(nullptr)}});
  j["pools"] = std::move(pools);
  j["kv_transfers"] = {{"count", r.kv_transfers},
                       {"bytes", r.kv_transfer_bytes},
                       {"mean_s", r.kv_transfers ? r.kv_transfer_s / double(r.kv_transfers) : 0.0}};
  j["energy_j"] = r.energy_j;
  j["energy_scope"] = "whole system: every device of every replica, static included";
  j["energy_per_token_j"] = m.output_tokens > 0 ? nlohmann::json(m.energy_per_token_j) : nlohmann::json(nullptr);
  j["average_power_w"] = m.average_power_w;
  j["output_tokens"] = m.output_tokens;
  j["prompt_tokens"] = m.prompt_tokens;
  j["ttft_s"] = dist_json(m.ttft);
  j["tbt_s"] = dist_json(m.tbt);
  j["e2e_s"] = dist_json(m.e2e);
  j["queue_s"] = dist_json(m.queue);
  j["mean_in_system"] = m.mean_in_system;
  j["kv_cache"] = {{"blocks_per_replica", first.kv_blocks},
                   {"block_tokens", r.block_tokens},
                   {"bytes_per_token_per_device", first.kv_bytes_per_token},
                   {"mean_occupancy", m.mean_kv_occupancy},
                   {"peak_occupancy", m.peak_kv_occupancy}};
  j["memory_per_device"] = {{"capacity_bytes", first.memory_bytes},
                            {"weights_bytes", first.weights_bytes},
                            {"activations_bytes", first.activations_bytes}};
  j["mean_batch_tokens"] = m.mean_batch_tokens;
  j["mean_batch_requests"] = m.mean_batch_seqs;
  j["wall_s"] = r.wall_s;
  nlohmann::json reqs = nlohmann::json::array();
  for (const auto& q : r.requests) {
    auto opt = [](double v) { return v >= 0 ? nlohmann::json(v) : nlohmann::json(nullptr); };
    nlohmann::json e = {{"id", q.id},
                        {"replica", q.replica},
                        {"arrival_s", q.arrival_s},
                        {"prompt_tokens", q.prompt_tokens},
                        {"output_tokens", q.output_tokens},
                        {"generated", q.generated},
                        {"completed", q.completed},
                        {"rejected", q.rejected},
                        {"preemptions", q.preemptions},
                        {"ttft_s", q.first_token_s >= 0 ? opt(q.first_token_s - q.arrival_s) : nullptr},
                        {"e2e_s", q.finish_s >= 0 ? opt(q.finish_s - q.arrival_s) : nullptr},
                        {"queue_s", q.scheduled_s >= 0 ? opt(q.scheduled_s - q.arrival_s) : nullptr}};
    e["mean_tbt_s"] = q.tbt_s.empty() ? nlohmann::json(nullptr) : nlohmann::json(q.mean_tbt_s());
    reqs.push_back(std::move(e));
  }
  j["per_request"] = std::move(reqs);
  nlohmann::json tl = nlohmann::json::array();
  for (const auto& s : r.samples)
    tl.push_back({{"replica", s.replica},
                  {"start_s", s.start_s},
                  {"end_s", s.end_s},
                  {"tokens", s.tokens},
                  {"requests", s.seqs},
                  {"prefill_tokens", s.prefill_tokens},
                  {"decodes", s.decodes},
                  {"kv_blocks_used", s.kv_blocks_used}});
  j["iterations_timeline"] = std::move(tl);
  return j;
}

}  // namespace xpu
