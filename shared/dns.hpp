// DNS message validity (RFC 1035 wire format): header, question and resource-record
// sections must parse completely, name compression included. This is the check
// PATHspider's DNS chain makes with ldns before calling a response valid.
#pragma once

#include <cstdint>

#include "shared/bytes.hpp"

namespace pspdr {

struct DnsHeader {
  uint16_t id = 0;
  bool response = false;  // QR bit
  uint8_t opcode = 0;
  uint8_t rcode = 0;
  uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;
};

// True when `msg` is a well-formed DNS message; fills `hdr` when given.
bool parse_dns_message(Bytes msg, DnsHeader* hdr = nullptr);

// DNS over TCP: a 2-byte length prefix, then the message (RFC 1035 section 4.2.2).
bool parse_dns_over_tcp(Bytes segment, DnsHeader* hdr = nullptr);

}  // namespace pspdr
