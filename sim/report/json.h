#pragma once
// The machine-readable result: everything in a RunResult as JSON, for scripts and regression comparisons.
#include "sim/report/json_stream.h"  // write_json_file, make_parent_dirs
#include "sim/engine/result.h"
#include "sim/engine/result_json.h"  // result_to_json, op_to_json

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

namespace xpu {

// The same bytes as write_json_file(path, result_to_json(r)), writing the ops one at a time (sim/report/json_stream.h).
// `extra`: members added to the top-level object; `decorate`: adds to each op's JSON before it is written.
using OpDecorator = std::function<void(const OpRecord& op, nlohmann::json& j)>;
void write_result_json(const std::string& path, const RunResult& r, const nlohmann::json& extra = nullptr,
                       const OpDecorator& decorate = nullptr);

}  // namespace xpu
