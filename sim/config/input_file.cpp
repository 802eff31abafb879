#include "sim/config/input_file.h"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>

#include "sim/config/errors.h"

namespace xpu {

void check_input_file(const std::string& path, const std::string& what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw InputError(SourceMark{path, 0, 0}, "cannot open " + what + ": no such file");
  if (S_ISDIR(st.st_mode)) throw InputError(SourceMark{path, 0, 0}, "expected " + what + ", found a directory");
  if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode))
    throw InputError(SourceMark{path, 0, 0},
                     "expected " + what + " in a regular file (or a pipe), found a device or socket");
}

std::string read_input_file(const std::string& path, const std::string& what, uint64_t max_bytes) {
  check_input_file(path, what);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(SourceMark{path, 0, 0}, "cannot open " + what);
  std::string out;
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof buf);
    out.append(buf, size_t(in.gcount()));
    if (out.size() > max_bytes) {
      char msg[160];
      std::snprintf(msg, sizeof msg, "%s larger than %.0f MiB: xpusim reads no more (is this the file you meant?)",
                    what.c_str(), double(max_bytes) / (1 << 20));
      throw InputError(SourceMark{path, 0, 0}, msg);
    }
  }
  if (in.bad()) throw InputError(SourceMark{path, 0, 0}, "error reading " + what);
  return out;
}

}  // namespace xpu
