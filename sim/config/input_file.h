#pragma once
// Every input xpusim reads (configs, workloads, sweep specs, cases files, traces) opens through here: what is not a
// regular file or a pipe (/dev/zero, a directory, a socket) is refused before a byte is read, and a read stops at a
// size limit instead of growing without bound.
#include <cstdint>
#include <string>

namespace xpu {

constexpr uint64_t kMaxTextInputBytes = uint64_t(256) << 20;  // YAML and JSON inputs: 256 MiB

// Throws InputError (file:0) unless `path` is a regular file or a pipe. `what` names the kind, for the message.
void check_input_file(const std::string& path, const std::string& what);
// The whole file, at most `max_bytes` (InputError past that, naming the limit).
std::string read_input_file(const std::string& path, const std::string& what,
                            uint64_t max_bytes = kMaxTextInputBytes);

}  // namespace xpu
