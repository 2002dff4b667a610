#include "shared/dns.hpp"

namespace pspdr {
namespace {

constexpr uint32_t kMaxNameLength = 255;
constexpr int kMaxPointers = 64;  // bounds the work a compression loop can cause

// Skips the name at `pos`; returns the offset after it (after the first pointer when
// compressed), or 0 if the name is malformed.
uint32_t skip_name(Bytes msg, uint32_t pos) {
  uint32_t after = 0;  // where parsing continues once the first pointer is followed
  uint32_t length = 1;
  int pointers = 0;
  for (;;) {
    if (pos >= msg.size) return 0;
    uint8_t len = msg[pos];
    if ((len & 0xc0) == 0xc0) {
      if (pos + 1 >= msg.size || ++pointers > kMaxPointers) return 0;
      uint32_t target = uint32_t(len & 0x3f) << 8 | msg[pos + 1];
      if (target >= msg.size) return 0;
      if (after == 0) after = pos + 2;
      pos = target;
      continue;
    }
    if (len & 0xc0) return 0;  // extended label types are not valid on the wire
    if (len == 0) return after ? after : pos + 1;
    length += len + 1u;
    if (length > kMaxNameLength) return 0;
    pos += len + 1u;
  }
}

}  // namespace

bool parse_dns_message(Bytes msg, DnsHeader* out) {
  if (msg.size < 12) return false;
  DnsHeader h;
  h.id = load_be16(msg.data);
  h.response = (msg[2] & 0x80) != 0;
  h.opcode = (msg[2] >> 3) & 0x0f;
  h.rcode = msg[3] & 0x0f;
  h.qdcount = load_be16(msg.data + 4);
  h.ancount = load_be16(msg.data + 6);
  h.nscount = load_be16(msg.data + 8);
  h.arcount = load_be16(msg.data + 10);
  uint32_t pos = 12;
  for (uint32_t i = 0; i < h.qdcount; ++i) {
    pos = skip_name(msg, pos);
    if (pos == 0 || pos + 4 > msg.size) return false;
    pos += 4;  // QTYPE, QCLASS
  }
  uint32_t records = uint32_t(h.ancount) + h.nscount + h.arcount;
  for (uint32_t i = 0; i < records; ++i) {
    pos = skip_name(msg, pos);
    if (pos == 0 || pos + 10 > msg.size) return false;
    uint32_t rdlength = load_be16(msg.data + pos + 8);
    pos += 10;
    if (pos + rdlength > msg.size) return false;
    pos += rdlength;
  }
  if (out) *out = h;
  return true;
}

bool parse_dns_over_tcp(Bytes segment, DnsHeader* out) {
  if (segment.size < 2) return false;
  uint32_t length = load_be16(segment.data);
  if (length + 2u > segment.size) return false;
  return parse_dns_message(segment.sub(2, length), out);
}

}  // namespace pspdr
