// TFOChain: TCP Fast Open on the handshake -- which option carried the cookie (IANA
// kind 34 or an RFC 6994 experimental option with the TFO ExID), cookie lengths, data
// on the SYN and how much of it the SYN-ACK acknowledged.
#pragma once

#include <array>
#include <cstdint>

#include "chains/chain.hpp"

namespace pspdr {

struct TfoChain {
  static constexpr std::string_view name = "tfo";
  static constexpr std::string_view summary = "TCP Fast Open cookies and SYN data";
  static constexpr bool syn_only_state = true;
  static constexpr std::array fields = {
      FieldDoc{"tfo_synkind", "int",
               "option kind carrying the SYN's cookie (34, 254, 255; 0 none)"},
      FieldDoc{"tfo_ackkind", "int", "option kind carrying the SYN-ACK's cookie"},
      FieldDoc{"tfo_synclen", "int", "cookie length on the SYN"},
      FieldDoc{"tfo_ackclen", "int", "cookie length on the SYN-ACK"},
      FieldDoc{"tfo_seq", "int", "sequence number of the SYN"},
      FieldDoc{"tfo_dlen", "int", "payload length of the SYN"},
      FieldDoc{"tfo_ack", "int", "acknowledgement number of the SYN-ACK"},
  };

  struct State {
    uint8_t synkind = 0, ackkind = 0;
    uint8_t synclen = 0, ackclen = 0;
    uint32_t seq = 0, ack = 0;
    int32_t dlen = 0;
  };

  struct Cookie {
    uint8_t kind = 0;
    uint8_t length = 0;
  };

  // PATHspider's preference: kind 34, then 254, then 255 carrying ExID 0xF989.
  static Cookie cookie(const TcpOptionSummary& o) {
    auto exid = [](Bytes b) { return b.size >= 2 && load_be16(b.data) == tcpopt::exid_fast_open; };
    if (o.seen_fast_open) return {tcpopt::fast_open, uint8_t(o.fast_open.size)};
    if (o.seen_exp_a && exid(o.exp_a)) return {tcpopt::exp_a, uint8_t(o.exp_a.size - 2)};
    if (o.seen_exp_b && exid(o.exp_b)) return {tcpopt::exp_b, uint8_t(o.exp_b.size - 2)};
    return {};
  }

  static bool tcp(State& s, const Packet& p, bool /*rev*/) {
    const TcpView& t = p.tcp;
    if (!t.syn()) return true;
    if (!t.ack()) {
      Cookie c = cookie(p.tcp_options);
      if (c.kind) {
        s.synkind = c.kind;
        s.synclen = c.length;
        s.seq = t.seq();
        s.dlen = t.payload_caplen();
        s.ack = 0;
      }
    } else if (s.synkind) {
      s.ack = t.ack_nbr();
      Cookie c = cookie(p.tcp_options);
      if (c.kind) {
        s.ackkind = c.kind;
        s.ackclen = c.length;
      }
    }
    return true;
  }

  static void write(JsonWriter& w, const State& s) {
    w.field("tfo_synkind", s.synkind);
    w.field("tfo_ackkind", s.ackkind);
    w.field("tfo_synclen", s.synclen);
    w.field("tfo_ackclen", s.ackclen);
    w.field("tfo_seq", s.seq);
    w.field("tfo_dlen", s.dlen);
    w.field("tfo_ack", s.ack);
  }
};

}  // namespace pspdr
