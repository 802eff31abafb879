#include "sim/cli/cost_command.h"

#include <fstream>
#include <iostream>

#include "sim/config/hardware.h"
#include "sim/cost/cost_json.h"
#include "sim/cost/device_cost.h"
#include "sim/report/cost_report.h"

namespace xpu {

CLI::App* add_cost_command(CLI::App& app, CostArgs& a) {
  auto* c = app.add_subcommand("cost", "die area by block, yield, price per device and full-load power of a hardware "
                                       "config, from its `technology:` (no simulation)");
  c->add_option("--hw", a.hw, "hardware config YAML")->required()->check(CLI::ExistingFile);
  c->add_option("-p,--param", a.overrides, "override a hardware field: path.to.key=value (repeatable)");
  c->add_option("--json", a.json, "write the breakdown here as JSON");
  return c;
}

int cmd_cost(const CostArgs& a) {
  HardwareConfig hw = load_hardware(a.hw, a.overrides);
  DeviceCost c = device_cost(hw);
  std::cout << "Hardware: " << hw.name << "\n";
  print_device_cost(std::cout, c, true);
  if (!a.json.empty()) {
    std::ofstream f(a.json);
    if (!f) throw InputError(SourceMark{a.json, 0, 0}, "cannot write file");
    f << device_cost_json(c).dump(2) << "\n";
  }
  return 0;
}

}  // namespace xpu
