#include "sim/report/json.h"

#include "sim/config/errors.h"
#include "sim/engine/result_json.h"

namespace xpu {

void write_result_json(const std::string& path, const RunResult& r, const nlohmann::json& extra,
                       const OpDecorator& decorate) {
  nlohmann::json head = result_head_json(r);
  if (extra.is_object())
    for (const auto& [k, v] : extra.items()) head[k] = v;
  write_json_file_streamed(path, head, "ops", [&](const JsonEmit& emit) {
    for (const auto& op : r.ops) {
      nlohmann::json j = op_to_json(op);
      if (decorate) decorate(op, j);
      emit(j);
    }
  });
}

}  // namespace xpu
