#include "sim/sweep/results_db.h"

#include <unistd.h>

#include "sim/config/errors.h"

namespace xpu {
namespace {

std::string quote_ident(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

ResultsDb::ResultsDb(const std::string& path) : path_(path) {
  if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw InputError(SourceMark{path, 0, 0}, "cannot open the results database: " + msg);
  }
  sqlite3_busy_timeout(db_, 30000);  // Slurm collect jobs and status readers may open it at once
  exec("PRAGMA journal_mode=WAL");
  exec("PRAGMA synchronous=NORMAL");
  exec("CREATE TABLE IF NOT EXISTS results (point_id TEXT NOT NULL, workload TEXT NOT NULL, status TEXT, error TEXT, "
       "feasible INTEGER, wall_s REAL, PRIMARY KEY (point_id, workload))");
  exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)");
}

ResultsDb::~ResultsDb() { sqlite3_close(db_); }

void ResultsDb::exec(const std::string& sql) const {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw InputError(SourceMark{path_, 0, 0}, "results database: " + msg);
  }
}

std::vector<std::string> ResultsDb::columns() const {
  std::vector<std::string> out;
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db_, "PRAGMA table_info(results)", -1, &st, nullptr);
  while (sqlite3_step(st) == SQLITE_ROW) out.push_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 1)));
  sqlite3_finalize(st);
  return out;
}

void ResultsDb::ensure_columns(const std::vector<std::string>& text_cols, const std::vector<std::string>& real_cols) {
  std::vector<std::string> have = columns();
  auto add = [&](const std::string& c, const char* type) {
    for (const auto& h : have)
      if (h == c) return;
    exec("ALTER TABLE results ADD COLUMN " + quote_ident(c) + " " + type);
    have.push_back(c);
  };
  for (const auto& c : text_cols) add(c, "TEXT");
  for (const auto& c : real_cols) add(c, "REAL");
}

void ResultsDb::put(const ResultRow& r) {
  std::string cols = "point_id, workload, status, error, feasible, wall_s", marks = "?, ?, ?, ?, ?, ?";
  for (const auto& [k, v] : r.params) { cols += ", " + quote_ident(k); marks += ", ?"; }
  for (const auto& [k, v] : r.metrics) { cols += ", " + quote_ident(k); marks += ", ?"; }
  const std::string sql = "INSERT OR REPLACE INTO results (" + cols + ") VALUES (" + marks + ")";
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
    throw InputError(SourceMark{path_, 0, 0}, std::string("results database: ") + sqlite3_errmsg(db_));
  int i = 1;
  sqlite3_bind_text(st, i++, r.point_id.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, i++, r.workload.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, i++, r.status.c_str(), -1, SQLITE_TRANSIENT);
  if (r.error.empty()) sqlite3_bind_null(st, i++);
  else sqlite3_bind_text(st, i++, r.error.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(st, i++, r.feasible);
  sqlite3_bind_double(st, i++, r.wall_s);
  for (const auto& [k, v] : r.params) sqlite3_bind_text(st, i++, v.c_str(), -1, SQLITE_TRANSIENT);
  for (const auto& [k, v] : r.metrics) sqlite3_bind_double(st, i++, v);
  const int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) throw InputError(SourceMark{path_, 0, 0}, std::string("results database: ") + sqlite3_errmsg(db_));
}

std::set<std::pair<std::string, std::string>> ResultsDb::done() const {
  std::set<std::pair<std::string, std::string>> out;
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db_, "SELECT point_id, workload FROM results WHERE status = 'ok'", -1, &st, nullptr);
  while (sqlite3_step(st) == SQLITE_ROW)
    out.insert({reinterpret_cast<const char*>(sqlite3_column_text(st, 0)),
                reinterpret_cast<const char*>(sqlite3_column_text(st, 1))});
  sqlite3_finalize(st);
  return out;
}

void ResultsDb::set_meta(const std::string& key, const std::string& value) {
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", -1, &st, nullptr);
  sqlite3_bind_text(st, 1, key.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, value.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_step(st);
  sqlite3_finalize(st);
}

std::string ResultsDb::meta(const std::string& key) const {
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db_, "SELECT value FROM meta WHERE key = ?", -1, &st, nullptr);
  sqlite3_bind_text(st, 1, key.c_str(), -1, SQLITE_TRANSIENT);
  std::string v;
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
    v = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  return v;
}

size_t ResultsDb::merge_from(const std::string& other_path) {
  std::vector<std::string> cols;
  {
    ResultsDb other(other_path);
    cols = other.columns();
  }
  std::string list;
  for (const auto& c : cols) list += (list.empty() ? "\"" : ", \"") + c + "\"";
  const int before = sqlite3_total_changes(db_);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db_, "ATTACH DATABASE ? AS shard", -1, &st, nullptr);
  sqlite3_bind_text(st, 1, other_path.c_str(), -1, SQLITE_TRANSIENT);
  const int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) throw InputError(SourceMark{other_path, 0, 0}, "results database: cannot attach it");
  try {
    exec("INSERT OR REPLACE INTO main.results (" + list + ") SELECT " + list + " FROM shard.results");
  } catch (...) {
    exec("DETACH DATABASE shard");
    throw;
  }
  exec("DETACH DATABASE shard");
  return size_t(sqlite3_total_changes(db_) - before);
}

std::vector<std::vector<std::string>> ResultsDb::rows() const {
  std::vector<std::vector<std::string>> out;
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db_, "SELECT * FROM results ORDER BY rowid", -1, &st, nullptr);
  const int n = sqlite3_column_count(st);
  while (sqlite3_step(st) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int i = 0; i < n; ++i) {
      if (sqlite3_column_type(st, i) == SQLITE_FLOAT) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.17g", sqlite3_column_double(st, i));
        row.push_back(buf);
        continue;
      }
      const unsigned char* t = sqlite3_column_text(st, i);
      row.push_back(t ? reinterpret_cast<const char*>(t) : "");
    }
    out.push_back(std::move(row));
  }
  sqlite3_finalize(st);
  return out;
}

}  // namespace xpu
