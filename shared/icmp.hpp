// ICMPv4 and ICMPv6 header view, with the quoted packet of error messages.
#pragma once

#include <cstdint>

#include "shared/bytes.hpp"
#include "shared/ip.hpp"

namespace pspdr {

namespace icmptype {
// ICMPv4
constexpr uint8_t v4_echo_reply = 0, v4_unreachable = 3, v4_source_quench = 4, v4_redirect = 5,
                  v4_echo = 8, v4_time_exceeded = 11, v4_parameter_problem = 12;
// ICMPv6
constexpr uint8_t v6_unreachable = 1, v6_packet_too_big = 2, v6_time_exceeded = 3,
                  v6_parameter_problem = 4, v6_echo = 128, v6_echo_reply = 129;
}  // namespace icmptype

struct IcmpView {
  const uint8_t* hdr = nullptr;
  uint32_t caplen = 0;  // captured bytes from hdr to the end of the frame
  uint8_t version = 0;  // 4: ICMPv4, 6: ICMPv6
  IpView quote;         // the packet an error message quotes, when present and readable

  explicit operator bool() const { return hdr != nullptr; }
  uint8_t type() const { return hdr[0]; }
  uint8_t code() const { return hdr[1]; }
  uint16_t checksum() const { return load_be16(hdr + 2); }
  uint32_t rest_of_header() const { return load_be32(hdr + 4); }
  Bytes body() const { return Bytes{hdr + 8, caplen - 8}; }
  // Message types that quote the offending packet (PATHspider's icmp_with_payload).
  bool is_error() const {
    return version == 4 ? (type() >= 3 && type() <= 5) || type() == 11 || type() == 12
                        : type() >= 1 && type() <= 4;
  }
};

}  // namespace pspdr
