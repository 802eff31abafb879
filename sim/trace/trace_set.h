#pragma once
// The traces of a multi-rank job: one file per rank, named <prefix>.<rank>.<ext> as Chakra and PyTorch's observers
// write them, given as a directory, a glob, or one file.
#include <string>
#include <vector>

namespace xpu {

// Files in rank order. A directory: its trace files (.et, .json, optionally .gz) of one prefix; a pattern with * ? [:
// the files it matches; anything else: that one file. Throws InputError naming the argument when nothing matches,
// when a directory mixes prefixes, or when the ranks numbered in the names are not 0..N-1.
std::vector<std::string> trace_set(const std::string& arg);

}  // namespace xpu
