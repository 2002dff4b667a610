// Flow keys as PATHspider forms them: addresses, protocol and, for TCP, UDP, SCTP and
// UDP-Lite, the ports; a 3-tuple otherwise. ICMP errors are keyed by the packet they
// quote, reversed, so they land in the flow that packet belongs to.
#pragma once

#include <cstdint>
#include <cstring>

#include "shared/packet.hpp"

namespace pspdr {

struct FlowKey {
  uint8_t src[16] = {};
  uint8_t dst[16] = {};
  uint16_t sport = 0;
  uint16_t dport = 0;
  uint8_t proto = 0;
  uint8_t version = 0;  // 4 or 6
  uint8_t pad_[2] = {};

  bool operator==(const FlowKey& o) const { return std::memcmp(this, &o, sizeof(*this)) == 0; }
  // True when `o` is this key seen from the other end (no reversed copy is built).
  bool is_reverse_of(const FlowKey& o) const {
    return sport == o.dport && dport == o.sport && proto == o.proto && version == o.version &&
           std::memcmp(src, o.dst, 16) == 0 && std::memcmp(dst, o.src, 16) == 0;
  }
  // Both ends alike: PATHspider then counts every packet as reverse.
  bool is_own_reverse() const { return sport == dport && std::memcmp(src, dst, 16) == 0; }
  FlowKey reversed() const {
    FlowKey r = *this;
    std::memcpy(r.src, dst, 16);
    std::memcpy(r.dst, src, 16);
    r.sport = dport;
    r.dport = sport;
    return r;
  }
  // A hash both directions of a flow share, so either can find the flow (and, later,
  // so a symmetric RSS or software spread sends both to one core).
  uint64_t symmetric_hash() const;
};
static_assert(sizeof(FlowKey) == 40);

// Builds the key for a dissected IP packet. Returns false if the packet has no IP header.
bool flow_key_of(const Packet& p, FlowKey& key);

}  // namespace pspdr
