#pragma once
// Two kinds of failure: a user's input error (InputError, main exits 2) and a simulator bug (assert / std::logic_error).
#include <stdexcept>
#include <string>

namespace xpu {

// Where a value came from: a file and line, or the command line.
struct SourceMark {
  std::string file;  // empty when unknown
  int line = 0;      // 1-based; 0 when not from a file
  int column = 0;
  std::string str() const {
    if (file.empty()) return "<unknown>";
    if (line <= 0) return file;
    return file + ":" + std::to_string(line) + ":" + std::to_string(column);
  }
};

class InputError : public std::runtime_error {
 public:
  InputError(const SourceMark& at, const std::string& what)
      : std::runtime_error(at.str() + ": error: " + what), mark(at) {}
  explicit InputError(const std::string& what) : std::runtime_error("error: " + what) {}
  // Re-raises a message that is already complete (e.g. received from a child process).
  struct Verbatim {};
  InputError(Verbatim, const std::string& full) : std::runtime_error(full) {}
  SourceMark mark;
};

}  // namespace xpu
