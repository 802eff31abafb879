#pragma once
// Conventions every trace reader shares: how an op kept only for its measured time is marked, and how the names
// traces use (mangled kernel names, collective spellings, torch type strings) read in IR terms.
#include <optional>
#include <string>

#include "sim/workload/op.h"

namespace xpu {

// Framework annotations rather than ops: "[pytorch|profiler|...]", "## process_group:init ##", "ProfilerStep#3".
bool is_annotation(const std::string& name);

// An op kept only for its measured duration: kind elementwise, variant "unmodelled:<what>", no modelled work.
Op unmodelled_op(const std::string& name, const std::string& what, double measured_us);
bool is_unmodelled(const Op& op);

// "void at::native::vectorized_elementwise_kernel<8, ...>(...)" -> "vectorized_elementwise_kernel".
std::string short_kernel_name(const std::string& kernel);
// IR collective name ("all_reduce", ...) from the spellings traces use (AllReduce, allreduce, _allgather_base,
// ncclDevKernel_AllGather_RING_LL, ALL_TO_ALL, ...); empty when it is none.
std::string collective_name(const std::string& s);
// "c10::BFloat16", "Tensor(c10::Half)", "float", ... ; nullopt for integer, bool and non-tensor types.
std::optional<DType> torch_dtype(const std::string& type);
// Bytes per element of a recorded tensor type, including integer types; 0 when unknown.
double torch_elem_bytes(const std::string& type);

}  // namespace xpu
