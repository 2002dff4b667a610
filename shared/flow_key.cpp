#include "shared/flow_key.hpp"

namespace pspdr {
namespace {

bool has_ports(uint8_t proto) {
  return proto == ipproto::tcp || proto == ipproto::udp || proto == ipproto::sctp ||
         proto == ipproto::udplite;
}

// Addresses go in as whole 64-bit words, as symmetric_hash() reads them back: a word
// assembled from narrower stores cannot be forwarded to its load, which then waits.
void put_address(uint8_t* to, const uint8_t* from, uint8_t version) {
  uint64_t w[2] = {0, 0};
  if (version == 4) {
    uint32_t v4;
    std::memcpy(&v4, from, 4);
    w[0] = v4;
  } else {
    std::memcpy(w, from, 16);
  }
  std::memcpy(to, w, 16);
}

void fill(const IpView& ip, FlowKey& k) {
  put_address(k.src, ip.src(), ip.version);
  put_address(k.dst, ip.dst(), ip.version);
  k.sport = k.dport = 0;
  k.version = ip.version;
  k.proto = ip.proto;
  k.pad_[0] = k.pad_[1] = 0;
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

// One end (address and port) in 64 bits, by two independent multiplies; the final mix
// of symmetric_hash() spreads every input bit over the result.
inline uint64_t endpoint(const uint8_t* addr, uint16_t port) {
  uint64_t a, b;
  std::memcpy(&a, addr, 8);
  std::memcpy(&b, addr + 8, 8);
  return a * 0x9e3779b97f4a7c15ULL + (b ^ port) * 0xc2b2ae3d27d4eb4fULL;
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
