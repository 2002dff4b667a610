// The merger's side of the observer: flow records as they come out of the observer,
// indexed by destination, ports and protocol, until a connection claims its own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "generators/connection.hpp"
#include "generators/plugin.hpp"

namespace pspdr {

struct ObservedFlow {
  std::string key;    // family, destination, ports, protocol (see connection_key)
  double first = 0;   // pkt_first
  std::string json;   // the record as the observer wrote it
  FlowFields fields;  // its scalar fields, for the combiners
};

// Parses one record line of the observer; nullopt if it has no 5-tuple to match.
std::optional<ObservedFlow> parse_flow_record(std::string_view line);

// The key a connection's flow has: from the client (sip) to the target.
std::string connection_key(uint8_t family, const uint8_t* addr, uint16_t sport, uint16_t dport,
                           uint8_t proto);

// Whether a flow whose first packet came at `first` is that of a connection which ran
// from `started` to `finished` (a second of slack for the clocks).
inline bool begun_during(double first, double started, double finished) {
  return first >= started - 1 && first <= finished + 1;
}

class FlowIndex {
 public:
  void add(ObservedFlow flow);
  // Removes and returns the flow of a connection: its key, begun while it ran
  // (begun_during). nullopt if none has come out of the observer yet.
  std::optional<ObservedFlow> claim(const std::string& key, double started, double finished);
  // Forgets records older than `before` that no connection claimed (other traffic).
  void forget(double before);
  size_t size() const { return flows_.size(); }

 private:
  std::unordered_multimap<std::string, ObservedFlow> flows_;
};

}  // namespace pspdr
