#include "sim/report/json_stream.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>

#include "sim/config/errors.h"

namespace xpu {

namespace {

using Serializer = nlohmann::detail::serializer<nlohmann::json>;

// Mirrors nlohmann's serializer layout: pretty print puts each member and element on its own line, `indent` spaces
// deeper than its container; compact print has no spaces at all.
class Writer {
 public:
  Writer(std::ostream& out, int indent)
      : out_(out),
        ser_(std::make_shared<nlohmann::detail::output_stream_adapter<char>>(out), ' ',
             nlohmann::json::error_handler_t::replace),
        pretty_(indent >= 0),
        step_(pretty_ ? unsigned(indent) : 0) {}

  void value(const nlohmann::json& v, unsigned depth) { ser_.dump(v, pretty_, false, step_, step_ * depth); }
  void key(const std::string& k, unsigned depth) {
    pad(depth);
    value(nlohmann::json(k), depth);
    out_ << (pretty_ ? ": " : ":");
  }
  // Before an element or member of a container (its first when `first`).
  void separator(bool first) {
    if (!first) out_ << ',';
    if (pretty_) out_ << '\n';
  }
  void pad(unsigned depth) {
    if (pretty_) out_ << std::string(step_ * depth, ' ');
  }
  void close(char c, unsigned depth) {
    if (pretty_) {
      out_ << '\n';
      pad(depth);
    }
    out_ << c;
  }

 private:
  std::ostream& out_;
  Serializer ser_;
  bool pretty_;
  unsigned step_;
};

// Opens `path` for writing, runs `write` on it, and checks that every byte reached the file.
void write_file(const std::string& path, const std::function<void(std::ostream&)>& write) {
  make_parent_dirs(path);
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw InputError(SourceMark{path}, std::string("cannot open for writing: ") + std::strerror(errno));
  write(f);
  f.close();
  if (f.fail()) throw InputError(SourceMark{path}, "cannot write file (disk full?)");
}

}  // namespace

void make_parent_dirs(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) throw InputError(SourceMark{path}, "cannot create folder " + parent.string() + ": " + ec.message());
}

void write_json_file(const std::string& path, const nlohmann::json& j, int indent) {
  write_file(path, [&](std::ostream& f) {
    Writer(f, indent).value(j, 0);
    f << '\n';
  });
}

void write_json_file_streamed(const std::string& path, const nlohmann::json& head, const std::string& array_key,
                              const std::function<void(const JsonEmit&)>& fill, int indent) {
  write_file(path, [&](std::ostream& f) {
    Writer w(f, indent);
    auto write_array = [&] {
      bool first = true;
      fill([&](const nlohmann::json& e) {
        if (first) f << '[';
        w.separator(first);
        w.pad(2);
        w.value(e, 2);
        first = false;
      });
      if (first)
        f << "[]";
      else
        w.close(']', 1);
    };
    // Members in nlohmann's (sorted) key order, the streamed array among them.
    f << '{';
    bool first = true, array_done = false;
    for (const auto& [k, v] : head.items()) {
      if (!array_done && array_key < k) {
        w.separator(first);
        w.key(array_key, 1);
        write_array();
        first = false;
        array_done = true;
      }
      w.separator(first);
      w.key(k, 1);
      w.value(v, 1);
      first = false;
    }
    if (!array_done) {
      w.separator(first);
      w.key(array_key, 1);
      write_array();
    }
    w.close('}', 0);
    f << '\n';
  });
}

}  // namespace xpu
