#pragma once
#include <cstdint>

namespace xpu {

// One tile on one lane (an SM slot), for the timeline; recorded only when a trace is asked for.
struct TileRecord {
  uint32_t op = 0;
  uint32_t lane = 0;
  double start_s = 0, end_s = 0;
};

}  // namespace xpu
