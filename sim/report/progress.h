#pragma once
// A progress line on stderr for long runs: silent for the first second, then a few redraws per second.
#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

namespace xpu {

class Progress {
 public:
  // total 0: unknown, shown without percentage and ETA.
  Progress(std::string label, uint64_t total);
  // For tests: another stream, an explicit TTY flag and a shorter quiet period.
  Progress(std::string label, uint64_t total, std::ostream& out, bool tty, double quiet_s = 1.0);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Called per event: the clock is read only every stride_ calls, stride_ adapting to the call rate.
  void update(uint64_t done) {
    last_done_ = done;
    if (--countdown_ > 0) return;
    tick(done);
  }
  void finish();
  bool shown() const { return shown_; }

 private:
  using Clock = std::chrono::steady_clock;
  void tick(uint64_t done);
  std::string line(uint64_t done, double elapsed) const;

  std::string label_;
  uint64_t total_;
  std::ostream& out_;
  bool tty_;
  double quiet_s_;
  Clock::time_point start_, last_check_, last_print_;
  uint64_t stride_ = 1, countdown_ = 1, last_done_ = 0;
  bool shown_ = false, finished_ = false;
  size_t last_width_ = 0;
};

}  // namespace xpu
