#include "sim/engine/result.h"

namespace xpu {

const char* bound_name(Bound b) {
  switch (b) {
    case Bound::compute: return "compute";
    case Bound::memory: return "memory";
    case Bound::cache: return "cache";
    case Bound::latency: return "latency";
    case Bound::interconnect: return "interconnect";
    case Bound::measured: return "measured";
    case Bound::dependency: return "dependency";
    case Bound::programming: return "programming";
  }
  return "unknown";  // only reachable through a cast from an out-of-range integer
}

}  // namespace xpu
