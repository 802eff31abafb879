#pragma once
// Statistics are declared beside the state they describe (name, unit, doc) and reach JSON through one walker.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace xpu {

// Neumaier-compensated sum: totals over millions of small increments keep full double precision.
class PreciseSum {
 public:
  void add(double x) {
    double t = sum_ + x;
    if (std::abs(sum_) >= std::abs(x)) comp_ += (sum_ - t) + x;
    else comp_ += (x - t) + sum_;
    sum_ = t;
  }
  double value() const { return sum_ + comp_; }
  void reset() { sum_ = comp_ = 0; }

 private:
  double sum_ = 0, comp_ = 0;
};

class StatGroup;

class Stat {
 public:
  Stat(StatGroup* group, std::string name, std::string unit, std::string doc);
  Stat(const Stat&) = delete;
  Stat& operator=(const Stat&) = delete;
  Stat& operator+=(double x) { sum_.add(x); return *this; }
  void set(double x) { sum_.reset(); sum_.add(x); }
  double value() const { return sum_.value(); }
  const std::string& name() const { return name_; }
  const std::string& unit() const { return unit_; }
  const std::string& doc() const { return doc_; }

 private:
  std::string name_, unit_, doc_;
  PreciseSum sum_;
};

class StatGroup {
 public:
  void add(Stat* s) { stats_.push_back(s); }
  const std::vector<Stat*>& stats() const { return stats_; }
  // {"name": {"value": v, "unit": u, "doc": d}, ...}
  nlohmann::json to_json(bool with_docs = false) const;
  const Stat* find(const std::string& name) const;

 private:
  std::vector<Stat*> stats_;
};

}  // namespace xpu
