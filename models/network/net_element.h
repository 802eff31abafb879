#pragma once
// Network blocks (links, switches, optical circuit switches) are declared once in `components:` and instantiated many
// times by the `network:` topology. The component is the template: it counts its instances, the bytes and energy of
// all of them, and charges static power per instance.
#include "sim/component/component.h"

namespace xpu {

class NetElement : public Component {
 public:
  using Component::Component;
  void add_instances(double n) { instances_ += n; }
  double instances() const { return instances_.value(); }
  // Bytes that crossed one instance (one direction of a link, one switch traversal).
  void carry(double bytes, double busy_s) {
    bytes_ += bytes;
    busy_s_ += busy_s;
    add_dynamic_energy(bytes * 8 * energy_per_bit());
  }
  virtual double energy_per_bit() const = 0;
  // Power drawn per instance whether or not data flows (lasers, ring heaters, SerDes idle), beyond `static_power`.
  virtual double extra_static_w() const { return 0; }
  double data_movement_energy_j() const override { return dynamic_energy_j(); }
  // Busy share of all instances (each link direction counted separately).
  double utilization(double t) const override {
    double n = instances_.value() * directions();
    return t > 0 && n > 0 ? busy_s_.value() / (n * t) : 0;
  }
  void finish(double t) override {
    energy_static_.set((static_power_w() + extra_static_w()) * instances_.value() * t);
  }

 protected:
  virtual double directions() const { return 1; }
  Stat instances_{&stats_, "instances", "", "copies of this block in the topology"};
  Stat bytes_{&stats_, "bytes", "B", "bytes carried, summed over instances and hops"};
  Stat busy_s_{&stats_, "busy", "s", "time instances (a switch: its ports) spent transferring, summed"};
};

// A point-to-point channel: the topology builder asks it for its per-direction rate and latency.
class LinkTemplate : public NetElement {
 public:
  using NetElement::NetElement;
  virtual double bandwidth() const = 0;  // payload bytes/s per direction, all lanes
  virtual double latency_s() const = 0;  // one way, first byte
  virtual double lanes() const { return 1; }

 protected:
  double directions() const override { return 2; }
};

// A node that forwards between its ports; optionally reduces (in-network reduction) or sets circuits (optical).
class SwitchTemplate : public NetElement {
 public:
  using NetElement::NetElement;
  virtual double hop_latency_s() const = 0;
  virtual double buffer_bytes() const { return 0; }       // per output port; 0 = unbounded
  virtual double reduction_bandwidth() const { return 0; } // reduced bytes/s it can produce; 0 = no reduction
  virtual bool circuit_switched() const { return false; }
  virtual double reconfiguration_s() const { return 0; }
  virtual double ports() const = 0;
  // Busy share of its ports: a switch is as busy as the links that deliver into it.
  double utilization(double t) const override {
    const double n = instances() * ports();
    return t > 0 && n > 0 ? busy_s_.value() / (n * t) : 0;
  }
  void count_reconfiguration(double s) { reconfigurations_ += 1; reconfiguring_s_ += s; }

 protected:
  Stat reconfigurations_{&stats_, "reconfigurations", "", "times the circuits were reset (optical switches)"};
  Stat reconfiguring_s_{&stats_, "reconfiguring", "s", "time spent reconfiguring circuits"};
};

}  // namespace xpu
