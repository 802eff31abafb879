#pragma once
// Workload generators: a model family (transformer, dlrm) turned into ops from a handful of parameters. Each
// generator declares its parameters once with the ParamSpec builders, so validation of a workload file, `--set`
// overrides and `xpusim describe <generator>` all come from that one declaration. A generator file registers
// itself with one line:
//   XPU_REGISTER_GENERATOR("dlrm", "DLRM recommendation model ...", dlrm_specs(), build_dlrm);
#include <functional>
#include <string>
#include <vector>

#include "sim/config/params.h"
#include "sim/workload/op.h"

namespace xpu {

struct Generator {
  std::string name;
  std::string doc;
  std::vector<ParamSpec> specs;
  // Builds the ops from validated parameters; `workload_name` is the file's `name:` (used in the description).
  // Throws InputError at a parameter's mark for combinations the specs alone cannot reject.
  std::function<Workload(const ParamSet&, const std::string& workload_name)> fn;
};

// Returns true so that registration can initialise a static; a duplicate name is a programming error.
bool register_generator(Generator g);
const Generator* find_generator(const std::string& name);  // nullptr when unknown
std::vector<std::string> generator_names();                // sorted

#define XPU_GEN_CONCAT2(a, b) a##b
#define XPU_GEN_CONCAT(a, b) XPU_GEN_CONCAT2(a, b)
#define XPU_REGISTER_GENERATOR(NAME, DOC, SPECS, FN)                                 \
  static const bool XPU_GEN_CONCAT(xpu_generator_registered_, __LINE__) = \
      ::xpu::register_generator({NAME, DOC, SPECS, FN})

}  // namespace xpu
