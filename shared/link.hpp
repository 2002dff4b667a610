// Link layers a trace or a live source can carry, and how to find the IP header in each.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "shared/anomaly.hpp"
#include "shared/bytes.hpp"

namespace pspdr {

// Values are pcap LINKTYPE_* numbers, the ones pcap and pcapng files carry.
enum class LinkType : uint16_t {
  null_bsd = 0,      // BSD loopback: 4-byte address family in the capturing host's order
  ethernet = 1,      // with any number of 802.1Q / 802.1ad tags
  raw_bsd12 = 12,    // DLT_RAW as some BSDs number it
  raw_bsd14 = 14,    // DLT_RAW as OpenBSD numbers it
  raw = 101,         // LINKTYPE_RAW: bare IPv4 or IPv6
  loop = 108,        // OpenBSD loopback: address family in network order
  linux_sll = 113,   // Linux cooked capture v1
  ipv4 = 228,        // bare IPv4
  ipv6 = 229,        // bare IPv6
  linux_sll2 = 276,  // Linux cooked capture v2
  unknown = 0xffff,  // a link the dissector cannot read: its frames count as non-IP
};

// Parses a link type number; nullopt if the dissector does not know it.
std::optional<LinkType> link_type_from_number(uint32_t number);
std::string_view link_type_name(LinkType t);

enum class NetProto : uint8_t { other, ipv4, ipv6, ip_any };

struct LinkResult {
  NetProto net = NetProto::other;  // ip_any: version nibble decides (raw links)
  uint32_t offset = 0;             // where the network header starts
  Anomaly anomaly = Anomaly::none;
};

LinkResult dissect_link(LinkType type, Bytes frame);

}  // namespace pspdr
