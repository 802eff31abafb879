#include "sim/engine/isolated_run.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "sim/engine/result_json.h"

namespace xpu {
namespace {

void write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += size_t(n);
  }
}

}  // namespace

nlohmann::json simulate_in_child(const HardwareConfig& hw, const Workload& wl, const RunOptions& opt) {
  return run_in_child([&] { return result_to_json(simulate(hw, wl, opt)); });
}

nlohmann::json run_in_child(const std::function<nlohmann::json()>& f) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::close(fds[0]);
    nlohmann::json out;
    try {
      out = f();
    } catch (const InputError& e) {
      out = {{"input_error", e.what()}};
    } catch (const std::exception& e) {
      out = {{"internal_error", e.what()}};
    }
    write_all(fds[1], out.dump());
    ::close(fds[1]);
    ::_exit(0);  // skip static destructors of the SystemC kernel the child elaborated
  }
  ::close(fds[1]);
  std::string data;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data.append(buf, size_t(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || data.empty())
    throw std::runtime_error("simulation child process failed (status " + std::to_string(status) + ")");
  nlohmann::json j = nlohmann::json::parse(data);
  if (j.contains("input_error")) throw InputError(InputError::Verbatim{}, j["input_error"].get<std::string>());
  if (j.contains("internal_error")) throw std::runtime_error(j["internal_error"].get<std::string>());
  return j;
}

}  // namespace xpu
