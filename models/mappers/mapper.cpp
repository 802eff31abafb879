#include "models/mappers/mapper.h"

#include <stdexcept>

namespace xpu {

MapperRegistry& MapperRegistry::instance() {
  static MapperRegistry r;
  return r;
}

bool MapperRegistry::add(OpKind kind, std::string name, MapperFn fn) {
  auto i = static_cast<size_t>(kind);
  if (fns_[i]) throw std::logic_error("two mappers registered for op kind " + std::string(op_kind_name(kind)));
  fns_[i] = std::move(fn);
  names_[i] = std::move(name);
  return true;
}

const MapperFn* MapperRegistry::find(OpKind kind) const {
  auto i = static_cast<size_t>(kind);
  return fns_[i] ? &fns_[i] : nullptr;
}

}  // namespace xpu
