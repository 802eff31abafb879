#include "sim/trace/trace_names.h"

#include <algorithm>
#include <cctype>
#include <utility>
#include <vector>

namespace xpu {
namespace {
std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}
}  // namespace

bool is_annotation(const std::string& name) {
  return name.empty() || name[0] == '[' || name[0] == '#' || name.rfind("ProfilerStep#", 0) == 0 ||
         name.rfind("## ", 0) == 0;
}

Op unmodelled_op(const std::string& name, const std::string& what, double measured_us) {
  Op op;
  op.name = name;
  op.kind = OpKind::elementwise;
  op.variant = "unmodelled:" + what;
  op.shape = ElementwiseShape{0, 0, 0};
  op.measured_us = measured_us;
  return op;
}

bool is_unmodelled(const Op& op) { return op.variant.rfind("unmodelled:", 0) == 0; }

std::string short_kernel_name(const std::string& kernel) {
  std::string s = kernel;
  if (s.rfind("void ", 0) == 0) s = s.substr(5);
  for (size_t p; (p = s.find("(anonymous namespace)::")) != std::string::npos;) s.erase(p, 23);
  // Cut template arguments and the parameter list, then namespaces: what is left names the kernel.
  size_t cut = s.find_first_of("<(");
  if (cut != std::string::npos && cut > 0) s = s.substr(0, cut);
  if (auto p = s.rfind("::"); p != std::string::npos) s = s.substr(p + 2);
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s.empty() ? kernel.substr(0, 60) : s;
}

std::string collective_name(const std::string& raw) {
  std::string s;
  for (char ch : lower(raw))
    if (std::isalpha(static_cast<unsigned char>(ch))) s += ch;
  static const std::vector<std::pair<std::string, std::string>> names = {
      {"allreduce", "all_reduce"},         {"reducescatter", "reduce_scatter"}, {"allgather", "all_gather"},
      {"alltoall", "all_to_all"},          {"broadcast", "broadcast"},          {"sendrecv", "send_recv"},
      {"send", "send_recv"},               {"recv", "send_recv"},               {"reduce", "all_reduce"},
      {"gather", "all_gather"},            {"scatter", "reduce_scatter"},       {"barrier", "barrier"}};
  // Trace spellings wrap the name (ncclDevKernel_AllGather_RING_LL, _allgather_base, ALL_TO_ALL): the first name
  // of this list it contains, longer names first so that "allreduce" wins over "reduce".
  for (const auto& [key, ir] : names)
    if (s.find(key) != std::string::npos) return ir;
  return "";
}

std::optional<DType> torch_dtype(const std::string& raw) {
  std::string s = raw;
  if (s.rfind("Tensor(", 0) == 0 && s.back() == ')') s = s.substr(7, s.size() - 8);
  if (auto p = s.rfind("::"); p != std::string::npos) s = s.substr(p + 2);
  s = lower(s);
  if (s == "bfloat16") return DType::bf16;
  if (s == "half" || s == "float16") return DType::fp16;
  if (s == "float" || s == "float32" || s == "double" || s == "float64") return DType::fp32;
  if (s.rfind("float8", 0) == 0) return DType::fp8;
  return std::nullopt;
}

double torch_elem_bytes(const std::string& raw) {
  std::string s = raw;
  if (s.rfind("Tensor(", 0) == 0 && s.back() == ')') s = s.substr(7, s.size() - 8);
  if (auto p = s.rfind("::"); p != std::string::npos) s = s.substr(p + 2);
  s = lower(s);
  if (s == "double" || s == "long int" || s == "long" || s == "int64" || s == "long long" || s == "c10::complex<float>")
    return 8;
  if (s == "float" || s == "int" || s == "int32" || s == "unsigned int") return 4;
  if (s == "bfloat16" || s == "half" || s == "short int" || s == "short" || s == "int16") return 2;
  if (s == "bool" || s == "unsigned char" || s == "signed char" || s == "int8" || s == "uint8" ||
      s.rfind("float8", 0) == 0)
    return 1;
  return 0;
}

}  // namespace xpu
