#pragma once
// Named key sets that a config map may be keyed by, registered by the layer that owns them. A hardware block that
// prices something per op kind (the host's `op_overhead`) is handed the op kinds' names this way instead of reading
// the op IR: the workload layer registers "op kind" at start-up.
#include <functional>
#include <string>
#include <vector>

namespace xpu {

bool register_vocabulary(const std::string& name, std::function<std::vector<std::string>()> names);
// The names registered under `name`; a name nobody registered is a simulator bug (std::logic_error).
std::vector<std::string> vocabulary(const std::string& name);

}  // namespace xpu
