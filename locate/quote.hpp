// What a hop's ICMP quote shows of the probe whose TTL expired there: which header
// fields it quoted, and which of them differ from the probe as it left. Routers may cut
// their quote after 8 bytes of the transport header (RFC 792): what lies beyond is not
// seen, which is not the same as unchanged.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shared/bytes.hpp"

namespace pspdr {

// The header fields compared; bits of QuoteReading's masks.
enum class QuotedField : uint8_t {
  ecn,           // the ECN field: ECT(0), ECT(1), CE
  dscp,          // the DSCP
  reserved_bit,  // the IPv4 reserved flag (the evil bit)
  address,       // source or destination address (a NAT)
  port,          // source or destination port (a NAT)
  tcp_flags,     // TCP flags (ECE, CWR...)
  tcp_options,   // TCP options: which, per kind, in QuoteReading::options_changed
  udp_length,    // UDP length field
  udp_checksum,  // UDP checksum field (0: none)
};
constexpr unsigned kQuotedFields = 9;

struct QuoteReading {
  uint16_t visible = 0;                  // fields the quote holds
  uint16_t changed = 0;                  // fields that differ from the probe as sent
  std::vector<uint8_t> options_changed;  // option kinds sent or quoted that differ

  static constexpr uint16_t bit(QuotedField f) { return uint16_t(1u << unsigned(f)); }
  bool shows(QuotedField f) const { return visible & bit(f); }
  bool differs(QuotedField f) const { return changed & bit(f); }
  // Whether the quote holds the probe's whole transport header.
  bool whole = false;
};

// `sent` and `quote`: IP packets, the probe as captured leaving and the packet the
// router quoted (as long as it quoted it). A TTL, an IPv4 header checksum and a TCP
// checksum change on every path and are not compared.
QuoteReading read_quote(Bytes sent, Bytes quote);

// A TCP option kind's name in conditions: mss, wscale, sackok, ts, fastopen, exp (RFC
// 6994's 254), kind<N> for the rest.
std::string option_name(uint8_t kind);

}  // namespace pspdr
