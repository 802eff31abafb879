// xpusim serve: the scheduler's bookkeeping, and whole runs checked against queueing theory, Little's law and the
// single-step times of `run`.
#include <cmath>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "sim/serve/request_stream.h"
#include "sim/serve/scheduler.h"
#include "sim/serve/serve_report.h"
#include "test_support.h"

using namespace xpu;
using namespace xpu::test;

namespace {

Request req(int64_t id, int64_t prompt, int64_t out) {
  Request r;
  r.id = id;
  r.prompt_tokens = prompt;
  r.output_tokens = out;
  return r;
}

// A small model: runs are quick, so queueing statistics can take tens of thousands of requests.
const char* kTinyModel =
    "name: tiny\ngenerator: transformer\n"
    "params: {d_model: 512, heads: 8, ffn: 1024, layers: 2, vocab: 1000, arch: llama, dtype: bf16}\n";

nlohmann::json run_json(const std::string& args, const TempDir& dir, const std::string& name) {
  const std::string out = (dir.path / name).string();
  Run r = xpusim(args + " --json '" + out + "' -q", dir);
  INFO(r.output);
  REQUIRE(r.status == 0);
  return nlohmann::json::parse(read_file(out));
}

}  // namespace

TEST_CASE("serve scheduler: chunked prefill under the token budget, decodes first", "[serve]") {
  SchedulerOptions o;
  o.max_tokens = 512;
  o.kv_blocks = 1000;
  Scheduler s(o);
  Request a = req(0, 1000, 3), b = req(1, 100, 2);
  s.add(a, 0);
  auto batch = s.next_batch(0);
  REQUIRE(batch.size() == 1);
  CHECK(batch[0].prefill);
  CHECK(batch[0].new_tokens == 512);
  s.complete(batch, 1);
  CHECK(s.seqs()[0].generated == 0);  // the prompt is not done: no token yet
  s.add(b, 1);
  batch = s.next_batch(1);
  REQUIRE(batch.size() == 2);
  CHECK(batch[0].new_tokens == 488);  // the rest of a's prompt
  CHECK(batch[0].context == 512);
  CHECK(batch[1].new_tokens == 24);   // b gets what the budget leaves
  s.complete(batch, 2);
  CHECK(s.seqs()[0].generated == 1);
  CHECK(s.seqs()[0].first_token_s == 2);
  batch = s.next_batch(2);
  REQUIRE(batch.size() == 2);
  CHECK_FALSE(batch[0].prefill);      // a decodes first
  CHECK(batch[0].context == 1000);
  CHECK(batch[1].new_tokens == 76);  // the rest of b's prompt
  s.complete(batch, 3);
  CHECK(s.seqs()[0].tbt_s.size() == 1);
  CHECK(s.seqs()[0].tbt_s[0] == Approx(1.0));
}

TEST_CASE("serve scheduler: admission by free blocks, recompute preemption, rejection", "[serve]") {
  SchedulerOptions o;
  o.max_tokens = 4096;
  o.block_tokens = 16;
  o.kv_blocks = 10;  // 160 tokens
  Scheduler s(o);
  Request a = req(0, 60, 50), b = req(1, 60, 50), c = req(2, 200, 5);
  s.add(a, 0);
  s.add(b, 0);
  s.add(c, 0);
  auto batch = s.next_batch(0);
  // a and b need 4 blocks each (61 tokens); c can never fit (13 blocks) and is rejected, not left blocking the line.
  CHECK(batch.size() == 2);
  CHECK(s.rejected() == 1);
  CHECK(s.seqs()[2].rejected);
  CHECK(s.used_blocks() == 8);
  s.complete(batch, 1);
  // Decoding grows both caches until the blocks run out; then the latest admitted (b) is preempted.
  double t = 1;
  while (s.preemptions() == 0) {
    batch = s.next_batch(t);
    REQUIRE(!batch.empty());
    s.complete(batch, t += 1);
  }
  CHECK(s.seqs()[1].preemptions == 1);
  CHECK(s.seqs()[1].blocks == 0);
  CHECK(s.seqs()[0].running);
  // b comes back, re-prefilling its prompt and the tokens it had produced, and both finish.
  const int64_t produced = s.seqs()[1].generated;
  CHECK(s.seqs()[1].target_prefill == 60 + produced);
  for (int i = 0; i < 1000 && s.completed() < 2; ++i) {
    batch = s.next_batch(t);
    if (batch.empty()) break;
    s.complete(batch, t += 1);
  }
  CHECK(s.completed() == 2);
  CHECK(s.seqs()[0].generated == 50);
  CHECK(s.seqs()[1].generated == 50);
  CHECK(s.used_blocks() == 0);
}

