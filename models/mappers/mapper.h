#pragma once
// The mapper interface: a mapper lowers one op of the IR into a Kernel (tiles) for the unit it targets. Mappers are
// the only models that read ops (with the op engines); the blocks that run kernels see TileWork and UnitInfo only.
#include <functional>
#include <memory>
#include <string>

#include "models/kernel.h"
#include "sim/config/registry.h"  // XPU_CONCAT
#include "sim/workload/op.h"

namespace xpu {

struct MapContext {
  const UnitInfo& unit;
  CacheLevel* cache;                 // may be null (no cache level on the path)
  double busy_so_far_s = 0;          // device time of the ops finished so far (sizes a pipeline bubble)
};

using MapperFn = std::function<std::unique_ptr<Kernel>(const Op&, const MapContext&)>;

// Mappers register per op kind, like components per type: a new lowering is a new file and one line.
class MapperRegistry {
 public:
  static MapperRegistry& instance();
  bool add(OpKind kind, std::string name, MapperFn fn);
  const MapperFn* find(OpKind kind) const;

 private:
  MapperFn fns_[16];
  std::string names_[16];
};

#define XPU_REGISTER_MAPPER(KIND, NAME, FN) \
  static const bool XPU_CONCAT(xpu_mapper_, __LINE__) = ::xpu::MapperRegistry::instance().add(KIND, NAME, FN)

}  // namespace xpu
