// Embedding bags as the framework's gather-sum kernel runs them (PyTorch EmbeddingBag_updateOutputKernel_sum_mean):
// a fixed grid of kGridBlocks blocks of kWarpsPerBlock warps loops over (bag, 32-feature chunk) pairs, one warp per
// pair. A warp walks its bag's indices one after another: it loads the index, then the 32 features of that row (a
// load that depends on the index), adds, and only then moves to the next index. So the kernel is bounded three ways:
//  - latency: every bag is a chain of dependent loads; with only the resident warps in flight, throughput is
//    concurrency / chain time (Little's law) — this bounds small batches and short bags;
//  - issue: the loop is heavy in 64-bit index arithmetic (the chunk and bag indices are 64-bit divisions and modulos,
//    the index is checked against the padding index and the table size, offset2bag is stored per lookup), so a unit
//    is busy for about kChunkInstr warp instructions per chunk and kLookupInstr per lookup — this bounds tables that
//    fit the cache, where the measured gather rate stays near 2.5 TB/s although the cache could deliver more;
//  - bandwidth: rows of a table larger than the cache come from memory as random sector gathers.
// Rows of a table that fits the cache are fetched from memory once (first touch after a flush); rows of a larger
// table hit only in proportion to the share of it the cache can hold.
#include <algorithm>
#include <cmath>
#include <string>

#include "models/mappers/stream_kernel.h"
#include "models/sram.h"

namespace xpu {
namespace {

constexpr double kSector = 32;          // bytes per memory sector (GPU L2/HBM access granularity)
constexpr double kWarpLanes = 32;       // features one warp sums (block 32 x 8)
constexpr double kWarpsPerBlock = 8;
constexpr double kGridBlocks = 1024;    // fixed grid, grid-stride loop over chunks
constexpr double kMaxWarpsPerUnit = 64; // 2048 resident threads per SM (Hopper, Ampere)
constexpr double kIndexBytes = 8;       // int64 indices and offsets
// Warp instructions per (bag, chunk) and per lookup of the gather loop; fitted to the H100 calibration rows whose
// tables fit the L2 (pooling 1: ~3 us per round of all resident warps; pooling 80: ~33 us per round), consistent
// with ~3 emulated 64-bit divisions per chunk and ~48 integer/address instructions per lookup.
constexpr double kChunkInstr = 350;
constexpr double kLookupInstr = 48;
// Cycles between dependent instructions of one warp (ALU result latency), for the per-lookup chain.
constexpr double kDependentIssueCycles = 4;

class GatherKernel : public Kernel {
 public:
  GatherKernel(const Op& op, const MapContext& ctx) {
    const auto& s = std::get<EmbeddingBagShape>(op.shape);
    const UnitInfo& u = ctx.unit;
    dtype = op.dtype;
    double eb = dtype_bytes(op.dtype);
    double chunks = std::ceil(s.dim / kWarpLanes);
    // Each warp loads its chunk of the row: 32 features, rounded up to whole sectors.
    double chunk_bytes = std::ceil(std::min<double>(s.dim, kWarpLanes) * eb / kSector) * kSector;
    double row_bytes = chunks * chunk_bytes;
    double table_bytes = double(s.rows) * s.dim * eb;
    double lookups = double(s.batch) * s.pooling;
    // Distinct rows touched by `lookups` uniform draws over `rows`.
    double distinct = s.rows * (1 - std::exp(-lookups / std::max<double>(1, s.rows)));
    double cap = ctx.cache ? u.cache_capacity : 0;
    double resident = 0;
    if (ctx.cache && !op.reads.empty()) resident = ctx.cache->resident_fraction(op.reads[0].name, op.reads[0].bytes);
    // `resident`: the share of the rows it gathers already on chip (a replay of the same indices, as a CUDA graph
    // does, finds the rows the last call gathered). A repeated row hits if the table fits, else with the share of the
    // table the cache holds, or as a row the last call gathered.
    const double repeat_hit = table_bytes <= cap ? 1 : std::max(resident, cap > 0 ? cap / table_bytes : 0);
    const double miss_rows = distinct * (1 - resident) + (lookups - distinct) * (1 - repeat_hit);
    double miss_share = lookups > 0 ? miss_rows / lookups : 0;

    // Concurrency: the resident warps of the fixed grid, one (bag, chunk) each.
    double warps = std::min(kGridBlocks * kWarpsPerBlock, u.units * kMaxWarpsPerUnit);
    double bags_in_flight = std::max(1.0, std::floor(warps / chunks));
    double total_bags = double(s.tables) * s.batch;
    tiles_per_unit = 2;
    double slots = double(u.units) * tiles_per_unit;
    double bags_per_tile = std::max(1.0, bags_in_flight / slots);
    num_tiles = uint64_t(std::max(1.0, std::ceil(total_bags / bags_per_tile)));
    double bags = total_bags / double(num_tiles);

    // Per tile (its bags run side by side, each a dependent chain).
    double clk = u.clock_hz > 0 ? 1 / u.clock_hz : 0;
    // A lone chain sees the idle latency of a miss (pointer chase), not the loaded one streaming kernels see.
    double miss_lat = u.mem_latency_s;
    if (auto* l2 = dynamic_cast<const SramModule*>(ctx.cache); l2 && l2->miss_latency_s() > 0)
      miss_lat = l2->miss_latency_s();
    double row_lat = miss_share * miss_lat + (1 - miss_share) * u.cache_latency_s;
    double index_lat = kIndexBytes / kSector * u.cache_latency_s;  // the other indices of a sector hit nearby
    double lookup_s = row_lat + index_lat + kLookupInstr * kDependentIssueCycles * clk;
    double bag_s = miss_lat + kChunkInstr * clk;  // the bag's offsets, then the loop set-up
    work_.serial_s = bag_s + s.pooling * lookup_s;
    work_.read_bytes = bags * (s.pooling * (row_bytes + kIndexBytes) + 2 * kIndexBytes);
    work_.miss_bytes = bags * (s.pooling * (miss_share * row_bytes + kIndexBytes) + 2 * kIndexBytes);
    // Output rows, the bag sizes and offset2bag (one index per lookup).
    work_.write_bytes = bags * (s.dim * dtype_bytes(op.out_dtype) + kIndexBytes + s.pooling * kIndexBytes);
    // Issue slots: a warp instruction occupies the unit's 32-lane share of its fp32 vector rate (2 FLOP per lane).
    double instr = bags * chunks * (kChunkInstr + s.pooling * kLookupInstr);
    double fp32_per_dt = u.vector_rate(DType::fp32) > 0 ? u.vector_rate(op.dtype) / u.vector_rate(DType::fp32) : 1;
    work_.vector_flops = instr * kWarpLanes * 2 * fp32_per_dt;
    work_.access = Access::random;
    mapping = "gather-sum, " + std::to_string(int64_t(bags_in_flight)) + " bags in flight, " +
              std::to_string(num_tiles) + " tiles";
  }
  void tile(uint64_t, TileWork& t) override { t = work_; }

 private:
  TileWork work_;
};

std::unique_ptr<Kernel> map_embedding_bag(const Op& op, const MapContext& ctx) {
  return std::make_unique<GatherKernel>(op, ctx);
}

}  // namespace

XPU_REGISTER_MAPPER(OpKind::embedding_bag, "gather-sum", map_embedding_bag);

}  // namespace xpu
