#include "sim/serve/request_stream.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <stdexcept>

#include "sim/config/errors.h"
#include "sim/config/input_file.h"
#include "sim/report/json_stream.h"

namespace xpu {
namespace {

// No request in a trace or a distribution is longer than this many tokens: a larger figure is a typo or a unit
// mistake, and keeping counts far below 2^63 keeps every sum and product of them exact.
constexpr double kMaxTokens = 1e9;

// Arrival-process parameters outside these bounds would make the gamma sampler degenerate (an infinite shape, an
// infinite scale) or the arrival times overflow; no serving study needs them.
constexpr double kMinRate = 1e-9, kMaxRate = 1e9;
constexpr double kMinCv = 1e-6, kMaxCv = 1e3;

// `s` for a message: at most 40 characters, control bytes shown as '?'.
std::string shown(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < 40; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    out += (c < 0x20 || c == 0x7f) ? '?' : char(c);
  }
  if (s.size() > 40) out += "...";
  return out;
}

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r')) --e;
  return s.substr(b, e - b);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t p = s.find(sep, start);
    if (p == std::string::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, p - start));
    start = p + 1;
  }
}

// A plain decimal number (digits, an optional point and exponent, an optional sign): no hex, inf or nan, which
// strtod would take. False when `s` is anything else or the value is not finite.
bool parse_decimal(const std::string& s, double* v) {
  if (s.empty() || s.size() > 64) return false;
  bool digit = false;
  for (char c : s) {
    if (c >= '0' && c <= '9')
      digit = true;
    else if (c != '.' && c != 'e' && c != 'E' && c != '+' && c != '-')
      return false;
  }
  if (!digit) return false;
  char* end = nullptr;
  const double x = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(x)) return false;
  *v = x;
  return true;
}

// A whole number of digits only (at most 18, so no overflow). False on anything else (sign, point, letters).
bool parse_count(const std::string& s, int64_t* v) {
  if (s.empty() || s.size() > 18) return false;
  int64_t x = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    x = x * 10 + (c - '0');
  }
  *v = x;
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// Traces

// A token count in a trace cell: a whole number from 1 to kMaxTokens ("374" or "374.0"; pandas writes the latter).
int64_t trace_tokens(const std::string& cell, const SourceMark& at, const std::string& column) {
  double v = 0;
  if (!parse_decimal(cell, &v))
    throw InputError(at, "column '" + column + "': expected a whole number of tokens, got '" + shown(cell) + "'");
  if (v < 0)
    throw InputError(at, "column '" + column + "': expected a token count >= 1, got negative '" + shown(cell) + "'");
  if (v != std::floor(v))
    throw InputError(at, "column '" + column + "': expected a whole number of tokens, got '" + shown(cell) + "'");
  if (v < 1) throw InputError(at, "column '" + column + "': expected a token count >= 1, got '" + shown(cell) + "'");
  if (v > kMaxTokens)
    throw InputError(at, "column '" + column + "': expected at most 1e9 tokens, got '" + shown(cell) + "'");
  return int64_t(v);
}

// 0001-01-01 .. 9999-12-31 to days since 1970-01-01 (Howard Hinnant's days_from_civil, proleptic Gregorian).
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;                                   // [0, 399]
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;  // [0, 365]
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           // [0, 146096]
  return era * 146097 + doe - 719468;
}

bool leap_year(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// `YYYY-MM-DD HH:MM:SS[.fffffff]` (a 'T' also separates date and time) to 100 ns ticks since 1970-01-01 00:00:00,
// exact in an int64 for every year 1..9999. Throws naming the expected form.
int64_t azure_ticks(const std::string& cell, const SourceMark& at, const std::string& column) {
  auto fail = [&]() -> int64_t {
    throw InputError(at, "column '" + column + "': expected a timestamp like 2023-11-16 18:15:46.6805900, got '" +
                             shown(cell) + "'");
  };
  const std::string& s = cell;
  size_t i = 0;
  // `n` digits exactly, as a number; fails on anything else.
  auto digits = [&](size_t n) -> int64_t {
    if (i + n > s.size()) fail();
    int64_t x = 0;
    for (size_t k = 0; k < n; ++k, ++i) {
      if (s[i] < '0' || s[i] > '9') fail();
      x = x * 10 + (s[i] - '0');
    }
    return x;
  };
  auto expect = [&](char c) {
    if (i >= s.size() || s[i] != c) fail();
    ++i;
  };
  const int64_t year = digits(4);
  expect('-');
  const int64_t month = digits(2);
  expect('-');
  const int64_t day = digits(2);
  if (i >= s.size() || (s[i] != ' ' && s[i] != 'T')) fail();
  ++i;
  const int64_t hour = digits(2);
  expect(':');
  const int64_t minute = digits(2);
  expect(':');
  const int64_t second = digits(2);
  int64_t frac = 0;  // 100 ns ticks
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t n = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (++n > 7) fail();
      frac = frac * 10 + (s[i] - '0');
      ++i;
    }
    if (n == 0) fail();
    for (; n < 7; ++n) frac *= 10;
  }
  if (i != s.size()) fail();
  static const int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (year < 1 || month < 1 || month > 12 || day < 1 ||
      day > kDays[month - 1] + (month == 2 && leap_year(year) ? 1 : 0) || hour > 23 || minute > 59 || second > 60)
    fail();
  const int64_t secs = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  return secs * 10000000 + frac;
}

