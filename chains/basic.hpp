// BasicChain: addresses, protocol, ports, packet and octet counts per direction.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>

#include "chains/chain.hpp"
#include "shared/address.hpp"

namespace pspdr {

struct BasicChain {
  static constexpr std::string_view name = "basic";
  static constexpr std::string_view summary = "addresses, ports, packet and octet counts";
  static constexpr std::array fields = {
      FieldDoc{"sip", "str", "source address of the flow's first packet"},
      FieldDoc{"dip", "str", "destination address of the flow's first packet"},
      FieldDoc{"proto", "int", "IP protocol number"},
      FieldDoc{"sp", "int", "TCP/UDP source port (null for other protocols)"},
      FieldDoc{"dp", "int", "TCP/UDP destination port (null for other protocols)"},
      FieldDoc{"pkt_fwd", "int", "packets seen in the forward direction"},
      FieldDoc{"pkt_rev", "int", "packets seen in the reverse direction"},
      FieldDoc{"oct_fwd", "int", "octets captured from the IP header on, forward"},
      FieldDoc{"oct_rev", "int", "octets captured from the IP header on, reverse"},
  };

  // Both addresses share one version byte and the ports one flag: 72 bytes, not 80.
  struct State {
    uint64_t pkt_fwd = 0, pkt_rev = 0, oct_fwd = 0, oct_rev = 0;  // first: every packet's
    uint8_t src[16] = {}, dst[16] = {};
    uint8_t version = 0, proto = 0;
    uint16_t src_port = 0, dst_port = 0;
    bool ports = false;

    IpAddress sip() const { return IpAddress(version, src); }
    IpAddress dip() const { return IpAddress(version, dst); }
    std::optional<uint16_t> sp() const { return ports ? std::optional(src_port) : std::nullopt; }
    std::optional<uint16_t> dp() const { return ports ? std::optional(dst_port) : std::nullopt; }
  };

  static void new_flow(State& s, const Packet& p) {
    s.version = p.ip.version;
    std::memcpy(s.src, p.ip.src(), p.ip.version == 4 ? 4 : 16);
    std::memcpy(s.dst, p.ip.dst(), p.ip.version == 4 ? 4 : 16);
    s.proto = p.ip.proto;
    // python-libtrace gives PATHspider a TCP or UDP object as soon as the first four
    // transport bytes are captured, whatever the rest of the header looks like.
    Bytes l4 = p.ip.l4();
    if ((p.ip.proto == ipproto::tcp || p.ip.proto == ipproto::udp) && l4.size >= 4) {
      s.ports = true;
      s.src_port = load_be16(l4.data);
      s.dst_port = load_be16(l4.data + 2);
    }
  }

  static bool ip(State& s, const Packet& p, bool rev) {
    (rev ? s.pkt_rev : s.pkt_fwd) += 1;
    (rev ? s.oct_rev : s.oct_fwd) += p.ip.size();
    return true;
  }

  static void write(JsonWriter& w, const State& s) {
    char buf[IpAddress::kMaxText];
    w.field("sip", s.sip().format(buf));
    w.field("dip", s.dip().format(buf));
    w.field("proto", s.proto);
    w.field("sp", s.sp());
    w.field("dp", s.dp());
    w.field("pkt_fwd", s.pkt_fwd);
    w.field("pkt_rev", s.pkt_rev);
    w.field("oct_fwd", s.oct_fwd);
    w.field("oct_rev", s.oct_rev);
  }
};

}  // namespace pspdr
