#pragma once
// A kernel is an op lowered for one compute unit: a number of tiles, each described on demand (so a kernel of a
// million tiles allocates nothing per tile), plus the unit-level facts a mapper needs to choose its tiling.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "models/interfaces.h"
#include "sim/config/dtype.h"

namespace xpu {

// Work and traffic of one tile (a GEMM output tile with its K loop, a block of an elementwise op, ...).
struct TileWork {
  double matrix_flops = 0;  // executed on the matrix unit at the op's dtype (padded tiles count in full)
  double useful_matrix_flops = -1;  // the part on real (not zero-padded) rows and columns; -1: all of it. Padding
                                    // costs time, but multiplying zeros toggles almost no bits: it costs no energy
  double vector_flops = 0;  // executed on the vector units
  double special_ops = 0;   // transcendentals (exp, rsqrt) on the special-function units
  double read_bytes = 0;    // bytes loaded through the cache level (hits and misses)
  double miss_bytes = 0;    // part of read_bytes that comes from main memory
  double write_bytes = 0;   // bytes stored (to the cache, written back to main memory)
  double scratch_bytes = 0; // short-lived bytes (partial sums) written and read back within the cache only
  double serial_s = 0;      // dependent-latency chain inside the tile (a warp walking a bag's indices, each load
                            // waiting for the one before): the tile lasts at least this long after it starts
  double multicast_bytes = 0;  // part of read_bytes a cluster partner asked the cache for (one read, two units)
  double matrix_stall = 1;     // matrix-pipe time over matrix_flops at the rate (>= 1: operands arrive slower)
  // A software-pipelined tile (a GEMM's K loop): its first stage must arrive before the first multiply, and its
  // output is stored after the last. Within a kernel the next tile's loads hide behind a tile's epilogue, so only the
  // first wave waits for its fill and only the last wave's drain ends the kernel.
  double fill_bytes = 0;   // operand bytes of the first pipeline stage (part of read_bytes)
  double drain_bytes = 0;  // output bytes stored after the K loop (part of write_bytes or scratch_bytes)
  Access access = Access::stream;
};

// What a mapper may know about the compute unit it targets.
struct UnitInfo {
  std::string name;
  unsigned units = 1;              // SMs / cores that run tiles independently
  unsigned max_tiles_per_unit = 1; // tiles resident on one unit at once
  double clock_hz = 1e9;
  double local_memory = 0;         // scratchpad/shared memory per unit, bytes
  double load_bw_per_unit = 0;     // bytes/s between one unit and the cache level
  double operand_feed_bw = 0;      // bytes/s of shared memory feeding one unit's matrix pipes (0: no limit)
  unsigned cluster_units = 1;      // units whose tiles share one cache read of a common operand panel (multicast)
  double cache_capacity = 0;       // usable bytes of the cache level (0 = none)
  double cache_bw = 0, mem_bw = 0; // bytes/s
  double mem_latency_s = 0, cache_latency_s = 0;
  std::function<double(DType)> matrix_rate;  // FLOP/s per unit on the matrix unit; 0 = none for that dtype
  std::function<double(DType)> vector_rate;  // FLOP/s per unit on vector units
  double special_rate = 0;                   // transcendentals/s per unit (0: they run on the vector units)
  std::function<double(DType)> matmul_vector_efficiency;  // sustained share for matmuls on the vector units
  double unaligned_efficiency = 1;           // matrix-rate share without 16-byte aligned operand rows
  double unaligned_overhead_s = 0;           // and the extra fixed time of those kernels
  double kernel_overhead_s = 0;              // start-up of every kernel (a mapper that launches two pays it twice)
  std::string gemm_schedule = "auto";        // data_parallel, stream_k, or auto (the faster estimate)
  std::function<double(DType)> matrix_peak;  // FLOP/s per unit at the datasheet rate (no efficiency applied)
  // A weight-stationary systolic matrix unit of rows x cols (TPU MXU: 128 x 128); 0: none (GPU tensor cores). The
  // stationary operand is a rows (K) x cols (N) block; the other streams through it, one row per cycle.
  int64_t systolic_rows = 0, systolic_cols = 0;
  // Best per-unit rate for a matmul of this dtype (matrix unit, else vector units).
  double matmul_rate(DType d) const {
    double m = matrix_rate(d);
    if (m > 0) return m;
    DType v = d == DType::tf32 ? DType::fp32 : d;
    return vector_rate(v) * (matmul_vector_efficiency ? matmul_vector_efficiency(v) : 1.0);
  }
};

// One event per tile: past this a single op would run for minutes of wall time. Mappers that keep per-panel state
// refuse such shapes before allocating it; the dispatcher refuses any kernel above it.
constexpr uint64_t kMaxTilesPerOp = 100000000;

// A small streaming kernel an op launches before or after its tiled one (an attention backward's dO.O row sums with
// the zeroing of its fp32 dQ accumulator; the conversion of that accumulator to dQ): its own start-up, then its bytes
// through main memory at whatever share of its bandwidth is free.
struct SidePass {
  double read_bytes = 0, write_bytes = 0;
  bool any() const { return read_bytes > 0 || write_bytes > 0; }
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  // Describes tile `index`; tiles are requested once each, in issue order (mappers may track reuse statefully).
  virtual void tile(uint64_t index, TileWork& out) = 0;

  std::string mapping;        // how the op was lowered, e.g. "tile 128x256x64, split-k 1, 264 tiles"
  DType dtype = DType::bf16;
  uint64_t num_tiles = 0;
  unsigned tiles_per_unit = 1;  // occupancy the mapper chose
  double offload_fraction = 0;  // share of main-memory reads served by an offload tier (a memory pool)
  double fixed_s = 0;           // time after the last tile (e.g. a split-K reduction) or the whole time if no tiles
  double rate_scale = 1;        // multiplier on the matrix rate (e.g. the unaligned-operand fallback)
  double start_delay_s = 0;     // extra wait before the first tile (e.g. refilling TLBs after a cache flush)
  SidePass before, after;       // streaming kernels launched before the first tile and after the last
  bool overhead_included = false;  // a measured or empty kernel: no launch/drain overhead on top
  // The op's useful work (set by whoever launches the kernel): what the unit's power governor estimates the kernel's
  // draw from, before any tile runs, as a driver's clock governor sees a kernel that repeats.
  double work_matrix_flops = 0, work_vector_flops = 0, work_bytes = 0;
  double work_matrix_stall = 1;  // the matrix pipes' time over the rate's for that work (operands fed slower)
  double work_special_ops = 0;   // transcendentals (an attention kernel's exp per score)
  double work_cache_bytes = -1;  // bytes through the cache level (a GEMM re-reads operand panels); -1: work_bytes
};

}  // namespace xpu
