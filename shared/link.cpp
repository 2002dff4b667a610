#include "shared/link.hpp"

namespace pspdr {
namespace {

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86dd;

bool is_vlan_tpid(uint16_t t) {
  return t == 0x8100 || t == 0x88a8 || t == 0x9100 || t == 0x9200;
}

NetProto from_ethertype(uint16_t t) {
  if (t == kEtherIpv4) return NetProto::ipv4;
  if (t == kEtherIpv6) return NetProto::ipv6;
  return NetProto::other;
}

// Address families differ per OS for IPv6 (Linux 10, BSDs 24/28/30).
NetProto from_address_family(uint32_t af) {
  if (af == 2) return NetProto::ipv4;
  if (af == 10 || af == 24 || af == 28 || af == 30) return NetProto::ipv6;
  return NetProto::other;
}

LinkResult ethernet(Bytes f) {
  if (f.size < 14) return {NetProto::other, 0, Anomaly::truncated_link};
  uint32_t off = 12;
  uint16_t type = load_be16(f.data + off);
  while (is_vlan_tpid(type)) {
    off += 4;
    if (f.size < off + 2) return {NetProto::other, 0, Anomaly::truncated_link};
    type = load_be16(f.data + off);
  }
  return {from_ethertype(type), off + 2, Anomaly::none};
}

}  // namespace

std::optional<LinkType> link_type_from_number(uint32_t n) {
  switch (n) {
    case 0:
    case 1:
    case 12:
    case 14:
    case 101:
    case 108:
    case 113:
    case 228:
    case 229:
    case 276:
      return LinkType(n);
    default:
      return std::nullopt;
  }
}

std::string_view link_type_name(LinkType t) {
  switch (t) {
    case LinkType::null_bsd:
      return "BSD loopback";
    case LinkType::ethernet:
      return "Ethernet";
    case LinkType::raw_bsd12:
    case LinkType::raw_bsd14:
    case LinkType::raw:
      return "raw IP";
    case LinkType::loop:
      return "OpenBSD loopback";
    case LinkType::linux_sll:
      return "Linux cooked v1";
    case LinkType::ipv4:
      return "raw IPv4";
    case LinkType::ipv6:
      return "raw IPv6";
    case LinkType::linux_sll2:
      return "Linux cooked v2";
    case LinkType::unknown:
      break;
  }
  return "unknown";
}

LinkResult dissect_link(LinkType type, Bytes f) {
  switch (type) {
    case LinkType::ethernet:
      return ethernet(f);
    case LinkType::raw:
    case LinkType::raw_bsd12:
    case LinkType::raw_bsd14:
      return {NetProto::ip_any, 0, Anomaly::none};
    case LinkType::ipv4:
      return {NetProto::ipv4, 0, Anomaly::none};
    case LinkType::ipv6:
      return {NetProto::ipv6, 0, Anomaly::none};
    case LinkType::null_bsd: {
      if (f.size < 4) return {NetProto::other, 0, Anomaly::truncated_link};
      uint32_t af = load_le32(f.data);
      if (af > 0xffff) af = __builtin_bswap32(af);  // written by a big-endian host
      return {from_address_family(af), 4, Anomaly::none};
    }
    case LinkType::loop:
      if (f.size < 4) return {NetProto::other, 0, Anomaly::truncated_link};
      return {from_address_family(load_be32(f.data)), 4, Anomaly::none};
    case LinkType::linux_sll:
      if (f.size < 16) return {NetProto::other, 0, Anomaly::truncated_link};
      return {from_ethertype(load_be16(f.data + 14)), 16, Anomaly::none};
    case LinkType::linux_sll2:
      if (f.size < 20) return {NetProto::other, 0, Anomaly::truncated_link};
      return {from_ethertype(load_be16(f.data)), 20, Anomaly::none};
    case LinkType::unknown:
      break;
  }
  return {NetProto::other, 0, Anomaly::none};
}

}  // namespace pspdr
