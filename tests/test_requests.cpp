// Serving request streams: reading Azure and Vidur/Splitwise request traces, refusing bad ones with file:line, and
// the synthetic arrival processes and length distributions (their statistics, bounds and determinism).
#include "test_support.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "sim/config/errors.h"
#include "sim/serve/request_stream.h"

using namespace xpu;
using namespace xpu::test;

namespace {

// The message read_request_trace gives for `path`, or "" when it accepts the file.
std::string trace_error(const std::string& path) {
  try {
    read_request_trace(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

std::string dist_error(const std::string& text) {
  try {
    parse_length_dist(text, "--prompt-tokens", true);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

std::string arrivals_error(const std::string& text) {
  try {
    parse_arrivals(text, "--arrivals");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

struct Moments {
  double mean = 0, cv = 0;
};
Moments moments(const std::vector<double>& x) {
  double sum = 0;
  for (double v : x) sum += v;
  const double mean = sum / double(x.size());
  double ss = 0;
  for (double v : x) ss += (v - mean) * (v - mean);
  return {mean, std::sqrt(ss / double(x.size() - 1)) / mean};
}

std::vector<double> gaps(const std::vector<Request>& rs) {
  std::vector<double> out;
  double prev = 0;
  for (const Request& r : rs) {
    out.push_back(r.arrival_s - prev);
    prev = r.arrival_s;
  }
  return out;
}

}  // namespace

TEST_CASE("requests: a Vidur/Splitwise trace is read, sorted and shifted to start at 0", "[requests]") {
  TempDir dir;
  const std::string path = dir.write("vidur.csv",
                                     "arrived_at,num_prefill_tokens,num_decode_tokens\n"
                                     "2.5,100,10\n"
                                     "1.5,200,20\n"
                                     "  4.0 , 300 ,30\n"
                                     "1.5,400,40\n");
  const auto rs = read_request_trace(path);
  REQUIRE(rs.size() == 4);
  CHECK(rs[0].arrival_s == 0.0);
  CHECK(rs[0].prompt_tokens == 200);  // the stable sort keeps the two 1.5 s rows in file order
  CHECK(rs[0].source == path + ":3");
  CHECK(rs[1].prompt_tokens == 400);
  CHECK(rs[1].arrival_s == 0.0);
  CHECK(rs[2].prompt_tokens == 100);
  CHECK(rs[2].arrival_s == Approx(1.0));
  CHECK(rs[3].prompt_tokens == 300);
  CHECK(rs[3].output_tokens == 30);
  CHECK(rs[3].arrival_s == Approx(2.5));
  CHECK(rs[3].source == path + ":4");
  for (size_t i = 0; i < rs.size(); ++i) CHECK(rs[i].id == int64_t(i));

  // Columns in any order; limit keeps the first requests after sorting.
  const std::string reordered = dir.write("reordered.csv",
                                          "num_decode_tokens,arrived_at,num_prefill_tokens\n"
                                          "7,3.0,70\n"
                                          "8,1.0,80\n"
                                          "9,2.0,90\n");
  const auto two = read_request_trace(reordered, 2);
  REQUIRE(two.size() == 2);
  CHECK(two[0].prompt_tokens == 80);
  CHECK(two[0].output_tokens == 8);
  CHECK(two[1].prompt_tokens == 90);
  CHECK(two[1].arrival_s == Approx(1.0));
}

TEST_CASE("requests: an Azure trace with CRLF and rows out of order", "[requests]") {
  TempDir dir;
  const std::string path = dir.write("azure.csv",
                                     "TIMESTAMP,ContextTokens,GeneratedTokens\r\n"
                                     "2023-11-16 18:15:47.1805900,1000,50\r\n"
                                     "2023-11-16 18:15:46.6805900,374,44\r\n"
                                     "2023-11-17 00:00:00,5,1\r\n"
                                     "\r\n");
  const auto rs = read_request_trace(path);
  REQUIRE(rs.size() == 3);
  CHECK(rs[0].prompt_tokens == 374);
  CHECK(rs[0].output_tokens == 44);
  CHECK(rs[0].arrival_s == 0.0);
  CHECK(rs[0].source == path + ":3");
  CHECK(rs[1].prompt_tokens == 1000);
  CHECK(rs[1].arrival_s == Approx(0.5).margin(1e-9));
  // Across midnight: 18:15:46.68059 to 00:00:00 the next day is 5 h 44 min 13.31941 s.
  CHECK(rs[2].arrival_s == Approx(5 * 3600 + 44 * 60 + 13.31941).margin(1e-6));
  CHECK(rs[2].id == 2);

  // Calendar arithmetic: a leap day and a year boundary.
  const std::string leap = dir.write("leap.csv",
                                     "ContextTokens,GeneratedTokens,TIMESTAMP\n"
                                     "1,1,2024-02-28 00:00:00\n"
                                     "2,2,2024-03-01 00:00:00.5\n"
                                     "3,3,2023-12-31 23:59:59\n");
  const auto ls = read_request_trace(leap);
  REQUIRE(ls.size() == 3);
  CHECK(ls[0].prompt_tokens == 3);
  CHECK(ls[1].arrival_s == Approx(1 + 58 * 86400.0));
  CHECK(ls[2].arrival_s == Approx(1 + 60 * 86400.0 + 0.5));
  CHECK(contains(trace_error(dir.write("feb30.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n"
                                                    "2023-02-29 00:00:00,1,1\n")),
                 "expected a timestamp like 2023-11-16 18:15:46.6805900, got '2023-02-29 00:00:00'"));
}

TEST_CASE("requests: the shared Splitwise conversation trace is read whole", "[requests]") {
  const char* shared = std::getenv("XPUSIM_SHARED");
  const std::string path = std::string(shared ? shared : "../shared") + "/requests/splitwise_conv.csv";
  if (!fs::exists(path)) {
    WARN("no request traces at " << path << ": not checked");
    return;
  }
  const auto rs = read_request_trace(path);
  CHECK(rs.size() == 19366);
  CHECK(rs.front().arrival_s == 0.0);
  CHECK(rs.front().prompt_tokens == 374);
  CHECK(rs.front().output_tokens == 44);
  for (size_t i = 1; i < rs.size(); ++i) REQUIRE(rs[i].arrival_s >= rs[i - 1].arrival_s);
  CHECK(read_request_trace(path, 100).size() == 100);
}

TEST_CASE("requests: bad trace files are refused with file:line and what was expected", "[requests]") {
  TempDir dir;
  const std::string vidur = "arrived_at,num_prefill_tokens,num_decode_tokens\n";

  const std::string empty = dir.write("empty.csv", "");
  CHECK(contains(trace_error(empty), empty + ": error: empty request trace"));
  CHECK(contains(trace_error(dir.write("blank.csv", "\n \r\n")), "empty request trace"));

  const std::string header_only = dir.write("header.csv", vidur);
  CHECK(contains(trace_error(header_only), header_only + ":1:1: error: no requests"));

  const std::string wrong = dir.write("wrong.csv", "time,prompt,output\n1,2,3\n");
  const std::string e_wrong = trace_error(wrong);
  CHECK(contains(e_wrong, wrong + ":1:1: error: unknown request trace header 'time,prompt,output'"));
  CHECK(contains(e_wrong, "TIMESTAMP,ContextTokens,GeneratedTokens"));
  CHECK(contains(e_wrong, "arrived_at,num_prefill_tokens,num_decode_tokens"));
  // Names are case-sensitive, and a repeated column is not a schema.
  CHECK(contains(trace_error(dir.write("case.csv", "Arrived_At,num_prefill_tokens,num_decode_tokens\n0,1,1\n")),
                 "unknown request trace header"));
  CHECK(contains(trace_error(dir.write("dup.csv", "arrived_at,arrived_at,num_decode_tokens\n0,1,1\n")),
                 "unknown request trace header"));

  const std::string word = dir.write("word.csv", vidur + "0.0,10,5\n1.0,ten,5\n");
  CHECK(contains(trace_error(word), word + ":3:5: error: column 'num_prefill_tokens': expected a whole number of "
                                           "tokens, got 'ten'"));

  const std::string negative = dir.write("negative.csv", vidur + "0.0,10,-5\n");
  CHECK(contains(trace_error(negative), negative + ":2:"));
  CHECK(contains(trace_error(negative), "column 'num_decode_tokens': expected a token count >= 1, got negative '-5'"));

  const std::string zero_out = dir.write("zero.csv", vidur + "0.0,10,0\n");
  CHECK(contains(trace_error(zero_out), zero_out + ":2:"));
  CHECK(contains(trace_error(zero_out), "expected a token count >= 1, got '0'"));

  const std::string columns = dir.write("columns.csv", vidur + "0.0,10\n");
  CHECK(contains(trace_error(columns), columns + ":2:1: error: expected 3 comma-separated fields"));
  CHECK(contains(trace_error(dir.write("four.csv", vidur + "0.0,10,5,1\n")), "got 4"));

  CHECK(contains(trace_error(dir.write("nan.csv", vidur + "nan,10,5\n")),
                 "column 'arrived_at': expected an arrival time in seconds, got 'nan'"));
  CHECK(contains(trace_error(dir.write("inf.csv", vidur + "0,inf,5\n")), "got 'inf'"));
  CHECK(contains(trace_error(dir.write("huge.csv", vidur + "0,1e300,5\n")), "expected at most 1e9 tokens"));
  CHECK(contains(trace_error(dir.write("overflow.csv", vidur + "1e999,1,5\n")), "got '1e999'"));
  CHECK(contains(trace_error(dir.write("early.csv", vidur + "-1,1,5\n")), "expected an arrival time >= 0 s"));
  CHECK(contains(trace_error(dir.write("half.csv", vidur + "0,1.5,5\n")), "expected a whole number of tokens"));
  CHECK(contains(trace_error(dir.write("hex.csv", vidur + "0x10,1,5\n")), "got '0x10'"));

  const std::string azure = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
  for (const char* ts : {"2023-11-16", "2023-11-16 25:00:00", "2023-13-01 00:00:00", "2023-11-16 18:15:46.",
                         "2023-11-16 18:15:46.12345678", "16/11/2023 18:15:46", "2023-11-16 18:15:46Z"}) {
    INFO(ts);
    CHECK(contains(trace_error(dir.write("ts.csv", azure + ts + ",1,1\n")), "expected a timestamp like"));
  }
  CHECK(contains(trace_error(dir.path.string()), "found a directory"));
}

TEST_CASE("requests: length distributions parse, and bad ones name the flag and the value", "[requests]") {
  CHECK(parse_length_dist("512", "--prompt-tokens", true).kind == "fixed");
  const LengthDist u = parse_length_dist(" uniform:10:20 ", "--prompt-tokens", true);
  CHECK(u.kind == "uniform");
  CHECK(u.a == 10);
  CHECK(u.b == 20);
  CHECK(parse_length_dist("uniform:7:7", "--prompt-tokens", true).kind == "uniform");
  const LengthDist l = parse_length_dist("lognormal:300:0.8", "--output-tokens", false);
  CHECK(l.kind == "lognormal");
  CHECK(l.a == 300);
  CHECK(l.b == Approx(0.8));

  CHECK(dist_error("abc") == "--prompt-tokens: error: --prompt-tokens: expected N, uniform:A:B, "
                             "lognormal:MEDIAN:SIGMA or trace:FILE, got 'abc'");
  CHECK(contains(dist_error("uniform:5:2"), "got 'uniform:5:2'"));
  CHECK(contains(dist_error("uniform:0:2"), "1 <= A <= B"));
  CHECK(contains(dist_error("uniform:1"), "expected uniform:A:B"));
  CHECK(contains(dist_error("uniform:1:x"), "got 'uniform:1:x'"));
  CHECK(contains(dist_error("lognormal:-1:1"), "got 'lognormal:-1:1'"));
  CHECK(contains(dist_error("lognormal:100:-1"), "SIGMA"));
  CHECK(contains(dist_error("lognormal:nan:1"), "got 'lognormal:nan:1'"));
  CHECK(contains(dist_error("0"), "expected a token count from 1 to 1e9, got '0'"));
  CHECK(contains(dist_error("-3"), "got '-3'"));
  CHECK(contains(dist_error("2000000000"), "from 1 to 1e9"));
  CHECK(contains(dist_error(""), "got ''"));
  CHECK(contains(dist_error("trace:"), "expected trace:FILE"));
  CHECK(contains(dist_error("trace:/nonexistent/trace.csv"), "/nonexistent/trace.csv: error: cannot open request trace"));
  CHECK(contains(dist_error("normal:1:2"), "got 'normal:1:2'"));

  // trace:FILE takes the prompt or the output column.
  TempDir dir;
  const std::string path = dir.write("t.csv", "arrived_at,num_prefill_tokens,num_decode_tokens\n0,11,3\n1,12,4\n");
  const LengthDist tp = parse_length_dist("trace:" + path, "--prompt-tokens", true);
  CHECK(tp.kind == "trace");
  CHECK(tp.samples == std::vector<int64_t>{11, 12});
  CHECK(parse_length_dist("trace:" + path, "--output-tokens", false).samples == std::vector<int64_t>{3, 4});
}

TEST_CASE("requests: arrival processes parse, and bad ones name the flag and the value", "[requests]") {
  const ArrivalProcess p = parse_arrivals("poisson:2.5", "--arrivals");
  CHECK(p.kind == "poisson");
  CHECK(p.rate == 2.5);
  const ArrivalProcess g = parse_arrivals("gamma:4:3", "--arrivals");
  CHECK(g.kind == "gamma");
  CHECK(g.rate == 4);
  CHECK(g.cv == 3);

  CHECK(arrivals_error("foo") == "--arrivals: error: --arrivals: expected poisson:RATE or gamma:RATE:CV, got 'foo'");
  CHECK(contains(arrivals_error("poisson:0"), "expected a RATE > 0"));
  CHECK(contains(arrivals_error("poisson:0"), "got 'poisson:0'"));
  CHECK(contains(arrivals_error("poisson:-1"), "got 'poisson:-1'"));
  CHECK(contains(arrivals_error("poisson:inf"), "got 'poisson:inf'"));
  CHECK(contains(arrivals_error("poisson:1e999"), "got 'poisson:1e999'"));
  CHECK(contains(arrivals_error("poisson"), "expected poisson:RATE or gamma:RATE:CV"));
  CHECK(contains(arrivals_error("gamma:1"), "expected poisson:RATE or gamma:RATE:CV, got 'gamma:1'"));
  CHECK(contains(arrivals_error("gamma:1:0"), "expected a CV > 0"));
  CHECK(contains(arrivals_error("gamma:1:1e-300"), "expected a CV > 0"));
  CHECK(contains(arrivals_error("gamma:1:2:3"), "got 'gamma:1:2:3'"));
}

TEST_CASE("requests: Poisson arrivals have the rate's mean gap and a CV of 1", "[requests]") {
  const auto rs = synthetic_requests(parse_arrivals("poisson:10", "--arrivals"),
                                     parse_length_dist("100", "--prompt-tokens", true),
                                     parse_length_dist("10", "--output-tokens", false), 20000, 1);
  REQUIRE(rs.size() == 20000);
  CHECK(rs[0].arrival_s > 0);  // the first arrival is one gap after 0
  for (size_t i = 0; i < rs.size(); ++i) {
    REQUIRE(rs[i].id == int64_t(i));
    REQUIRE(rs[i].prompt_tokens == 100);
    REQUIRE(rs[i].output_tokens == 10);
    REQUIRE(rs[i].source == "synthetic");
  }
  const Moments m = moments(gaps(rs));
  CHECK(m.mean == Approx(0.1).epsilon(0.02));
  CHECK(m.cv == Approx(1.0).epsilon(0.03));
}

TEST_CASE("requests: gamma arrivals are as bursty as their CV", "[requests]") {
  const auto rs = synthetic_requests(parse_arrivals("gamma:10:3", "--arrivals"),
                                     parse_length_dist("1", "--prompt-tokens", true),
                                     parse_length_dist("1", "--output-tokens", false), 50000, 7);
  const Moments m = moments(gaps(rs));
  CHECK(m.mean == Approx(0.1).epsilon(0.05));
  CHECK(m.cv == Approx(3.0).epsilon(0.10));
  const Moments smooth = moments(gaps(synthetic_requests(parse_arrivals("gamma:10:0.25", "--arrivals"),
                                                         parse_length_dist("1", "--prompt-tokens", true),
                                                         parse_length_dist("1", "--output-tokens", false), 20000, 7)));
  CHECK(smooth.cv == Approx(0.25).epsilon(0.05));
}

TEST_CASE("requests: sampled lengths follow their distributions", "[requests]") {
  const ArrivalProcess arr = parse_arrivals("poisson:1", "--arrivals");
  const auto rs = synthetic_requests(arr, parse_length_dist("uniform:5:9", "--prompt-tokens", true),
                                     parse_length_dist("lognormal:200:1", "--output-tokens", false), 20000, 3);
  std::vector<int64_t> seen(10, 0);
  std::vector<double> outs;
  for (const Request& r : rs) {
    REQUIRE(r.prompt_tokens >= 5);
    REQUIRE(r.prompt_tokens <= 9);
    ++seen[size_t(r.prompt_tokens)];
    REQUIRE(r.output_tokens >= 1);
    outs.push_back(double(r.output_tokens));
  }
  for (int v = 5; v <= 9; ++v) CHECK(seen[size_t(v)] > 3500);  // about 4000 each
  std::sort(outs.begin(), outs.end());
  CHECK(outs[outs.size() / 2] == Approx(200).epsilon(0.05));

  // A lognormal whose draws round to 0 still gives at least one token; a huge SIGMA stays within 1e9.
  for (const Request& r : synthetic_requests(arr, parse_length_dist("lognormal:0.1:0", "--prompt-tokens", true),
                                             parse_length_dist("lognormal:1000:100", "--output-tokens", false), 200,
                                             3)) {
    REQUIRE(r.prompt_tokens == 1);
    REQUIRE(r.output_tokens >= 1);
    REQUIRE(r.output_tokens <= 1000000000);
  }

  // trace:FILE resamples only the column's values.
  TempDir dir;
  const std::string path = dir.write("t.csv", "arrived_at,num_prefill_tokens,num_decode_tokens\n0,11,3\n1,12,4\n");
  bool saw11 = false, saw12 = false;
  for (const Request& r : synthetic_requests(arr, parse_length_dist("trace:" + path, "--prompt-tokens", true),
                                             parse_length_dist("trace:" + path, "--output-tokens", false), 200, 5)) {
    REQUIRE((r.prompt_tokens == 11 || r.prompt_tokens == 12));
    REQUIRE((r.output_tokens == 3 || r.output_tokens == 4));
    saw11 |= r.prompt_tokens == 11;
    saw12 |= r.prompt_tokens == 12;
  }
  CHECK(saw11);
  CHECK(saw12);
}

TEST_CASE("requests: a seed fixes the synthetic stream", "[requests]") {
  const ArrivalProcess arr = parse_arrivals("gamma:5:2", "--arrivals");
  const LengthDist p = parse_length_dist("lognormal:500:1", "--prompt-tokens", true);
  const LengthDist o = parse_length_dist("uniform:1:300", "--output-tokens", false);
  const auto a = synthetic_requests(arr, p, o, 500, 42);
  const auto b = synthetic_requests(arr, p, o, 500, 42);
  const auto c = synthetic_requests(arr, p, o, 500, 43);
  auto same = [](const std::vector<Request>& x, const std::vector<Request>& y) {
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i)
      if (x[i].arrival_s != y[i].arrival_s || x[i].prompt_tokens != y[i].prompt_tokens ||
          x[i].output_tokens != y[i].output_tokens || x[i].id != y[i].id)
        return false;
    return true;
  };
  CHECK(same(a, b));
  CHECK_FALSE(same(a, c));
  CHECK(a.front().arrival_s != c.front().arrival_s);
  CHECK_THROWS_AS(synthetic_requests(arr, p, o, 0, 1), std::logic_error);
}
