#pragma once
// `xpusim calibrate` (fit named constants of a config to measured cases, with k-fold cross-validation, and write an
// `extends:` overlay) and `xpusim validate` (compare a config with measured cases; `--cv K` for the
// cross-validated error of its fitted constants).
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace xpu {

struct CalibrateArgs {
  std::string hw, out;
  std::vector<std::string> cases, overrides, fit;
  int folds = 5, max_evals = 0;
  unsigned seed = 1;
  bool warm = false, quiet = false, leave_source_out = false;
};

CLI::App* add_calibrate_command(CLI::App& app, CalibrateArgs& a);
int cmd_calibrate(const CalibrateArgs& a);

struct ValidateArgs {
  std::string hw, out;
  std::vector<std::string> cases, overrides, fit;
  bool warm = false, quiet = false, rows = false, leave_source_out = false;
  int cv = 0, max_evals = 0;
};

CLI::App* add_validate_command(CLI::App& app, ValidateArgs& a);
int cmd_validate(const ValidateArgs& a);

}  // namespace xpu