TEST_CASE("serve scheduler: sequence limit and whole prompts without chunking", "[serve]") {
  SchedulerOptions o;
  o.max_tokens = 256;
  o.max_seqs = 2;
  o.kv_blocks = 1000;
  o.chunked_prefill = false;
  Scheduler s(o);
  Request a = req(0, 1000, 2), b = req(1, 10, 2), c = req(2, 10, 2);
  s.add(a, 0);
  s.add(b, 0);
  s.add(c, 0);
  auto batch = s.next_batch(0);
  REQUIRE(batch.size() == 1);  // a's whole prompt runs alone, past the budget
  CHECK(batch[0].new_tokens == 1000);
  s.complete(batch, 1);
  batch = s.next_batch(1);
  CHECK(batch.size() == 2);  // a's decode and b; c waits for the sequence limit
}

TEST_CASE("serve: percentiles and SLO parsing", "[serve]") {
  Distribution d = distribution({4, 1, 3, 2, 5});
  CHECK(d.mean == Approx(3));
  CHECK(d.p50 == Approx(3));
  CHECK(d.p90 == Approx(4.6));
  CHECK(d.max == 5);
  Slo s = parse_slo("ttft=2s,tbt=100ms");
  CHECK(s.ttft_s == Approx(2));
  CHECK(s.tbt_s == Approx(0.1));
  CHECK_THROWS_WITH(parse_slo("ttft=fast"), Catch::Contains("--slo") && Catch::Contains("time"));
  CHECK_THROWS_WITH(parse_slo("p99=1s"), Catch::Contains("expected ttft=TIME"));
}

TEST_CASE("serve: at a low rate TTFT is the prefill and TBT the decode step that run simulates", "[serve][e2e]") {
  TempDir dir;
  const std::string hw = "--hw configs/h100.yaml -w workloads/llama2-7b.yaml --set layers=4";
  nlohmann::json s = run_json("serve " + hw + " --arrivals poisson:0.5 --count 4 --prompt-tokens 500 "
                              "--output-tokens 12 --seed 3", dir, "serve.json");
  CHECK(s["completed"] == 4);
  nlohmann::json prefill = run_json("run " + hw + ",mode=prefill,seq=500,batch=1 --stack graphs", dir, "p.json");
  nlohmann::json decode = run_json("run " + hw + ",mode=decode,kv=505,batch=1 --stack graphs", dir, "d.json");
  // Requests never overlap at this rate: each TTFT is one prefill iteration, each gap one decode iteration.
  CHECK(s["ttft_s"]["p50"].get<double>() == Approx(prefill["total_time_s"].get<double>()).epsilon(0.005));
  CHECK(s["tbt_s"]["p50"].get<double>() == Approx(decode["total_time_s"].get<double>()).epsilon(0.005));
  CHECK(s["queue_s"]["p50"].get<double>() == Approx(0).margin(1e-9));
  CHECK(s["energy_per_token_j"].get<double>() > 0);
}

TEST_CASE("serve: the Perfetto trace has a track per replica and one per request, the HTML report", "[serve][e2e]") {
  TempDir dir;
  const std::string model = dir.write("tiny.yaml", kTinyModel);
  const std::string trace = (dir.path / "serve.trace.json").string();
  const std::string html = (dir.path / "serve.html").string();
  nlohmann::json s = run_json("serve --hw configs/h100.yaml -w '" + model + "' --arrivals poisson:500 --count 30 "
                              "--prompt-tokens 64 --output-tokens 8 --replicas 2 --trace '" + trace + "' --html '" +
                              html + "'", dir, "s.json");
  const std::string page = read_file(html);
  CHECK_THAT(page, Catch::Contains("time to first token") && Catch::Contains("KV-cache occupancy"));
  size_t svgs = 0;
  for (size_t p = page.find("<svg"); p != std::string::npos; p = page.find("<svg", p + 1)) ++svgs;
  CHECK(svgs == 3);  // the latency CDFs, occupancy and batch over time
  nlohmann::json t = nlohmann::json::parse(read_file(trace));
  size_t slices = 0, begins = 0, ends = 0;
  std::set<int> ids;
  for (const auto& e : t["traceEvents"]) {
    if (e["ph"] == "X") ++slices;
    if (e["ph"] == "b") { ++begins; ids.insert(e["id"].get<int>()); }
    if (e["ph"] == "e") ++ends;
  }
  CHECK(slices == s["iterations"].get<size_t>());
  CHECK(begins == ends);
  CHECK(ids.size() == 30);
  Run same = xpusim("serve --hw configs/h100.yaml -w '" + model + "' --arrivals poisson:5 --count 3 --prompt-tokens 8 "
                    "--output-tokens 2 --json x.json --trace x.json", dir);
  CHECK(same.status == 2);
  CHECK_THAT(same.output, Catch::Contains("different files"));
}

