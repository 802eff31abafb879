#pragma once
// The area, yield, price and power of a device (sim/cost/device_cost.h) as text and JSON, shared by `xpusim cost`,
// the run summary and the result JSON.
#include <nlohmann/json.hpp>

#include <ostream>

#include "sim/cost/device_cost.h"

namespace xpu {

// `parts`: list each derived block's parts under it.
void print_device_cost(std::ostream& out, const DeviceCost& c, bool parts);
nlohmann::json device_cost_json(const DeviceCost& c);
nlohmann::json tco_json(const Tco& t, const std::string& item);

}  // namespace xpu
