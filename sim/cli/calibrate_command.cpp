#include "sim/cli/calibrate_command.h"

#include <fstream>
#include <iostream>
#include <memory>

#include "sim/config/errors.h"
#include "sim/config/hardware.h"
#include "sim/report/json.h"
#include "sim/report/progress.h"
#include "sim/validate/calibrate.h"
#include "sim/validate/cases_file.h"
#include "sim/validate/validate.h"

namespace xpu {
namespace {

std::vector<std::string> split_commas(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (const auto& s : in) {
    std::stringstream ss(s);
    for (std::string p; std::getline(ss, p, ',');)
      if (!p.empty()) out.push_back(p);
  }
  return out;
}

CalibrateOptions calibrate_options(const std::vector<std::string>& fit, int folds, bool by_source, int max_evals,
                                   bool warm, bool quiet) {
  CalibrateOptions o;
  o.fit = split_commas(fit);
  o.folds = by_source ? 0 : folds;
  o.by_source = by_source;
  o.max_evals = max_evals;
  o.warm = warm;
  o.quiet = quiet;
  return o;
}

}  // namespace

CLI::App* add_calibrate_command(CLI::App& app, CalibrateArgs& a) {
  auto* c = app.add_subcommand("calibrate",
                               "fit named constants of a config to measured cases (log error), report k-fold "
                               "cross-validated error by family, and write an extends: overlay");
  c->add_option("--hw", a.hw, "base hardware config YAML")->required()->check(CLI::ExistingFile);
  c->add_option("--cases", a.cases,
                "measured cases: xpusim's JSON schema or a Vidur profile CSV (repeatable; all are fitted together)")
      ->required();
  c->add_option("--fit", a.fit,
                "constants to fit, comma-separated paths as for -p (default: the config's calibration.fitted, else "
                "gpu.matrix_efficiency, l2.flush_dirty, hbm.stream_efficiency, gpu.tile_overhead, "
                "gpu.kernel_overhead)");
  c->add_option("--out", a.out, "write the fitted overlay (extends: the base) here")->required();
  auto* folds =
      c->add_option("--folds", a.folds, "k of the k-fold cross-validation (0: none)")->check(CLI::Range(0, 1000));
  c->add_flag("--leave-source-out", a.leave_source_out,
              "cross-validate by source instead of k folds: each --cases file (or `source` of a row) predicted by the "
              "constants fitted on the others, i.e. a harness the fit never saw")
      ->excludes(folds);
  c->add_option("--seed", a.seed, "seed of the fold assignment");
  c->add_option("--max-evals", a.max_evals, "objective evaluations per fit (default 25 per constant)")
      ->check(CLI::Range(1, 100000));
  c->add_option("-p,--param", a.overrides, "override a hardware field: path.to.key=value (repeatable)");
  c->add_flag("--warm", a.warm, "compare micro rows with ms_warm instead of ms_cold");
  c->add_flag("-q,--quiet", a.quiet, "no progress on stderr");
  return c;
}

int cmd_calibrate(const CalibrateArgs& a) {
  nlohmann::json cases = load_cases(a.cases);
  CalibrateOptions o = calibrate_options(a.fit, a.folds, a.leave_source_out, a.max_evals, a.warm, a.quiet);
  o.seed = a.seed;
  CalibrationReport r = calibrate(a.hw, a.overrides, cases, o);
  print_calibration(r, std::cout);
  std::string yaml = calibration_overlay(r, a.hw, a.out, a.cases);
  make_parent_dirs(a.out);
  std::ofstream f(a.out, std::ios::binary);
  if (!(f << yaml) || !f.flush()) throw InputError(SourceMark{a.out, 0, 0}, "cannot write the fitted overlay");
  std::cout << "fitted overlay written to " << a.out << "\n";
  return 0;
}

CLI::App* add_validate_command(CLI::App& app, ValidateArgs& a) {
  auto* v = app.add_subcommand("validate", "simulate every row of a calibration file and compare with measurements");
  v->add_option("--hw", a.hw, "hardware config YAML")->required()->check(CLI::ExistingFile);
  v->add_option("--cases", a.cases,
                "calibration cases: JSON (schema of h100_calibration.json) or a Vidur profile CSV (repeatable)")
      ->required();
  auto* out = v->add_option("--out", a.out, "write the cases with sim_ms / sim_gpu_busy_us / sim_ms_per_iter added here");
  v->add_option("-p,--param", a.overrides, "override a hardware field: path.to.key=value (repeatable)");
  v->add_flag("--warm", a.warm, "compare with ms_warm (operands left in L2) instead of ms_cold");
  auto* rows = v->add_flag("--rows", a.rows, "also print every row with its measured and simulated time");
  auto* cv = v->add_option("--cv", a.cv,
                "k-fold cross-validation of the config's fitted constants (its calibration.fitted, or --fit): refit "
                "them on k-1 folds, predict the k-th, and print the error by family")
      ->check(CLI::Range(2, 1000))
      ->excludes(out)
      ->excludes(rows);
  v->add_flag("--leave-source-out", a.leave_source_out,
              "cross-validation by source: each --cases file (or `source` of a row) predicted by the constants "
              "refitted on the others, a harness the fit never saw")
      ->excludes(cv)
      ->excludes(out)
      ->excludes(rows);
  v->add_option("--fit", a.fit, "with --cv or --leave-source-out: the constants to refit (comma-separated paths)");
  v->add_option("--max-evals", a.max_evals, "with --cv or --leave-source-out: objective evaluations per fit")
      ->check(CLI::Range(1, 100000));
  v->callback([&a, v] {
    if (!a.cv && !a.leave_source_out)
      for (const char* o : {"--fit", "--max-evals"})
        if (v->count(o)) throw CLI::ValidationError(std::string(o) + " requires --cv or --leave-source-out");
  });
  v->add_flag("-q,--quiet", a.quiet, "no progress on stderr");
  return v;
}

int cmd_validate(const ValidateArgs& a) {
  HardwareConfig hw = load_hardware(a.hw, a.overrides);
  nlohmann::json cases = load_cases(a.cases);
  if (a.cv > 0 || a.leave_source_out) {
    CalibrationReport r = calibrate(a.hw, a.overrides, cases,
                                    calibrate_options(a.fit, a.cv, a.leave_source_out, a.max_evals, a.warm, a.quiet));
    if (a.leave_source_out)
      std::cout << "Cross-validation by source of " << hw.file
                << ": each source's rows predicted by the constants refitted on the other sources\n";
    else
      std::cout << "Cross-validation (" << a.cv << " folds) of " << hw.file
                << ": each fold predicted by the constants refitted on the others\n";
    print_calibration(r, std::cout);
    return 0;
  }
  std::unique_ptr<Progress> progress;
  ValidateOptions opt;
  opt.warm = a.warm;
  opt.rows = a.rows;
  if (!a.quiet) {
    progress = std::make_unique<Progress>("validating", 0);
    opt.progress = [&](size_t done, size_t) { progress->update(done); };
  }
  nlohmann::json out = run_validation(hw, cases, opt, std::cout);
  if (progress) progress->finish();
  if (!a.out.empty()) write_json_file(a.out, out);
  return 0;
}

}  // namespace xpu