TEST_CASE("serve: one server without batching is an M/D/1 queue (Pollaczek-Khinchine)", "[serve][e2e]") {
  TempDir dir;
  const std::string model = dir.write("tiny.yaml", kTinyModel);
  const std::string base = "serve --hw configs/h100.yaml -w '" + model + "' --max-seqs 1 --prompt-tokens 1 "
                           "--output-tokens 1 --seed 7";
  // The service time: one iteration of a one-token request.
  nlohmann::json one = run_json(base + " --arrivals poisson:1 --count 3", dir, "one.json");
  const auto& it = one["iterations_timeline"];
  REQUIRE(it.size() == 3);
  const double D = it[2]["end_s"].get<double>() - it[2]["start_s"].get<double>();
  REQUIRE(D > 0);
  const double rho = 0.6, rate = rho / D;
  char arrivals[64];
  std::snprintf(arrivals, sizeof arrivals, "poisson:%.6g", rate);
  nlohmann::json q = run_json(base + " --arrivals " + arrivals + " --count 20000", dir, "mdl.json");
  REQUIRE(q["completed"] == 20000);
  const double expected_wait = rho * D / (2 * (1 - rho));
  CHECK(q["queue_s"]["mean"].get<double>() == Approx(expected_wait).epsilon(0.05));
  // Little's law on the engine's own count of requests in the system.
  const double L = q["mean_in_system"].get<double>();
  const double lambda_W = q["throughput_requests_per_s"].get<double>() * q["e2e_s"]["mean"].get<double>();
  CHECK(L == Approx(lambda_W).epsilon(0.02));
  CHECK(L == Approx(rho + rho * rho / (2 * (1 - rho))).epsilon(0.06));  // M/D/1: L = rho + rho^2 / (2 (1 - rho))
}

TEST_CASE("serve: a small KV cache preempts and rejects, replicas share the load", "[serve][e2e]") {
  TempDir dir;
  const std::string model = dir.write("tiny.yaml", kTinyModel);
  const std::string base = "serve --hw configs/h100.yaml -w '" + model + "'";
  nlohmann::json s = run_json(base + " --arrivals poisson:2000 --count 60 --prompt-tokens uniform:50:150 "
                              "--output-tokens 60 --kv-blocks 40", dir, "small.json");
  CHECK(s["preemptions"].get<int>() > 0);
  CHECK(s["completed"] == 60);
  CHECK(s["kv_cache"]["peak_occupancy"].get<double>() <= 1.0);
  // Swap instead: the same preemptions move each cache to host memory and back over the 64 GB/s PCIe connection, and
  // the iterations that preempt or resume wait for exactly those copies.
  nlohmann::json w = run_json(base + " --arrivals poisson:2000 --count 60 --prompt-tokens uniform:50:150 "
                              "--output-tokens 60 --kv-blocks 40 --preemption swap", dir, "swap.json");
  CHECK(w["completed"] == 60);
  REQUIRE(w["swaps"]["count"].get<int>() > 0);
  CHECK(w["swaps"]["count"] == w["preemptions"]);
  const double copies = 2.0 * w["swaps"]["count"].get<double>();  // out and back, each paying the 1 us latency
  CHECK(w["swaps"]["stall_s"].get<double>() ==
        Approx(w["swaps"]["bytes"].get<double>() / 64e9 + copies * 1e-6).epsilon(0.05));
  CHECK(w["swaps"]["to"] == "host");
  // With a CXL memory pool on the device's path, the caches go there instead.
  nlohmann::json cxl = run_json("serve --hw configs/h100-cxl-pool.yaml -w '" + model + "' --arrivals poisson:2000 "
                                "--count 60 --prompt-tokens uniform:50:150 --output-tokens 60 --kv-blocks 40 "
                                "--preemption swap", dir, "cxl.json");
  CHECK(cxl["swaps"]["to"] == "cxl_pool");
  CHECK(cxl["swaps"]["count"].get<int>() > 0);
  nlohmann::json r = run_json(base + " --arrivals poisson:1000 --count 20 --prompt-tokens 700 --output-tokens 4 "
                              "--kv-blocks 40", dir, "reject.json");
  CHECK(r["rejected"] == 20);  // 701 tokens need 44 blocks of 16
  CHECK(r["completed"] == 0);
  // Nothing completed: no latency or energy per token is printed as a number.
  CHECK(r["ttft_s"]["p99"].is_null());
  CHECK(r["energy_per_token_j"].is_null());

  // Saturated (the arrivals come faster than a replica limited to 4 requests per iteration serves them): two
  // replicas finish the same stream in about half the time of one.
  const std::string load = " --arrivals poisson:100000 --count 200 --prompt-tokens 200 --output-tokens 20 --max-seqs 4";
  nlohmann::json one = run_json(base + load, dir, "r1.json");
  nlohmann::json two = run_json(base + load + " --replicas 2 --router least_outstanding", dir, "r2.json");
  CHECK(two["throughput_tokens_per_s"].get<double>() > 1.7 * one["throughput_tokens_per_s"].get<double>());
  int on_second = 0;
  for (const auto& q : two["per_request"]) on_second += q["replica"].get<int>();
  CHECK(on_second == Approx(100).margin(5));
}

