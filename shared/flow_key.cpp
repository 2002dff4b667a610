#include "shared/flow_key.hpp"

namespace pspdr {
namespace {

bool has_ports(uint8_t proto) {
  return proto == ipproto::tcp || proto == ipproto::udp || proto == ipproto::sctp ||
         proto == ipproto::udplite;
}

void fill(const IpView& ip, FlowKey& k) {
  k = FlowKey{};
  k.version = ip.version;
  k.proto = ip.proto;
  std::memcpy(k.src, ip.src(), ip.addr_len());
  std::memcpy(k.dst, ip.dst(), ip.addr_len());
  Bytes l4 = ip.l4();
  // Ports come from the first four transport bytes, whatever the header's state.
  if (has_ports(ip.proto) && l4.size >= 4) {
    k.sport = load_be16(l4.data);
    k.dport = load_be16(l4.data + 2);
  }
}

inline uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

inline uint64_t endpoint(const uint8_t* addr, uint16_t port) {
  uint64_t a, b;
  std::memcpy(&a, addr, 8);
  std::memcpy(&b, addr + 8, 8);
  return mix(a ^ mix(b ^ port));
}

}  // namespace

uint64_t FlowKey::symmetric_hash() const {
  // Commutative combination of the two endpoints: both directions hash alike.
  uint64_t a = endpoint(src, sport), b = endpoint(dst, dport);
  return mix((a + b) ^ (a * b) ^ (uint64_t(proto) << 8 | version));
}

bool flow_key_of(const Packet& p, FlowKey& key) {
  if (!p.ip) return false;
  if (p.icmp && p.icmp.quote) {
    fill(p.icmp.quote, key);
    key = key.reversed();
    return true;
  }
  fill(p.ip, key);
  return true;
}

}  // namespace pspdr
