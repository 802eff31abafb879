#pragma once
// The device's area, yield, price and power, and a run's TCO, as JSON (the result JSON and `xpusim cost --json`).
#include <nlohmann/json.hpp>

#include <string>

#include "sim/cost/device_cost.h"

namespace xpu {

nlohmann::json device_cost_json(const DeviceCost& c);  // null without a technology
nlohmann::json tco_json(const Tco& t, const std::string& item);

}  // namespace xpu