TEST_CASE("serve: bad input is one message and exit 2", "[serve][bad_input]") {
  TempDir dir;
  const std::string model = dir.write("tiny.yaml", kTinyModel);
  const std::string base = "serve --hw configs/h100.yaml -w '" + model + "'";
  Run r = xpusim(base, dir);
  CHECK(r.status == 2);
  CHECK_THAT(r.output, Catch::Contains("--requests") && Catch::Contains("--arrivals"));
  r = xpusim(base + " --arrivals poisson:1 --count 3 --prompt-tokens 10", dir);
  CHECK(r.status == 2);
  CHECK_THAT(r.output, Catch::Contains("--output-tokens"));
  r = xpusim(base + " --arrivals poisson:1 --count 3 --prompt-tokens 10 --output-tokens 5 --slo ttft=soon", dir);
  CHECK(r.status == 2);
  CHECK_THAT(r.output, Catch::Contains("--slo"));
  r = xpusim(base + " --arrivals poisson:1 --count 3 --prompt-tokens 10 --output-tokens 5 --set batch=16", dir);
  CHECK(r.status == 2);
  CHECK_THAT(r.output, Catch::Contains("--set") && Catch::Contains("'batch' describes one fixed step"));
  r = xpusim(base + " --arrivals poisson:1 --count 3 --prompt-tokens 10 --output-tokens 5 --slo ''", dir);
  CHECK(r.status == 2);
  CHECK_THAT(r.output, Catch::Contains("--slo") && Catch::Contains("empty"));
  const std::string trace = dir.write("t.csv", "arrived_at,num_prefill_tokens,num_decode_tokens\n0.0,10,5\n0.5,ten,5\n");
  r = xpusim(base + " --requests '" + trace + "'", dir);
  CHECK(r.status == 2);
  CHECK_THAT(r.output, Catch::Contains("t.csv:3"));
  r = xpusim("serve --hw configs/h100.yaml -w workloads/dlrmv2.yaml --arrivals poisson:1 --count 3 --prompt-tokens 10 "
             "--output-tokens 5", dir);
  CHECK(r.status == 2);
  CHECK_THAT(r.output, Catch::Contains("transformer"));
  r = xpusim("serve --hw configs/h100.yaml -w workloads/llama2-70b.yaml --arrivals poisson:1 --count 3 "
             "--prompt-tokens 10 --output-tokens 5", dir);
  CHECK(r.status == 2);
  CHECK_THAT(r.output, Catch::Contains("no room for a KV cache") && Catch::Contains("tp"));
}

