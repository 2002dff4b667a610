// libFuzzer: the DNS validity check of the dns chain (RFC 1035 wire format, name
// compression included), over UDP and over TCP.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "shared/dns.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> msg(data, data + size);
  pspdr::Bytes bytes{msg.data(), uint32_t(msg.size())};
  pspdr::DnsHeader header;
  pspdr::parse_dns_message(bytes, &header);
  pspdr::parse_dns_over_tcp(bytes, &header);
  return 0;
}
