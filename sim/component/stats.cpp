#include "sim/component/stats.h"

namespace xpu {

Stat::Stat(StatGroup* group, std::string name, std::string unit, std::string doc)
    : name_(std::move(name)), unit_(std::move(unit)), doc_(std::move(doc)) {
  group->add(this);
}

nlohmann::json StatGroup::to_json(bool with_docs) const {
  nlohmann::json j = nlohmann::json::object();
  for (const Stat* s : stats_) {
    if (with_docs) j[s->name()] = {{"value", s->value()}, {"unit", s->unit()}, {"doc", s->doc()}};
    else j[s->name()] = s->value();
  }
  return j;
}

const Stat* StatGroup::find(const std::string& name) const {
  for (const Stat* s : stats_)
    if (s->name() == name) return s;
  return nullptr;
}

}  // namespace xpu
