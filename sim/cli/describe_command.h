#pragma once
#include <ostream>
#include <string>

namespace xpu {
// `xpusim describe`: lists component kinds and workload generators; with a name, prints its parameters.
// Returns false when the name is unknown.
bool describe(std::ostream& out, const std::string& what);
}  // namespace xpu
