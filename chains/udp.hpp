// UDPChain: whether the last datagram in each direction had a zero (disabled) checksum.
#pragma once

#include <array>
#include <optional>

#include "chains/chain.hpp"

namespace pspdr {

struct UdpChain {
  static constexpr std::string_view name = "udp";
  static constexpr std::string_view summary = "zero UDP checksum on the last datagram each way";
  static constexpr std::array fields = {
      FieldDoc{"udp_zero_checksum_fwd", "bool", "last forward datagram had checksum 0"},
      FieldDoc{"udp_zero_checksum_rev", "bool", "last reverse datagram had checksum 0"},
  };

  struct State {
    std::optional<bool> zero_fwd, zero_rev;
  };

  static bool udp(State& s, const Packet& p, bool rev) {
    (rev ? s.zero_rev : s.zero_fwd) = p.udp.checksum() == 0;
    return true;
  }

  static void write(JsonWriter& w, const State& s) {
    w.field("udp_zero_checksum_fwd", s.zero_fwd);
    w.field("udp_zero_checksum_rev", s.zero_rev);
  }
};

}  // namespace pspdr