TEST_CASE("serve: a reused iteration gives what simulating it gives", "[serve][e2e]") {
  TempDir dir;
  const std::string args = "serve --hw configs/h100.yaml -w workloads/llama2-7b.yaml --set layers=2 --arrivals "
                           "gamma:40:2 --count 60 --prompt-tokens lognormal:300:0.8 --output-tokens uniform:5:60 "
                           "--seed 11 --slo ttft=50ms";
  nlohmann::json reused = run_json(args, dir, "reused.json");
  nlohmann::json simulated = run_json(args + " --no-reuse", dir, "simulated.json");
  CHECK(reused["reused_iterations"].get<int>() > reused["iterations"].get<int>() / 4);
  CHECK(simulated["reused_iterations"] == 0);
  CHECK(reused["iterations"] == simulated["iterations"]);
  for (const char* k : {"duration_s", "energy_j", "goodput_requests_per_s"})
    CHECK(reused[k].get<double>() == Approx(simulated[k].get<double>()).epsilon(1e-9));
  for (const char* k : {"ttft_s", "tbt_s", "e2e_s", "queue_s"})
    for (const char* p : {"mean", "p99"})
      CHECK(reused[k][p].get<double>() == Approx(simulated[k][p].get<double>()).epsilon(1e-9));
}

TEST_CASE("serve --find-max-rate: the answer meets the SLO and a rate just above it does not", "[serve][e2e]") {
  TempDir dir;
  const std::string model = dir.write("tiny.yaml", kTinyModel);
  const std::string base = "serve --hw configs/h100.yaml -w '" + model + "' --arrivals poisson:100 --count 300 "
                           "--prompt-tokens lognormal:400:0.5 --output-tokens 16 --max-seqs 8 --find-max-rate "
                           "--rate-tolerance 0.05";
  nlohmann::json tight = run_json(base + " --slo ttft=2ms", dir, "tight.json");
  nlohmann::json loose = run_json(base + " --slo ttft=20ms", dir, "loose.json");
  const double rt = tight["max_rate_requests_per_s"].get<double>(), rl = loose["max_rate_requests_per_s"].get<double>();
  REQUIRE(rt > 0);
  CHECK(rl > rt);
  for (const auto* j : {&tight, &loose}) {
    const double best = (*j)["max_rate_requests_per_s"].get<double>();
    double above = 1e300;
    for (const auto& p : (*j)["rate_search"]["probes"]) {
      const double r = p["rate"].get<double>();
      if (r <= best) CHECK((!p["meets"].get<bool>() || r <= best));
      if (!p["meets"].get<bool>() && r > best) above = std::min(above, r);
    }
    CHECK(above <= best * 1.05 + 1e-9);  // bracketed to the tolerance
    CHECK(double((*j)["goodput_requests"].get<int>()) >= 0.9 * (*j)["requests"].get<double>());
  }
  Run r = xpusim("serve --hw configs/h100.yaml -w '" + model + "' --arrivals poisson:100 --count 30 --prompt-tokens 8 "
                 "--output-tokens 2 --find-max-rate", dir);
  CHECK(r.status == 2);
  CHECK_THAT(r.output, Catch::Contains("--slo"));
}

