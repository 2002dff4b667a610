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

  // Lengths of 0 say no MSS option was seen (a seen one counts at least its kind and
  // length bytes): no optionals, so the state takes 24 bytes of a flow, not 40.
  struct State {
    uint64_t value_fwd = 0, value_rev = 0;
    uint8_t len_fwd = 0, len_rev = 0;
  };

  static bool tcp(State& s, const Packet& p, bool rev) {
    if (!p.tcp.syn() || !p.tcp_options.seen_mss) return true;
    Bytes v = p.tcp_options.mss;
    // The value is the option's bytes read as one big-endian integer, whatever their
    // number (a 3-byte option gives a 1-byte value); beyond 8 bytes the low 64 bits.
    uint64_t value = 0;
    for (uint8_t b : v) value = value << 8 | b;
    (rev ? s.len_rev : s.len_fwd) = uint8_t(v.size + 2);  // an option's length fits a byte
    (rev ? s.value_rev : s.value_fwd) = value;
    return true;
  }

  static void write(JsonWriter& w, const State& s) {
    w.field("mss_len_fwd", seen(s.len_fwd, s.len_fwd));
    w.field("mss_len_rev", seen(s.len_rev, s.len_rev));
    w.field("mss_value_fwd", seen(s.len_fwd, s.value_fwd));
    w.field("mss_value_rev", seen(s.len_rev, s.value_rev));
  }

  // A direction's value, or nullopt (PATHspider's None) if it brought no MSS option.
  template <class T>
  static std::optional<T> seen(uint8_t len, T value) {
    return len ? std::optional<T>(value) : std::nullopt;
  }
};

}  // namespace pspdr
