#pragma once
// The machine-readable result: everything in a RunResult as JSON, for scripts and regression comparisons.
#include "sim/json_stream.h"  // write_json_file, make_parent_dirs
#include "sim/result.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

namespace xpu {

// Deterministic: the same result gives a byte-identical dump (objects are key-ordered, nothing time-dependent).
nlohmann::json result_to_json(const RunResult& r);
// The same bytes as write_json_file(path, result_to_json(r)), writing the ops one at a time (sim/json_stream.h).
// `extra`: members added to the top-level object; `decorate`: adds to each op's JSON before it is written.
using OpDecorator = std::function<void(const OpRecord& op, nlohmann::json& j)>;
void write_result_json(const std::string& path, const RunResult& r, const nlohmann::json& extra = nullptr,
                       const OpDecorator& decorate = nullptr);

// One op as a JSON "ops" entry; op_field_names() lists the same keys in the CSV column order.
nlohmann::json op_to_json(const OpRecord& op);
const std::vector<std::string>& op_field_names();

}  // namespace xpu