TEST_CASE("serve in a sweep: the capacity at the SLO is a metric, bad serve options are refused at their line",
          "[serve][sweep]") {
  TempDir dir;
  const std::string model = dir.write("tiny.yaml", kTinyModel);
  const std::string root = fs::current_path().string();
  auto spec = [&](const std::string& serve) {
    return "name: s\nhardware: " + root + "/configs/h100.yaml\nworkloads:\n  - name: tiny\n    file: " + model +
           "\n    serve: \"" + serve + "\"\nparameters:\n  hw.hbm.bandwidth: [1 TB/s, 4 TB/s]\n"
           "metrics: [max_rate_requests_per_s, max_rate_per_kusd, ttft_s.p99]\n";
  };
  // Two layers of Llama 2 7B: decode streams the weights, so the capacity follows the HBM bandwidth.
  const std::string good =
      dir.write("good.yaml", std::regex_replace(spec("--arrivals poisson:200 --count 200 --prompt-tokens 256 "
                                                     "--output-tokens 32 --max-seqs 4 --slo ttft=20ms "
                                                     "--find-max-rate --rate-tolerance 0.1"),
                                                std::regex("file: .*tiny.yaml"),
                                                "file: " + root + "/workloads/llama2-7b.yaml\n    set: {layers: 2}"));
  const std::string out = (dir.path / "out").string();
  Run r = xpusim("sweep '" + good + "' -j 2 -q --out '" + out + "'", dir);
  INFO(r.output);
  REQUIRE(r.status == 0);
  const std::string csv = (dir.path / "r.csv").string();
  REQUIRE(xpusim("sweep export '" + out + "' --csv '" + csv + "'", dir).status == 0);
  const std::string table = read_file(csv);
  // Columns: ... hw.hbm.bandwidth, built-in metrics, then the spec's: the max rate must rise with the bandwidth.
  std::istringstream lines(table);
  std::string header, line;
  std::getline(lines, header);
  std::vector<std::string> cols;
  for (std::stringstream hs(header); std::getline(hs, line, ',');) cols.push_back(line);
  const size_t bw = size_t(std::find(cols.begin(), cols.end(), "hw.hbm.bandwidth") - cols.begin());
  const size_t mr = size_t(std::find(cols.begin(), cols.end(), "max_rate_requests_per_s") - cols.begin());
  REQUIRE(mr < cols.size());
  std::map<std::string, double> rate;
  while (std::getline(lines, line)) {
    std::vector<std::string> f;
    for (std::stringstream ls(line); std::getline(ls, line, ',');) f.push_back(line);
    REQUIRE(f.size() > mr);
    rate[f[bw]] = std::stod(f[mr]);
  }
  REQUIRE(rate.size() == 2);
  CHECK(rate["4 TB/s"] > 3 * rate["1 TB/s"]);

  const std::string bad = dir.write("bad.yaml", spec("--arrivals poisson:5 --count 10 --prompt-tokens 8 --find-max-rate"));
  r = xpusim("sweep '" + bad + "' --dry-run", dir);
  CHECK(r.status == 2);
  CHECK_THAT(r.output, Catch::Contains("bad.yaml:6") && Catch::Contains("--output-tokens"));
  const std::string owns = dir.write("owns.yaml", spec("--json x.json --arrivals poisson:5 --count 10 --prompt-tokens 8 "
                                                       "--output-tokens 2"));
  r = xpusim("sweep '" + owns + "' --dry-run", dir);
  CHECK(r.status == 2);
  CHECK_THAT(r.output, Catch::Contains("--json belongs to the sweep"));
}

TEST_CASE("serve: disaggregated prefill and decode pools move each KV cache over the network", "[serve][e2e]") {
  TempDir dir;
  const std::string base = "serve -w workloads/llama2-7b.yaml --set layers=4 --arrivals poisson:2 --count 6 "
                           "--prompt-tokens 1000 --output-tokens 8 --seed 5";
  nlohmann::json d = run_json(base + " --hw configs/dgx-h100.yaml --prefill-replicas 1 --decode-replicas 1", dir, "d.json");
  nlohmann::json c = run_json(base + " --hw configs/dgx-h100.yaml", dir, "c.json");
  CHECK(d["completed"] == 6);
  CHECK(d["pools"].size() == 2);
  CHECK(d["kv_transfers"]["count"] == 6);
  // 1000 prompt tokens (the first output token is produced with the prefill) of 4 layers x 2 x 4096 x 2 bytes each.
  CHECK(d["kv_transfers"]["bytes"].get<double>() == Approx(6 * 1000.0 * 4 * 2 * 4096 * 2));
  const double transfer = d["kv_transfers"]["mean_s"].get<double>();
  CHECK(transfer > 0);
  // At this rate nothing overlaps: the first token comes out of the same prefill, and only the first gap after it
  // carries the transfer.
  CHECK(d["ttft_s"]["p50"].get<double>() == Approx(c["ttft_s"]["p50"].get<double>()).epsilon(0.01));
  CHECK(d["tbt_s"]["p50"].get<double>() == Approx(c["tbt_s"]["p50"].get<double>()).epsilon(0.01));
  CHECK(d["tbt_s"]["max"].get<double>() >= c["tbt_s"]["max"].get<double>() + 0.9 * transfer);

  // The decode pool may split the model differently: the same cache bytes move, spread over its devices.
  nlohmann::json t = run_json(base + " --hw configs/dgx-h100.yaml --prefill-replicas 1 --decode-replicas 1 "
                              "--decode-set tp=2", dir, "t.json");
  CHECK(t["completed"] == 6);
  CHECK(t["pools"][1]["tp"] == 2);
  CHECK(t["devices"] == 3);
  CHECK(t["pools"][1]["kv_bytes_per_token_per_device"].get<double>() ==
        Approx(d["pools"][1]["kv_bytes_per_token_per_device"].get<double>() / 2));
  CHECK(t["kv_transfers"]["bytes"].get<double>() == Approx(d["kv_transfers"]["bytes"].get<double>()));
  CHECK(t["tbt_s"]["p50"].get<double>() < d["tbt_s"]["p50"].get<double>());  // two devices decode faster
  Run r = xpusim(base + " --hw configs/h100.yaml --prefill-replicas 1 --decode-replicas 1", dir);
  CHECK(r.status == 2);
  CHECK_THAT(r.output, Catch::Contains("network") && Catch::Contains("2 devices"));
  r = xpusim(base + " --hw configs/dgx-h100.yaml --prefill-replicas 1", dir);
  CHECK(r.status == 2);
  CHECK_THAT(r.output, Catch::Contains("--decode-replicas"));
}

