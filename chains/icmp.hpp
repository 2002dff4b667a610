// ICMPChain: an ICMP(v6) destination-unreachable seen in the reverse direction; the
// flow completes when one is.
#pragma once

#include <array>

#include "chains/chain.hpp"

namespace pspdr {

struct IcmpChain {
  static constexpr std::string_view name = "icmp";
  static constexpr std::string_view summary = "ICMP unreachable seen in the reverse direction";
  static constexpr std::array fields = {
      FieldDoc{"icmp_unreachable", "bool", "an ICMP(v6) unreachable was seen in reverse"},
  };

  struct State {
    bool unreachable = false;
  };

  static bool icmp(State& s, const Packet& p, bool rev) {
    uint8_t unreachable = p.icmp.version == 4 ? icmptype::v4_unreachable : icmptype::v6_unreachable;
    if (rev && p.icmp.type() == unreachable) s.unreachable = true;
    return !s.unreachable;
  }

  static void write(JsonWriter& w, const State& s) { w.field("icmp_unreachable", s.unreachable); }
};

}  // namespace pspdr
