#pragma once
// `xpusim serve`: LLM inference at the request level on a hardware config (sim/serve/serve_run.h does the work).
#include <CLI/CLI.hpp>

#include "sim/serve/serve_run.h"

namespace xpu {

CLI::App* add_serve_command(CLI::App& app, ServeArgs& a);
int cmd_serve(const ServeArgs& a);

}  // namespace xpu
