#pragma once
// The `ops:` list of an explicit workload file (format described in loader.h).
#include "sim/config/config_tree.h"
#include "sim/workload/op.h"

namespace xpu {

// Appends the ops of `list` to `w`, with reads/writes sized from their shapes and deps resolved.
void parse_explicit_ops(const ConfigNode& list, Workload& w);

}  // namespace xpu
