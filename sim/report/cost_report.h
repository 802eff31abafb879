#pragma once
// The area, yield, price and power of a device (sim/cost/device_cost.h) as text, for `xpusim cost` (the JSON form
// is sim/cost/cost_json.h).
#include <ostream>

#include "sim/cost/device_cost.h"

namespace xpu {

// `parts`: list each derived block's parts under it.
void print_device_cost(std::ostream& out, const DeviceCost& c, bool parts);

}  // namespace xpu
