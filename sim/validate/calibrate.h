#pragma once
// `xpusim calibrate`: fits named constants of a hardware config to measured cases by minimising the squared log
// error of the predictions, each constant inside a physical range, and measures how well the fit carries to rows it
// did not see by k-fold cross-validation. `validate --cv K` runs the same cross-validation on a shipped config.
#include <nlohmann/json.hpp>

#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace xpu {

struct FitConstant {
  std::string path;     // component.param or component.param.key (a map entry), as for -p
  double base = 0;      // value in the base config (SI units)
  double lo = 0, hi = 0;  // the range searched
  std::string unit;     // how the value is written back ("" for plain numbers)
  double fitted = 0;
};

struct CalibrateOptions {
  std::vector<std::string> fit;   // paths; empty: the config's `calibration.fitted` list, else default_fit_paths()
  int folds = 0;                  // k-fold cross-validation (0: none)
  bool by_source = false;         // instead, one fold per source file: each harness predicted from the others
  unsigned seed = 1;              // fold assignment
  int max_evals = 0;              // objective evaluations per fit (0: 25 per constant)
  bool warm = false;
  bool quiet = false;             // no progress on stderr
};

struct FamilyError {
  std::string family;
  size_t rows = 0;
  double base_mape = NAN, fitted_mape = NAN, cv_mape = NAN;  // percent
};

struct CalibrationReport {
  std::vector<FitConstant> constants;
  std::vector<FamilyError> families;  // the last entry is "all"
  size_t rows = 0, failed = 0;
  int evaluations = 0;
  std::string cross_validation;  // how the cross-validated errors were made ("" when none was)
};

// The constants fitted when none are named: those of the shipped configs that stand for software and physics no
// datasheet gives (documented in models/README.md).
const std::vector<std::string>& default_fit_paths();

// The file a case row came from: its `source` up to "#section[i]" or a CSV's ":line" (a row without one: "").
std::string source_file(const nlohmann::json& row);

// Fits `opt.fit` on every row of `cases` (and, with folds, refits on each k-1 folds to predict the k-th).
// `hw_path` and `overrides` name the base config; a fit path that does not exist is an InputError at the config.
CalibrationReport calibrate(const std::string& hw_path, const std::vector<std::string>& overrides,
                            const nlohmann::json& cases, const CalibrateOptions& opt);

void print_calibration(const CalibrationReport& r, std::ostream& out);
// The `extends:` overlay of the fitted values, with the data they came from and their errors.
std::string calibration_overlay(const CalibrationReport& r, const std::string& base_path, const std::string& out_path,
                                const std::vector<std::string>& case_files);

}  // namespace xpu
