// TCPOptChain: which TCP option kinds appeared on SYNs and on SYN-ACKs, in each
// direction; plus the presence flags of PATHspider's later tcpopt chain (TS, WS,
// SACK-permitted on reverse SYNs).
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <optional>

#include "chains/chain.hpp"

namespace pspdr {

struct TcpoptChain {
  static constexpr std::string_view name = "tcpopt";
  static constexpr std::string_view summary = "TCP option kinds on SYN and SYN-ACK, each direction";
  static constexpr bool syn_only_state = true;
  static constexpr std::array fields = {
      FieldDoc{"tcpopt_syn_fwd", "[int]",
               "option kinds seen on SYNs (no ACK), forward; null if none seen"},
      FieldDoc{"tcpopt_syn_rev", "[int]", "the same, reverse"},
      FieldDoc{"tcpopt_synack_fwd", "[int]", "option kinds seen on SYN-ACKs, forward"},
      FieldDoc{"tcpopt_synack_rev", "[int]", "the same, reverse"},
      FieldDoc{"tcpopt_ts", "bool", "timestamps option on a reverse SYN or SYN-ACK (else null)"},
      FieldDoc{"tcpopt_ws", "bool", "window scale option on a reverse SYN or SYN-ACK (else null)"},
      FieldDoc{"tcpopt_sack", "bool",
               "SACK-permitted option on a reverse SYN or SYN-ACK (else null)"},
  };

  // A set of option kinds: a bit for each of the 256.
  using KindSet = std::array<uint64_t, 4>;

  struct State {
    KindSet sets[4]{};  // syn_fwd, syn_rev, synack_fwd, synack_rev
    uint8_t seen = 0;   // bit i: a segment of sets[i]'s kind came (its kinds may be none)
  };

  static bool tcp(State& s, const Packet& p, bool rev) {
    if (!p.tcp.syn()) return true;
    int set = (p.tcp.ack() ? 2 : 0) + (rev ? 1 : 0);
    s.seen |= uint8_t(1 << set);
    for (int i = 0; i < 4; ++i) s.sets[set][size_t(i)] |= p.tcp_options.kinds[i];
    return true;
  }

  static void write(JsonWriter& w, const State& s) {
    static constexpr std::string_view names[4] = {"tcpopt_syn_fwd", "tcpopt_syn_rev",
                                                  "tcpopt_synack_fwd", "tcpopt_synack_rev"};
    for (int i = 0; i < 4; ++i) {
      w.key(names[i]);
      write_kinds(w, s.sets[i], (s.seen >> i) & 1);
    }
    w.field("tcpopt_ts", reverse_has(s, tcpopt::timestamps));
    w.field("tcpopt_ws", reverse_has(s, tcpopt::ws));
    w.field("tcpopt_sack", reverse_has(s, tcpopt::sack_permitted));
  }

  // Whether option `kind` came on a reverse SYN or SYN-ACK: true, else null.
  static std::optional<bool> reverse_has(const State& s, uint8_t kind) {
    for (int i : {1, 3})
      if ((s.sets[i][kind >> 6] >> (kind & 63)) & 1) return true;
    return std::nullopt;
  }

 private:
  static void write_kinds(JsonWriter& w, const KindSet& k, bool seen) {
    if (!seen) return w.null();
    w.raw("[");
    bool first = true;
    for (int word = 0; word < 4; ++word)  // set bits only, lowest kind first
      for (uint64_t bits = k[size_t(word)]; bits; bits &= bits - 1) {
        if (!first) w.raw(", ");
        first = false;
        w.integer(word * 64 + std::countr_zero(bits));
      }
    w.raw("]");
  }
};

}  // namespace pspdr
