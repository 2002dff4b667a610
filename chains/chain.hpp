// What a chain is. A chain is a struct with static functions, one per packet class it
// wants to see, exactly PATHspider's chain methods:
//
//   name, summary, fields        registry metadata (--list-chains, docs)
//   State                        the chain's part of a flow record, default-initialised
//   new_flow(State&, pkt)        optional: fill State from the flow's first packet
//   ip(State&, pkt, rev)         optional: every IPv4/IPv6 packet   -> keep flow?
//   icmp(State&, pkt, rev)       optional: ICMP and ICMPv6 packets  -> keep flow?
//   tcp(State&, pkt, rev)        optional: TCP segments             -> keep flow?
//   udp(State&, pkt, rev)        optional: UDP datagrams            -> keep flow?
//   write(JsonWriter&, State)    the chain's fields of the flow record
//   syn_only_state = true        optional: State changes on SYNs only, so flow records
//                                keep it off the cache lines every packet touches
//
// A hook returning false completes the flow (PATHspider's return semantics). Chains are
// resolved at compile time through chains/registry.hpp, so calls inline: no virtual
// dispatch per packet.
#pragma once

#include <string_view>

#include "shared/json_writer.hpp"
#include "shared/packet.hpp"

namespace pspdr {

struct FieldDoc {
  std::string_view name;
  std::string_view type;
  std::string_view meaning;
};

enum class Hook { ip, icmp, tcp, udp };

template <class C>
concept HasNewFlow = requires(typename C::State& s, const Packet& p) {
  C::new_flow(s, p);
};

template <class C>
concept HasSynOnlyState = C::syn_only_state;

template <class C, Hook H>
concept HasHook = requires(typename C::State& s, const Packet& p) {
  requires(H != Hook::ip || requires {
    { C::ip(s, p, true) } -> std::same_as<bool>;
  });
  requires(H != Hook::icmp || requires {
    { C::icmp(s, p, true) } -> std::same_as<bool>;
  });
  requires(H != Hook::tcp || requires {
    { C::tcp(s, p, true) } -> std::same_as<bool>;
  });
  requires(H != Hook::udp || requires {
    { C::udp(s, p, true) } -> std::same_as<bool>;
  });
};

// How the DSCP and evil-bit chains sort packets: TCP SYNs, "data" (non-TCP packets and
// TCP segments with captured payload), and bare TCP segments, which they ignore.
enum class SynOrData { syn, data, neither };
inline SynOrData syn_or_data(const Packet& p) {
  if (!p.tcp) return SynOrData::data;
  if (p.tcp.syn()) return SynOrData::syn;
  return p.tcp.has_payload() ? SynOrData::data : SynOrData::neither;
}

// Direction suffixes used by every chain's field names.
inline std::string_view dir(bool rev) {
  return rev ? "rev" : "fwd";
}

}  // namespace pspdr
