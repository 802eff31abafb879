#include "sim/workload/generator.h"

#include <map>
#include <stdexcept>

namespace xpu {

namespace {
// Function-local static: generator files register during static initialisation, in any order.
std::map<std::string, Generator>& generators() {
  static std::map<std::string, Generator> g;
  return g;
}
}  // namespace

bool register_generator(Generator g) {
  std::string n = g.name;
  if (!generators().emplace(n, std::move(g)).second)
    throw std::logic_error("workload generator '" + n + "' registered twice");
  return true;
}

const Generator* find_generator(const std::string& name) {
  auto it = generators().find(name);
  return it == generators().end() ? nullptr : &it->second;
}

std::vector<std::string> generator_names() {
  std::vector<std::string> out;
  for (const auto& [n, g] : generators()) out.push_back(n);
  return out;
}

}  // namespace xpu
