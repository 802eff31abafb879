#pragma once
// Reading trace files, compressed or not: one streaming reader over zlib (gzread passes plain files through), so a
// large trace is decompressed as it is parsed instead of being held whole, and a truncated .gz is an InputError
// instead of a silently shorter trace.
#include <zlib.h>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>

#include "sim/config/errors.h"

namespace xpu {

class TraceFile {
 public:
  explicit TraceFile(const std::string& path);  // throws InputError when it cannot be opened
  ~TraceFile();
  TraceFile(const TraceFile&) = delete;
  TraceFile& operator=(const TraceFile&) = delete;

  // Up to `n` bytes; fewer only at the end. Throws InputError on a corrupt or truncated compressed stream.
  size_t read(void* buf, size_t n);
  // Next byte, or -1 at the end.
  int get();
  // Exactly `n` bytes, or InputError saying what was being read ("truncated ...").
  void read_exact(void* buf, size_t n, const std::string& what);
  uint64_t offset() const { return offset_; }  // decompressed bytes consumed so far
  const std::string& path() const { return path_; }
  [[noreturn]] void fail(const std::string& what) const;

 private:
  void fill();
  std::string path_;
  gzFile gz_ = nullptr;
  char buf_[1 << 16];
  size_t pos_ = 0, len_ = 0;
  uint64_t offset_ = 0;
  bool eof_ = false;
};

// Parses a JSON file (plain or gzip). `keep`, when given, sees each parse event as nlohmann's parser callback does
// (depth, event, value; the root is depth 0): returning false for a finished object or array drops it, so a reader
// can take what it needs from each element of a large trace while parsing and discard the rest.
// Parse errors become InputError with the file and byte offset.
using JsonKeep = nlohmann::json::parser_callback_t;
nlohmann::json read_json(const std::string& path, const JsonKeep& keep = nullptr);

// True for names ending in .gz.
bool is_gzip_name(const std::string& path);
// `path` without a trailing .gz.
std::string strip_gz(const std::string& path);

}  // namespace xpu
