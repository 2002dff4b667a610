// IPv4 and IPv6 header views. One view type serves both versions because every chain
// asks the same questions of either (addresses, traffic class, size, transport).
#pragma once

#include <cstdint>

#include "shared/anomaly.hpp"
#include "shared/bytes.hpp"

namespace pspdr {

namespace ipproto {
constexpr uint8_t hopopts = 0, icmp = 1, tcp = 6, udp = 17, routing = 43, fragment = 44, ah = 51,
                  icmpv6 = 58, none = 59, dstopts = 60, sctp = 132, udplite = 136;
}

struct IpView {
  const uint8_t* hdr = nullptr;  // null: no IP header
  uint32_t caplen = 0;           // captured bytes from hdr to the end of the frame
  uint32_t hdr_len = 0;          // offset of the transport header (IPv6: after extensions)
  uint32_t length_ = 0;          // IPv4 total length; IPv6 payload length + 40
  uint8_t version = 0;
  uint8_t proto = 0;      // transport protocol, after IPv6 extension headers
  bool has_l4 = false;    // false for non-first fragments and "no next header"
  bool fragment = false;  // any fragment (first or not)

  explicit operator bool() const { return hdr != nullptr; }
  bool v4() const { return version == 4; }
  uint8_t addr_len() const { return version == 4 ? 4 : 16; }
  const uint8_t* src() const { return hdr + (version == 4 ? 12 : 8); }
  const uint8_t* dst() const { return hdr + (version == 4 ? 16 : 24); }
  // IPv4 TOS byte or IPv6 traffic class: DSCP in the top six bits, ECN in the low two.
  uint8_t traffic_class() const { return version == 4 ? hdr[1] : uint8_t(load_be16(hdr) >> 4); }
  uint8_t ttl() const { return version == 4 ? hdr[8] : hdr[7]; }
  // The length the header claims: IPv4 total length, IPv6 payload length + 40.
  uint32_t length() const { return length_; }
  // PATHspider's ip.size (its octet counts): what libtrace captured from the IP header
  // on -- link padding included, snap-length cuts excluded -- not the length field.
  uint32_t size() const { return caplen; }
  // RFC 3514 "evil" bit: the reserved IPv4 flag. IPv6 has none.
  bool evil() const { return version == 4 && (hdr[6] & 0x80) != 0; }
  bool dont_fragment() const { return version == 4 && (hdr[6] & 0x40) != 0; }
  uint16_t ipv4_id() const { return load_be16(hdr + 4); }
  uint32_t flow_label() const { return version == 6 ? load_be32(hdr) & 0xfffff : 0; }
  // Transport bytes as captured, up to the end of the frame (link padding included,
  // as libtrace and therefore PATHspider see them).
  Bytes l4() const { return has_l4 ? Bytes{hdr + hdr_len, caplen - hdr_len} : Bytes{}; }
};

// Dissects an IP header of the given version (0: take it from the first nibble).
// On success returns Anomaly::none and fills `out`; a header that cannot be read leaves
// `out` empty. A readable header with a problem further in (e.g. a truncated extension
// header) is returned with has_l4 = false and the anomaly.
Anomaly dissect_ip(Bytes b, uint8_t version, IpView& out);

}  // namespace pspdr
