#include "sim/report/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>

namespace xpu {

namespace {

constexpr double kCheckInterval = 0.02;  // seconds between clock reads, whatever the call rate
constexpr double kTtyRedraw = 0.25;      // at most 4 redraws per second on a terminal
constexpr double kLogInterval = 10.0;    // a plain line every 10 s in logs, which keep every line

double seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string human(double n) {
  char buf[32];
  if (n >= 1e9) std::snprintf(buf, sizeof buf, "%.2fG", n / 1e9);
  else if (n >= 1e6) std::snprintf(buf, sizeof buf, "%.2fM", n / 1e6);
  else if (n >= 1e3) std::snprintf(buf, sizeof buf, "%.1fk", n / 1e3);
  else std::snprintf(buf, sizeof buf, "%.0f", n);
  return buf;
}

std::string duration(double s) {
  char buf[32];
  long t = long(s + 0.5);
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, t / 60 % 60);
  else if (t >= 60) std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  else std::snprintf(buf, sizeof buf, "%lds", t);
  return buf;
}

}  // namespace

Progress::Progress(std::string label, uint64_t total)
    : Progress(std::move(label), total, std::cerr, isatty(STDERR_FILENO) != 0) {}

Progress::Progress(std::string label, uint64_t total, std::ostream& out, bool tty, double quiet_s)
    : label_(std::move(label)), total_(total), out_(out), tty_(tty), quiet_s_(quiet_s) {
  start_ = last_check_ = last_print_ = Clock::now();
}

Progress::~Progress() { finish(); }

std::string Progress::line(uint64_t done, double elapsed) const {
  double rate = elapsed > 0 ? double(done) / elapsed : 0;
  std::string s = label_ + ": ";
  char buf[64];
  if (total_ > 0) {
    std::snprintf(buf, sizeof buf, "%5.1f%% ", 100.0 * double(std::min(done, total_)) / double(total_));
    s += buf;
    s += human(double(done)) + "/" + human(double(total_));
  } else {
    s += human(double(done));
  }
  s += ", " + human(rate) + "/s";
  if (total_ > 0 && rate > 0 && done < total_) s += ", ETA " + duration(double(total_ - done) / rate);
  return s;
}

void Progress::tick(uint64_t done) {
  auto now = Clock::now();
  // Aim the next clock read kCheckInterval ahead at the recent call rate (capped: the rate can drop).
  double since = seconds(now - last_check_);
  uint64_t calls = stride_;
  if (since > 0) stride_ = uint64_t(std::clamp(double(calls) * kCheckInterval / since, 1.0, 1e6));
  countdown_ = stride_;
  last_check_ = now;
  if (finished_) return;

  double elapsed = seconds(now - start_);
  if (elapsed < quiet_s_) return;
  double interval = tty_ ? kTtyRedraw : kLogInterval;
  if (shown_ && seconds(now - last_print_) < interval) return;
  last_print_ = now;
  shown_ = true;
  std::string s = line(done, elapsed);
  if (tty_) {
    // Pad over the previous, possibly longer, line rather than relying on terminal escape codes.
    size_t width = s.size();
    if (s.size() < last_width_) s.append(last_width_ - s.size(), ' ');
    last_width_ = width;
    out_ << '\r' << s << std::flush;
  } else {
    out_ << s << '\n' << std::flush;
  }
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (!shown_) return;
  // The terminal line is wiped so whatever prints next starts clean; logs get a closing line with the totals.
  if (tty_) out_ << '\r' << std::string(last_width_, ' ') << '\r' << std::flush;
  else out_ << label_ << ": done, " << human(double(last_done_)) << " in "
            << duration(seconds(Clock::now() - start_)) << '\n' << std::flush;
}

}  // namespace xpu
