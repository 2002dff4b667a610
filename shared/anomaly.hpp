// What the dissector found wrong with a packet. Packets are never over-read: each
// anomaly stops dissection at the layer where it was found and is counted by callers.
#pragma once

#include <cstdint>
#include <string_view>

namespace pspdr {

enum class Anomaly : uint8_t {
  none = 0,
  truncated_link,        // frame shorter than its link header (or VLAN tag)
  bad_ip_version,        // version nibble does not match the link's protocol
  truncated_ip,          // fewer bytes than the fixed IP header
  bad_ihl,               // IPv4 header length below 20 or beyond the capture
  bad_ip_length,         // IPv4 total length below its header length
  truncated_ext_header,  // IPv6 extension header runs past the capture
  truncated_l4,          // transport header cut short
  bad_tcp_doff,          // TCP data offset below 5 or beyond the capture
  bad_tcp_options,       // option list with a zero/one length or running past the header
  truncated_icmp_quote,  // ICMP error quoting less than an IP header
  count_
};

std::string_view anomaly_name(Anomaly a);

}  // namespace pspdr
