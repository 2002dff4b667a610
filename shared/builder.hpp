// Packet construction: IPv4/IPv6 with TCP (any option list), UDP or ICMP, correct
// checksums, framed for any link type the dissector reads. Tests, benchmarks and the
// trace synthesiser build their packets here; the forge generator will too.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "shared/link.hpp"
#include "shared/tcp_option_fields.hpp"

namespace pspdr::build {

using Buffer = std::vector<uint8_t>;

struct Ip {
  std::string src = "192.0.2.1";  // IPv4 or IPv6 text; the family follows the text
  std::string dst = "192.0.2.2";
  uint8_t tos = 0;  // IPv4 TOS / IPv6 traffic class (DSCP << 2 | ECN)
  uint8_t ttl = 64;
  uint16_t id = 0;
  bool evil = false;  // RFC 3514 reserved flag (IPv4)
  bool dont_fragment = true;
  uint16_t fragment_offset = 0;  // in 8-byte units
  bool more_fragments = false;
  Buffer ipv4_options;  // raw, padded to 4 bytes
};

struct Tcp {
  uint16_t sport = 40000, dport = 80;
  uint32_t seq = 1000, ack = 0;
  uint8_t flags = 0x02;
  bool ns = false;
  uint16_t window = 65535;
  uint16_t urgent = 0;
  Buffer options;  // raw option bytes; padded with EOL to a multiple of 4
  Buffer payload;
  int doff_override = -1;  // to build broken headers on purpose
};

struct Udp {
  uint16_t sport = 40000, dport = 53;
  Buffer payload;
  bool zero_checksum = false;
  Buffer surplus;  // after the UDP length, inside the IP length: UDP options (RFC 9868)
};

// A UDP options area (RFC 9868) for a datagram whose UDP length is `udp_length`: a zero
// byte where that length is odd (the option checksum is 2-byte aligned), the option
// checksum (OCS: the Internet checksum of the area from the OCS on, with its length in
// front as a pseudo-header), then `options` (e.g. NOP 1, NOP 1, EOL 0).
Buffer udp_options(uint16_t udp_length, const Buffer& options);

// TCP option encoders (kind, length, value), for `Tcp::options`.
namespace opt {
// Any option of any kind from its fields (tcp_option_fields.hpp): the inverse of
// decode_tcp_option. EOL and NOP are one byte; lengths follow the fields given (an
// MP_CAPABLE with both keys, a DSS whose flags ask for 8-octet numbers...).
Buffer encode(const TcpOptionFields& option);
// Kind, 2 + size, value: for options no field set describes, malformed ones included.
Buffer raw(uint8_t kind, const Buffer& value);
Buffer nop();
Buffer mss(uint16_t v);
Buffer window_scale(uint8_t shift);
Buffer sack_permitted();
Buffer timestamps(uint32_t tsval, uint32_t tsecr);
Buffer fast_open(const Buffer& cookie);                                // kind 34
Buffer experimental(uint8_t kind, uint16_t exid, const Buffer& data);  // RFC 6994
Buffer cat(std::initializer_list<Buffer> parts);
}  // namespace opt

// Whole IP packets (no link header).
Buffer tcp_packet(const Ip& ip, const Tcp& tcp);
Buffer udp_packet(const Ip& ip, const Udp& udp);
// Rewrites a TCP packet built above (IPv4 without options, or IPv6) in place for
// another probe of the same shape: its destination (4 or 16 bytes, network order),
// source port and sequence number, with both checksums made right again. A scanner's
// template: one build, then a few stores and a checksum per probe.
void retarget(std::span<uint8_t> packet, std::span<const uint8_t> dst, uint16_t sport,
              uint32_t seq);
// An ICMP(v6) message of `type`/`code` whose body is `quoted` (e.g. a packet above).
Buffer icmp_packet(const Ip& ip, uint8_t type, uint8_t code, const Buffer& quoted);

// Frames an IP packet for a link type; `vlans` adds 802.1Q tags on Ethernet.
Buffer frame(LinkType link, const Buffer& ip_packet, int vlans = 0);

}  // namespace pspdr::build
