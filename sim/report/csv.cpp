#include "sim/report/csv.h"

#include "sim/report/json.h"


namespace xpu {

namespace {

// RFC 4180: a field with a separator, quote or line break is quoted, its quotes doubled.
void put_field(std::ostream& out, const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) {
    out << s;
    return;
  }
  out << '"';
  for (char c : s) {
    if (c == '"') out << '"';
    out << c;
  }
  out << '"';
}

void put_value(std::ostream& out, const nlohmann::json& v) {
  if (v.is_string()) put_field(out, v.get_ref<const std::string&>());
  else if (v.is_boolean()) out << (v.get<bool>() ? "true" : "false");
  else if (v.is_number_unsigned()) out << v.get<uint64_t>();
  else if (v.is_number_integer()) out << v.get<int64_t>();
  // The JSON text of a double is the shortest that reads back exactly, and locale-independent unlike <<.
  else if (v.is_number_float()) out << v.dump();
}

}  // namespace

void write_ops_csv(std::ostream& out, const RunResult& r) {
  const auto& fields = op_field_names();
  for (size_t i = 0; i < fields.size(); ++i) out << (i ? "," : "") << fields[i];
  out << "\n";
  // Through op_to_json so the CSV can never drift from the JSON "ops" fields.
  for (const auto& op : r.ops) {
    nlohmann::json j = op_to_json(op);
    for (size_t i = 0; i < fields.size(); ++i) {
      if (i) out << ',';
      put_value(out, j.at(fields[i]));
    }
    out << "\n";
  }
}

}  // namespace xpu