TEST_CASE("serve: pipeline-parallel replicas keep pp batches in flight", "[serve][e2e]") {
  TempDir dir;
  const std::string m = "serve --hw configs/dgx-h100.yaml -w workloads/llama2-7b.yaml --set layers=8";
  // Alone, a request's decode step crosses both stages one after the other: about the time of one device, plus a hop.
  const std::string low = " --arrivals poisson:0.5 --count 3 --prompt-tokens 300 --output-tokens 8 --seed 3";
  nlohmann::json one = run_json(m + ",pp=1" + low, dir, "p1.json");
  nlohmann::json two = run_json(m + ",pp=2" + low, dir, "p2.json");
  CHECK(two["pp"] == 2);
  CHECK(two["devices_per_replica"] == 2);
  const double t1 = one["tbt_s"]["p50"].get<double>(), t2 = two["tbt_s"]["p50"].get<double>();
  CHECK(t2 > t1);
  CHECK(t2 < 1.05 * t1);
  // Saturated with small batches: two virtual engines keep both stages busy, so a replica serves almost twice as many.
  const std::string high = " --arrivals poisson:100000 --count 200 --prompt-tokens 200 --output-tokens 20 --max-seqs 4";
  nlohmann::json s1 = run_json(m + ",pp=1" + high, dir, "s1.json");
  nlohmann::json s2 = run_json(m + ",pp=2" + high, dir, "s2.json");
  CHECK(s2["throughput_tokens_per_s"].get<double>() > 1.7 * s1["throughput_tokens_per_s"].get<double>());
  // Each stage holds half the layers: half the KV bytes per token per device, about twice the blocks.
  CHECK(s2["kv_cache"]["bytes_per_token_per_device"].get<double>() ==
        Approx(s1["kv_cache"]["bytes_per_token_per_device"].get<double>() / 2));
  Run r = xpusim("serve --hw configs/h100.yaml -w workloads/llama2-7b.yaml --set pp=2" + low, dir);
  CHECK(r.status == 2);
  CHECK_THAT(r.output, Catch::Contains("pipeline parallelism") && Catch::Contains("network"));
}

TEST_CASE("xpusim requests writes a stream that serve reads back as the same requests", "[serve][requests]") {
  TempDir dir;
  const std::string csv = (dir.path / "stream.csv").string();
  Run w = xpusim("requests --arrivals gamma:20:3 --count 5000 --prompt-tokens lognormal:800:0.9 "
                 "--output-tokens uniform:1:300 --seed 9 -o '" + csv + "'", dir);
  INFO(w.output);
  REQUIRE(w.status == 0);
  const auto back = read_request_trace(csv);
  const auto orig = synthetic_requests(parse_arrivals("gamma:20:3", "a"), parse_length_dist("lognormal:800:0.9", "p", true),
                                       parse_length_dist("uniform:1:300", "o", false), 5000, 9);
  REQUIRE(back.size() == 5000);
  // The trace reader shifts the first arrival to 0.
  for (size_t i = 0; i < back.size(); i += 97) {
    CHECK(back[i].prompt_tokens == orig[i].prompt_tokens);
    CHECK(back[i].output_tokens == orig[i].output_tokens);
    CHECK(back[i].arrival_s == Approx(orig[i].arrival_s - orig[0].arrival_s).margin(2e-9));
  }
  Run bad = xpusim("requests --arrivals poisson:0 --count 5 --prompt-tokens 5 --output-tokens 5 -o x.csv", dir);
  CHECK(bad.status == 2);
  CHECK_THAT(bad.output, Catch::Contains("--arrivals"));
}