struct Schema {
  const char* name;
  const char* time;
  const char* prompt;
  const char* output;
  bool azure;
};
const Schema kSchemas[] = {
    {"Azure LLM inference", "TIMESTAMP", "ContextTokens", "GeneratedTokens", true},
    {"Vidur/Splitwise", "arrived_at", "num_prefill_tokens", "num_decode_tokens", false},
};

}  // namespace

std::vector<Request> read_request_trace(const std::string& path, int64_t limit) {
  const std::string text = read_input_file(path, "request trace");
  // Lines are visited in place: a file of 256 MiB of newlines must not become 256 Mi strings.
  size_t pos = 0;
  int line_no = 0;
  std::string line;
  auto next_line = [&]() {
    if (pos > text.size()) return false;
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    line.assign(text, pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    return true;
  };
  auto blank = [&]() { return line.find_first_not_of(" \t\r") == std::string::npos; };
  // The header: the first line that is not blank (a UTF-8 byte-order mark is dropped).
  bool found = false;
  while (next_line())
    if (!blank()) {
      found = true;
      break;
    }
  if (!found)
    throw InputError(SourceMark{path, 0, 0},
                     "empty request trace: expected a header `TIMESTAMP,ContextTokens,"
                     "GeneratedTokens` or `arrived_at,num_prefill_tokens,num_decode_tokens` "
                     "and one row per request");
  std::string header = line;
  if (line_no == 1 && header.compare(0, 3, "\xEF\xBB\xBF") == 0) header = header.substr(3);
  const SourceMark header_at{path, line_no, 1};
  std::vector<std::string> names = split(header, ',');
  for (auto& n : names) n = trim(n);

  const Schema* schema = nullptr;
  int col_time = -1, col_prompt = -1, col_output = -1;
  for (const Schema& sc : kSchemas) {
    if (names.size() != 3) break;
    int t = -1, p = -1, o = -1;
    for (int c = 0; c < 3; ++c) {
      if (names[c] == sc.time && t < 0)
        t = c;
      else if (names[c] == sc.prompt && p < 0)
        p = c;
      else if (names[c] == sc.output && o < 0)
        o = c;
    }
    if (t >= 0 && p >= 0 && o >= 0) {
      schema = &sc;
      col_time = t, col_prompt = p, col_output = o;
      break;
    }
  }
  if (!schema)
    throw InputError(header_at, "unknown request trace header '" + shown(trim(header)) +
                                    "': expected the Azure LLM inference columns `TIMESTAMP,ContextTokens,"
                                    "GeneratedTokens` or the Vidur/Splitwise columns `arrived_at,num_prefill_tokens,"
                                    "num_decode_tokens` (any order)");

  struct Row {
    Request r;
    int64_t ticks = 0;   // Azure: 100 ns since 1970
    double seconds = 0;  // Vidur
  };
  std::vector<Row> rows;
  while (next_line()) {
    if (blank()) continue;  // a trailing newline, a blank line
    std::vector<std::string> raw = split(line, ',');
    if (raw.size() != 3)
      throw InputError(SourceMark{path, line_no, 1}, "expected 3 comma-separated fields (" + std::string(names[0]) +
                                                         "," + names[1] + "," + names[2] + "), got " +
                                                         std::to_string(raw.size()));
    std::vector<int> colno(3);
    std::vector<std::string> cells(3);
    for (int c = 0, pos = 1; c < 3; ++c) {
      size_t lead = 0;
      while (lead < raw[c].size() && (raw[c][lead] == ' ' || raw[c][lead] == '\t')) ++lead;
      colno[c] = pos + int(lead);
      pos += int(raw[c].size()) + 1;
      cells[c] = trim(raw[c]);
    }
    auto at = [&](int c) { return SourceMark{path, line_no, colno[c]}; };
    Row row;
    if (schema->azure) {
      row.ticks = azure_ticks(cells[col_time], at(col_time), schema->time);
    } else {
      double t = 0;
      if (!parse_decimal(cells[col_time], &t))
        throw InputError(at(col_time), std::string("column '") + schema->time +
                                           "': expected an arrival time in seconds, got '" + shown(cells[col_time]) +
                                           "'");
      if (t < 0)
        throw InputError(at(col_time), std::string("column '") + schema->time +
                                           "': expected an arrival time >= 0 s, got '" + shown(cells[col_time]) + "'");
      row.seconds = t;
    }
    row.r.prompt_tokens = trace_tokens(cells[col_prompt], at(col_prompt), schema->prompt);
    row.r.output_tokens = trace_tokens(cells[col_output], at(col_output), schema->output);
    row.r.source = path + ":" + std::to_string(line_no);
    rows.push_back(std::move(row));
  }
  if (rows.empty())
    throw InputError(header_at,
                     std::string("no requests: expected at least one row after the ") + schema->name + " header");

  if (schema->azure) {
    std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.ticks < b.ticks; });
    const int64_t t0 = rows.front().ticks;
    for (Row& row : rows) row.r.arrival_s = double(row.ticks - t0) * 1e-7;
  } else {
    std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.seconds < b.seconds; });
    const double t0 = rows.front().seconds;
    for (Row& row : rows) row.r.arrival_s = row.seconds - t0;
  }
  if (limit > 0 && size_t(limit) < rows.size()) rows.resize(size_t(limit));
  std::vector<Request> out;
  out.reserve(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    rows[i].r.id = int64_t(i);
    out.push_back(std::move(rows[i].r));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Distributions

LengthDist parse_length_dist(const std::string& text_in, const std::string& what, bool prompt) {
  const SourceMark at{what, 0, 0};
  const std::string text = trim(text_in);
  const std::string expected =
      what + ": expected N, uniform:A:B, lognormal:MEDIAN:SIGMA or trace:FILE, got '" + shown(text) + "'";
  LengthDist d;
  d.text = text;
  const std::vector<std::string> parts = split(text, ':');
  const std::string kind = parts[0];

  if (kind == "trace") {
    const std::string file = text.substr(6 < text.size() ? 6 : text.size());  // after "trace:", colons and all
    if (file.empty())
      throw InputError(at, what + ": expected trace:FILE naming a request trace, got '" + shown(text) + "'");
    d.kind = "trace";
    for (const Request& r : read_request_trace(file)) d.samples.push_back(prompt ? r.prompt_tokens : r.output_tokens);
    return d;
  }
  if (parts.size() == 1) {
    int64_t n = 0;
    if (!parse_count(kind, &n)) throw InputError(at, expected);
    if (n < 1 || double(n) > kMaxTokens)
      throw InputError(at, what + ": expected a token count from 1 to 1e9, got '" + shown(text) + "'");
    d.kind = "fixed";
    d.a = d.b = double(n);
    return d;
  }
  if (kind == "uniform") {
    int64_t a = 0, b = 0;
    if (parts.size() != 3 || !parse_count(trim(parts[1]), &a) || !parse_count(trim(parts[2]), &b))
      throw InputError(at, what + ": expected uniform:A:B with whole numbers 1 <= A <= B, got '" + shown(text) + "'");
    if (a < 1 || a > b || double(b) > kMaxTokens)
      throw InputError(at, what + ": expected uniform:A:B with 1 <= A <= B <= 1e9, got '" + shown(text) + "'");
    d.kind = "uniform";
    d.a = double(a);
    d.b = double(b);
    return d;
  }
  if (kind == "lognormal") {
    double median = 0, sigma = 0;
    if (parts.size() != 3 || !parse_decimal(trim(parts[1]), &median) || !parse_decimal(trim(parts[2]), &sigma))
      throw InputError(at, what + ": expected lognormal:MEDIAN:SIGMA with numbers MEDIAN > 0, SIGMA >= 0, got '" +
                               shown(text) + "'");
    if (!(median > 0) || median > kMaxTokens || !(sigma >= 0) || sigma > 100)
      throw InputError(at, what +
                               ": expected lognormal:MEDIAN:SIGMA with 0 < MEDIAN <= 1e9 and 0 <= SIGMA <= 100, "
                               "got '" +
                               shown(text) + "'");
    d.kind = "lognormal";
    d.a = median;
    d.b = sigma;
    return d;
  }
  throw InputError(at, expected);
}

ArrivalProcess parse_arrivals(const std::string& text_in, const std::string& what) {
  const SourceMark at{what, 0, 0};
  const std::string text = trim(text_in);
  const std::vector<std::string> parts = split(text, ':');
  ArrivalProcess p;
  p.text = text;
  auto bad = [&]() -> InputError {
    return InputError(at, what + ": expected poisson:RATE or gamma:RATE:CV, got '" + shown(text) + "'");
  };
  auto rate_of = [&](const std::string& s) {
    double r = 0;
    if (!parse_decimal(trim(s), &r)) throw bad();
    if (!(r >= kMinRate && r <= kMaxRate))
      throw InputError(
          at, what + ": expected a RATE > 0 requests per second (from 1e-9 to 1e9), got '" + shown(text) + "'");
    return r;
  };
  if (parts[0] == "poisson" && parts.size() == 2) {
    p.kind = "poisson";
    p.rate = rate_of(parts[1]);
    p.cv = 1;
    return p;
  }
  if (parts[0] == "gamma" && parts.size() == 3) {
    p.kind = "gamma";
    p.rate = rate_of(parts[1]);
    double cv = 0;
    if (!parse_decimal(trim(parts[2]), &cv)) throw bad();
    if (!(cv >= kMinCv && cv <= kMaxCv))
      throw InputError(at, what + ": expected a CV > 0 (from 1e-6 to 1000; 1 is Poisson), got '" + shown(text) + "'");
    p.cv = cv;
    return p;
  }
  throw bad();
}

// ---------------------------------------------------------------------------------------------------------------
// Synthetic streams

namespace {

int64_t draw_length(const LengthDist& d, std::mt19937_64& rng) {
  if (d.kind == "fixed") return std::max<int64_t>(1, int64_t(d.a));
  if (d.kind == "uniform") return std::uniform_int_distribution<int64_t>(int64_t(d.a), int64_t(d.b))(rng);
  if (d.kind == "lognormal") {
    const double z = std::normal_distribution<double>(0.0, 1.0)(rng);
    // Rounded and at least 1; clamped at kMaxTokens so that a wide SIGMA cannot overflow the conversion.
    const double x = std::round(d.a * std::exp(d.b * z));
    return int64_t(std::clamp(std::isfinite(x) ? x : kMaxTokens, 1.0, kMaxTokens));
  }
  if (d.kind == "trace") {
    if (d.samples.empty()) throw std::logic_error("length distribution '" + d.text + "': a trace without samples");
    const size_t i = std::uniform_int_distribution<size_t>(0, d.samples.size() - 1)(rng);
    return std::max<int64_t>(1, d.samples[i]);
  }
  throw std::logic_error("length distribution '" + d.text + "': unknown kind '" + d.kind + "'");
}

}  // namespace

std::vector<Request> synthetic_requests(const ArrivalProcess& arrivals, const LengthDist& prompt,
                                        const LengthDist& output, int64_t count, uint64_t seed) {
  if (count < 1) throw std::logic_error("synthetic_requests: count must be >= 1, got " + std::to_string(count));
  if (!(arrivals.rate > 0) || !std::isfinite(arrivals.rate))
    throw std::logic_error("synthetic_requests: arrival rate must be positive and finite");
  if (arrivals.kind == "gamma" && !(arrivals.cv > 0 && std::isfinite(arrivals.cv)))
    throw std::logic_error("synthetic_requests: gamma CV must be positive and finite");
  if (arrivals.kind != "poisson" && arrivals.kind != "gamma")
    throw std::logic_error("synthetic_requests: unknown arrival process '" + arrivals.kind + "'");
  std::mt19937_64 rng(seed);
  std::exponential_distribution<double> exponential(arrivals.rate);
  const double shape = 1.0 / (arrivals.cv * arrivals.cv);
  std::gamma_distribution<double> gamma(shape, 1.0 / (arrivals.rate * shape));
  const bool is_gamma = arrivals.kind == "gamma";

  std::vector<Request> out;
  out.reserve(size_t(count));
  double t = 0;
  for (int64_t i = 0; i < count; ++i) {
    // The first request arrives after one inter-arrival time, not at 0, so that the number of Poisson arrivals in
    // [0, T] is Poisson distributed. Draw order per request: gap, prompt, output.
    t += is_gamma ? gamma(rng) : exponential(rng);
    Request r;
    r.id = i;
    r.arrival_s = t;
    r.prompt_tokens = draw_length(prompt, rng);
    r.output_tokens = draw_length(output, rng);
    r.source = "synthetic";
    out.push_back(std::move(r));
  }
  return out;
}

void write_request_trace(const std::string& path, const std::vector<Request>& requests) {
  make_parent_dirs(path);
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw InputError(SourceMark{path, 0, 0}, "cannot open for writing");
  f << "arrived_at,num_prefill_tokens,num_decode_tokens\n";
  char buf[96];
  for (const auto& r : requests) {
    std::snprintf(buf, sizeof buf, "%.9f,%lld,%lld\n", r.arrival_s, (long long)r.prompt_tokens,
                  (long long)r.output_tokens);
    f << buf;
  }
  f.close();
  if (f.fail()) throw InputError(SourceMark{path, 0, 0}, "cannot write file (disk full?)");
}

}  // namespace xpu
