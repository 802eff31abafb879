#pragma once
// The sweep's results: one SQLite table `results`, one row per (point, workload), every parameter and metric a
// column. Each row commits on its own, so a sweep killed at any moment (kill -9 included) keeps every finished row
// and leaves a consistent file.
#include <sqlite3.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace xpu {

struct ResultRow {
  std::string point_id, workload, status, error;  // status: ok, error
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<std::pair<std::string, double>> metrics;
  int feasible = 1;
  double wall_s = 0;
};

class ResultsDb {
 public:
  explicit ResultsDb(const std::string& path);
  ~ResultsDb();
  ResultsDb(const ResultsDb&) = delete;
  ResultsDb& operator=(const ResultsDb&) = delete;

  // Adds any of these columns the table lacks (a spec may gain parameters or metrics between runs).
  void ensure_columns(const std::vector<std::string>& text_cols, const std::vector<std::string>& real_cols);
  void put(const ResultRow& r);
  // (point_id, workload) of rows that finished without error.
  std::set<std::pair<std::string, std::string>> done() const;
  void set_meta(const std::string& key, const std::string& value);
  std::string meta(const std::string& key) const;
  // Every row as column name -> text (NULL as empty), in insertion order.
  std::vector<std::string> columns() const;
  // Every row as text; reals in their shortest exact form (%.17g), so an export round-trips bit for bit.
  std::vector<std::vector<std::string>> rows() const;
  // Copies every row of another results database (a Slurm shard) into this one, values as stored: reals stay reals,
  // bit for bit, and parameter text stays text. Returns the rows copied.
  size_t merge_from(const std::string& other_path);

 private:
  void exec(const std::string& sql) const;
  sqlite3* db_ = nullptr;
  std::string path_;
};

}  // namespace xpu
