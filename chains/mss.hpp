// MSSChain: length and value of the MSS option on SYNs, per direction.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "chains/chain.hpp"

namespace pspdr {

struct MssChain {
  static constexpr std::string_view name = "mss";
  static constexpr std::string_view summary = "MSS option length and value on SYNs";
  static constexpr bool syn_only_state = true;
  static constexpr std::array fields = {
      FieldDoc{"mss_len_fwd", "int", "MSS option length (kind and length included), forward"},
      FieldDoc{"mss_len_rev", "int", "the same, reverse"},
      FieldDoc{"mss_value_fwd", "int", "MSS option value, forward"},
      FieldDoc{"mss_value_rev", "int", "the same, reverse"},
  };

  struct State {
    std::optional<uint8_t> len_fwd, len_rev;
    std::optional<uint64_t> value_fwd, value_rev;
  };

  static bool tcp(State& s, const Packet& p, bool rev) {
    if (!p.tcp.syn() || !p.tcp_options.seen_mss) return true;
    Bytes v = p.tcp_options.mss;
    // The value is the option's bytes read as one big-endian integer, whatever their
    // number (a 3-byte option gives a 1-byte value); beyond 8 bytes the low 64 bits.
    uint64_t value = 0;
    for (uint8_t b : v) value = value << 8 | b;
    (rev ? s.len_rev : s.len_fwd) = uint8_t(v.size + 2);
    (rev ? s.value_rev : s.value_fwd) = value;
    return true;
  }

  static void write(JsonWriter& w, const State& s) {
    w.field("mss_len_fwd", s.len_fwd);
    w.field("mss_len_rev", s.len_rev);
    w.field("mss_value_fwd", s.value_fwd);
    w.field("mss_value_rev", s.value_rev);
  }
};

}  // namespace pspdr
