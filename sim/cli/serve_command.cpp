#include "sim/cli/serve_command.h"

#include "sim/config/hardware.h"

namespace xpu {

CLI::App* add_serve_command(CLI::App& app, ServeArgs& a) {
  auto* s = app.add_subcommand("serve",
                               "LLM inference at the request level: a request stream served by continuous "
                               "batching on the config's devices, each iteration simulated");
  add_serve_options(*s, a);
  return s;
}

int cmd_serve(const ServeArgs& a) {
  check_serve_args(a, SourceMark{"serve", 0, 0});
  serve_run(load_hardware(a.hw, a.overrides), a, true);
  return 0;
}

}  // namespace xpu
