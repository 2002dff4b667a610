// DNS queries in wire format (RFC 1035): what the generators send for the dnsudp and
// dnstcp connection modes and the forge for its DNS probes.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace pspdr {

// A standard query with recursion desired for `name` (dotted, a trailing dot allowed)
// of type `qtype` (1 = A). Empty if the name is not a valid DNS name (empty label,
// label over 63 bytes, name over 253).
std::vector<uint8_t> build_dns_query(uint16_t id, std::string_view name, uint16_t qtype = 1);

// The id of a DNS message, if it is at least a header long and is a response.
bool dns_response_id(const uint8_t* data, size_t len, uint16_t& id);

}  // namespace pspdr
