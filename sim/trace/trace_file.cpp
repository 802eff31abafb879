#include "sim/trace/trace_file.h"

#include "sim/config/input_file.h"

#include <cstring>
#include <iterator>

namespace xpu {

TraceFile::TraceFile(const std::string& path) : path_(path) {
  check_input_file(path, "a trace");
  gz_ = gzopen(path.c_str(), "rb");
  if (!gz_) throw InputError(SourceMark{path, 0, 0}, "cannot open trace file");
  gzbuffer(gz_, 1 << 17);
}

TraceFile::~TraceFile() {
  if (gz_) gzclose(gz_);
}

void TraceFile::fail(const std::string& what) const {
  throw InputError(SourceMark{path_, 0, 0}, what + " (at byte " + std::to_string(offset_) + " of the uncompressed data)");
}

void TraceFile::fill() {
  if (eof_) return;
  int n = gzread(gz_, buf_, sizeof buf_);
  int err = Z_OK;
  const char* msg = gzerror(gz_, &err);
  // zlib reports a gzip stream that stops before its trailer as Z_BUF_ERROR ("unexpected end of file").
  if (n < 0 || (err != Z_OK && err != Z_STREAM_END)) {
    // zlib decompresses ahead of what was asked for, so no byte position is meaningful here; its message repeats
    // the path.
    std::string m = msg ? msg : "zlib error";
    if (m.rfind(path_ + ": ", 0) == 0) m = m.substr(path_.size() + 2);
    throw InputError(SourceMark{path_, 0, 0}, "corrupt or truncated compressed data: " + m);
  }
  pos_ = 0;
  len_ = size_t(n);
  if (n == 0) eof_ = true;
}

size_t TraceFile::read(void* out, size_t n) {
  char* dst = static_cast<char*>(out);
  size_t done = 0;
  while (done < n) {
    if (pos_ == len_) {
      fill();
      if (len_ == 0) break;
    }
    size_t k = std::min(n - done, len_ - pos_);
    std::memcpy(dst + done, buf_ + pos_, k);
    pos_ += k;
    done += k;
  }
  offset_ += done;
  return done;
}

int TraceFile::get() {
  if (pos_ == len_) {
    fill();
    if (len_ == 0) return -1;
  }
  ++offset_;
  return static_cast<unsigned char>(buf_[pos_++]);
}

void TraceFile::read_exact(void* buf, size_t n, const std::string& what) {
  if (read(buf, n) != n) fail("truncated file: the data ends inside " + what);
}

namespace {

// Feeds nlohmann's parser one byte at a time from the stream; the parser never holds the text. Its lexer keeps every
// byte of the token it is scanning, whitespace before it included: so runs of whitespace outside strings reach it as
// one byte, and a string longer than kMaxJsonString stops the read, keeping memory bounded whatever the file holds.
constexpr size_t kMaxJsonString = size_t(64) << 20;

struct ByteIterator {
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;
  TraceFile* f = nullptr;
  int cur = -1;
  char ch = 0;
  bool operator==(const ByteIterator& o) const { return (cur < 0) == (o.cur < 0); }
  bool operator!=(const ByteIterator& o) const { return !(*this == o); }
  const char& operator*() const { return ch; }
  bool in_string = false, escaped = false, last_space = false;
  size_t string_len = 0;
  ByteIterator& operator++() {
    for (;;) {
      cur = f->get();
      if (cur < 0) break;
      const char c = char(cur);
      if (in_string) {
        if (++string_len > kMaxJsonString) f->fail("a JSON string longer than 64 MiB");
        if (escaped) escaped = false;
        else if (c == '\\') escaped = true;
        else if (c == '"') in_string = false;
        break;
      }
      const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
      if (space && last_space) continue;
      last_space = space;
      if (c == '"') { in_string = true; string_len = 0; }
      break;
    }
    ch = char(cur);
    return *this;
  }
};

}  // namespace

nlohmann::json read_json(const std::string& path, const JsonKeep& keep) {
  TraceFile f(path);
  ByteIterator begin;
  begin.f = &f;
  ++begin;
  if (begin.cur < 0) throw InputError(SourceMark{path, 0, 0}, "empty trace file (expected JSON)");
  try {
    return nlohmann::json::parse(begin, ByteIterator{}, keep);
  } catch (const nlohmann::json::parse_error& e) {
    f.fail(std::string("invalid JSON: ") + e.what());
  } catch (const nlohmann::json::out_of_range& e) {  // a number past double's range, e.g. 16085e6084
    f.fail(std::string("invalid JSON: ") + e.what());
  }
}

bool is_gzip_name(const std::string& path) {
  return path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
}

std::string strip_gz(const std::string& path) { return is_gzip_name(path) ? path.substr(0, path.size() - 3) : path; }

}  // namespace xpu
