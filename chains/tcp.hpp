// TCPChain: SYN flags per direction, FIN/RST seen, 3-way handshake completion. A flow
// completes on FINs both ways or on any RST.
#pragma once

#include <array>
#include <optional>

#include "chains/chain.hpp"

namespace pspdr {

struct TcpChain {
  static constexpr std::string_view name = "tcp";
  static constexpr std::string_view summary = "SYN flags, FIN/RST seen, handshake completion";
  static constexpr std::array fields = {
      FieldDoc{"tcp_synflags_fwd", "int", "flags of the last SYN seen, forward"},
      FieldDoc{"tcp_synflags_rev", "int", "flags of the last SYN seen, reverse"},
      FieldDoc{"tcp_fin_fwd", "bool", "a FIN was seen (PATHspider sets this on reverse FINs)"},
      FieldDoc{"tcp_fin_rev", "bool", "a FIN was seen (PATHspider sets this on forward FINs)"},
      FieldDoc{"tcp_rst_fwd", "bool", "a RST was seen in the forward direction"},
      FieldDoc{"tcp_rst_rev", "bool", "a RST was seen in the reverse direction"},
      FieldDoc{"tcp_connected", "bool", "the 3-way handshake completed"},
  };

  struct State {
    std::optional<uint8_t> synflags_fwd, synflags_rev;
    bool fin_fwd = false, fin_rev = false, rst_fwd = false, rst_rev = false;
    bool connected = false;
  };

  static bool tcp(State& s, const Packet& p, bool rev) {
    const TcpView& t = p.tcp;
    // PATHspider's docs say "the first SYN wins" but its code keeps the last; records
    // must equal PATHspider's, so the code's behaviour is the one kept.
    if (t.syn()) (rev ? s.synflags_rev : s.synflags_fwd) = t.flags();
    if (!s.connected && !rev && s.synflags_fwd && s.synflags_rev &&
        (*s.synflags_fwd & tcpflag::syn) &&
        (*s.synflags_rev & tcpflag::syn_ack) == tcpflag::syn_ack && t.ack())
      s.connected = true;
    // PATHspider files a FIN under the opposite direction's name; kept for equal records.
    if (t.fin()) (rev ? s.fin_fwd : s.fin_rev) = true;
    if (t.rst()) (rev ? s.rst_rev : s.rst_fwd) = true;
    return !((s.fin_fwd && s.fin_rev) || s.rst_fwd || s.rst_rev);
  }

  static void write(JsonWriter& w, const State& s) {
    w.field("tcp_synflags_fwd", s.synflags_fwd);
    w.field("tcp_synflags_rev", s.synflags_rev);
    w.field("tcp_fin_fwd", s.fin_fwd);
    w.field("tcp_fin_rev", s.fin_rev);
    w.field("tcp_rst_fwd", s.rst_fwd);
    w.field("tcp_rst_rev", s.rst_rev);
    w.field("tcp_connected", s.connected);
  }
};

}  // namespace pspdr
