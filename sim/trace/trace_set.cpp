#include "sim/trace/trace_set.h"

#include <glob.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <map>
#include <regex>

#include "sim/config/errors.h"

namespace xpu {
namespace {

namespace fs = std::filesystem;

const std::regex& rank_name() {
  static const std::regex r(R"((.*)\.(\d+)\.(et|json)(\.gz)?)");
  return r;
}

bool is_trace_name(const std::string& name) {
  static const std::regex r(R"(.*\.(et|json)(\.gz)?)");
  return std::regex_match(name, r);
}

// Orders `files` by the rank in their names and checks the ranks are 0..N-1 of one prefix.
std::vector<std::string> by_rank(const std::string& arg, const std::vector<std::string>& files) {
  if (files.size() == 1) return files;
  std::map<long, std::string> ranked;
  std::string prefix;
  for (const auto& f : files) {
    std::smatch m;
    const std::string base = fs::path(f).filename().string();
    if (!std::regex_match(base, m, rank_name()))
      throw InputError(SourceMark{arg, 0, 0}, "trace '" + f +
                                                  "' is not named <prefix>.<rank>.et or <prefix>.<rank>.json: the rank "
                                                  "of each file of a multi-rank job comes from its name");
    if (prefix.empty()) prefix = m[1];
    else if (m[1] != prefix)
      throw InputError(SourceMark{arg, 0, 0}, "traces of two jobs here: '" + prefix + ".*' and '" + m[1].str() +
                                                  ".*'; name one with a glob such as " + prefix + ".*.et");
    long rank = 0;
    const std::string digits = m[2];
    if (std::from_chars(digits.data(), digits.data() + digits.size(), rank).ec != std::errc())
      throw InputError(SourceMark{arg, 0, 0}, "trace '" + f + "': rank " + digits + " is out of range");
    if (!ranked.emplace(rank, f).second)
      throw InputError(SourceMark{arg, 0, 0}, "two traces for rank " + std::to_string(rank));
  }
  std::vector<std::string> out;
  long expect = 0;
  for (const auto& [rank, f] : ranked) {
    if (rank != expect)
      throw InputError(SourceMark{arg, 0, 0}, "the trace of rank " + std::to_string(expect) + " is missing (found " +
                                                  std::to_string(files.size()) + " ranks, up to rank " +
                                                  std::to_string(ranked.rbegin()->first) + ")");
    out.push_back(f);
    ++expect;
  }
  return out;
}

}  // namespace

std::vector<std::string> trace_set(const std::string& arg) {
  std::error_code ec;
  if (fs::is_directory(arg, ec)) {
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(arg, ec))
      if (e.is_regular_file() && is_trace_name(e.path().filename().string())) files.push_back(e.path().string());
    if (files.empty())
      throw InputError(SourceMark{arg, 0, 0}, "expected trace files (.et, .json, optionally .gz) in this directory");
    std::sort(files.begin(), files.end());
    return by_rank(arg, files);
  }
  if (arg.find_first_of("*?[") != std::string::npos && !fs::exists(arg, ec)) {
    glob_t g{};
    const int rc = glob(arg.c_str(), 0, nullptr, &g);
    std::vector<std::string> files;
    if (rc == 0)
      for (size_t i = 0; i < g.gl_pathc; ++i)
        if (fs::is_regular_file(g.gl_pathv[i], ec)) files.push_back(g.gl_pathv[i]);
    globfree(&g);
    if (files.empty()) throw InputError(SourceMark{arg, 0, 0}, "no trace file matches this pattern");
    return by_rank(arg, files);
  }
  if (!fs::exists(arg, ec)) throw InputError(SourceMark{arg, 0, 0}, "no such trace file or directory");
  return {arg};
}

}  // namespace xpu
