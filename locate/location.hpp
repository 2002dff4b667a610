// Where on the path, from a job's traces: the hop interval in which a probe's header
// changed (the last hop whose quote showed the field as sent, the first whose quote
// showed it changed) and the one after which B's probe went unanswered while A's went
// on; as conditions and as the result line's "locate" field (docs/locate.md).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "locate/tracer.hpp"
#include "shared/json_writer.hpp"

namespace pspdr {

// One configuration's trace; A (number 0) first.
struct TracedConfiguration {
  int number = 0;
  Trace trace;
};

struct Located {
  std::string condition;   // e.g. ecn.ipmark.ect0.changed_at:10.210.1.2
  int config = 0;          // whose probe showed it
  unsigned after_ttl = 0;  // the last hop that saw the probe as sent, or answered it (0: here)
  std::optional<IpAddress> after;
  unsigned before_ttl = 0;  // the first that saw it changed, or that answered A only (0: none)
  std::optional<IpAddress> before;
  bool partial = false;  // hops between the two could not tell (short quotes, silence)
};

// What one hop's answer showed of the probe it expired.
struct HopReading {
  bool quoted = false;               // the answer quotes the probe (and the probe was seen leaving)
  bool whole = false;                // the quote holds the probe's whole transport header
  uint8_t tos = 0;                   // the quoted TOS byte / traffic class
  std::vector<std::string> changed;  // the fields that differ, as conditions name them
};
HopReading read_hop(const Trace& trace, const Hop& hop);

std::string address_text(const std::optional<IpAddress>& a);  // "?" for none

// Conditions are PLUGIN.FIELD.changed_at:ADDR, PLUGIN.connectivity.broken_at:ADDR and
// PLUGIN.connectivity.offline_after:ADDR (ADDR: the `after` hop), "_after" in place of
// "_at" for a partial answer; PLUGIN.locate.unchanged when nothing was located.
std::vector<Located> locate(std::string_view plugin, std::span<const TracedConfiguration> traces);

// The "locate" field's value: every trace hop by hop, then what was located.
void write_locate(JsonWriter& w, std::span<const TracedConfiguration> traces,
                  std::span<const Located> located);

}  // namespace pspdr
