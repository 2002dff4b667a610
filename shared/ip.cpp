#include "shared/ip.hpp"

namespace pspdr {
namespace {

Anomaly ipv4(Bytes b, IpView& ip) {
  if (b.size < 20) return Anomaly::truncated_ip;
  if ((b[0] >> 4) != 4) return Anomaly::bad_ip_version;
  uint16_t ihl = uint16_t((b[0] & 0x0f) * 4);
  if (ihl < 20 || ihl > b.size) return Anomaly::bad_ihl;
  ip.hdr = b.data;
  ip.caplen = b.size;
  ip.version = 4;
  ip.hdr_len = ihl;
  ip.length_ = load_be16(b.data + 2);
  ip.proto = b[9];
  uint16_t frag = load_be16(b.data + 6);
  uint16_t offset = frag & 0x1fff;
  ip.fragment = offset != 0 || (frag & 0x2000) != 0;
  ip.has_l4 = offset == 0;  // only the first fragment carries the transport header
  return ip.length_ < ihl ? Anomaly::bad_ip_length : Anomaly::none;
}

Anomaly ipv6(Bytes b, IpView& ip) {
  if (b.size < 40) return Anomaly::truncated_ip;
  if ((b[0] >> 4) != 6) return Anomaly::bad_ip_version;
  ip.hdr = b.data;
  ip.caplen = b.size;
  ip.version = 6;
  ip.length_ = load_be16(b.data + 4) + 40u;
  uint8_t next = b[6];
  uint32_t off = 40;
  ip.has_l4 = true;
  // Walk the extension headers chains look through: hop-by-hop, routing, fragment,
  // destination options, authentication.
  for (;;) {
    if (next == ipproto::hopopts || next == ipproto::routing || next == ipproto::dstopts ||
        next == ipproto::ah || next == ipproto::fragment) {
      if (off + 8 > b.size) {
        ip.proto = next;
        ip.hdr_len = off;
        ip.has_l4 = false;
        return Anomaly::truncated_ext_header;
      }
      uint8_t following = b[off];
      uint32_t len;
      if (next == ipproto::fragment) {
        len = 8;
        ip.fragment = true;
        if ((load_be16(b.data + off + 2) & 0xfff8) != 0) ip.has_l4 = false;
      } else if (next == ipproto::ah) {
        len = (uint32_t(b[off + 1]) + 2) * 4;
      } else {
        len = (uint32_t(b[off + 1]) + 1) * 8;
      }
      if (off + len > b.size) {
        ip.proto = next;
        ip.hdr_len = off;
        ip.has_l4 = false;
        return Anomaly::truncated_ext_header;
      }
      off += len;
      next = following;
      continue;
    }
    break;
  }
  ip.proto = next;
  ip.hdr_len = off;
  if (next == ipproto::none) ip.has_l4 = false;
  return Anomaly::none;
}

}  // namespace

Anomaly dissect_ip(Bytes b, uint8_t version, IpView& out) {
  out = IpView{};
  if (version == 0) {
    if (b.size < 1) return Anomaly::truncated_ip;
    version = b[0] >> 4;
  }
  IpView ip;
  Anomaly a = version == 4 ? ipv4(b, ip) : version == 6 ? ipv6(b, ip) : Anomaly::bad_ip_version;
  if (ip.hdr) out = ip;
  return a;
}

}  // namespace pspdr
