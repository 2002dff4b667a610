// SynReplyChain: the first answer to a forged SYN (tcpsyn, the stateless mode) -- its
// flags and acknowledgement number. The forge keeps nothing per probe: its SYN's
// sequence number is a keyed hash of the 4-tuple, reported back as
// ConnectionResult::syn_seq, and an answer is the target's only when it acknowledges
// that number. Loaded (ChainSet::with_loaded) by every plugin that offers tcpsyn.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "chains/chain.hpp"

namespace pspdr {

struct SynReplyChain {
  static constexpr std::string_view name = "syn_reply";
  static constexpr std::string_view summary = "the first SYN-ACK or RST answering a SYN";
  static constexpr std::array fields = {
      FieldDoc{"syn_reply_flags", "int", "TCP flags of the first reverse SYN-ACK or RST"},
      FieldDoc{"syn_reply_ack", "int", "its acknowledgement number"},
  };
  struct State {
    std::optional<uint8_t> flags;
    uint32_t ack = 0;
  };
  static bool tcp(State& s, const Packet& p, bool rev) {
    if (rev && !s.flags && (p.tcp.syn() || p.tcp.rst())) {
      s.flags = p.tcp.flags();
      s.ack = p.tcp.ack_nbr();
    }
    return true;
  }
  static void write(JsonWriter& w, const State& s) {
    w.field("syn_reply_flags", s.flags);
    w.field("syn_reply_ack", s.ack);
  }
};

}  // namespace pspdr
