// EvilChain: whether the RFC 3514 evil bit was set on SYNs and on data packets (IPv4).
#pragma once

#include <array>
#include <optional>

#include "chains/chain.hpp"

namespace pspdr {

struct EvilChain {
  static constexpr std::string_view name = "evil";
  static constexpr std::string_view summary = "evil bit on SYNs and on data packets (IPv4)";
  static constexpr std::array fields = {
      FieldDoc{"evilbit_syn_fwd", "bool", "evil bit on the last TCP SYN, forward"},
      FieldDoc{"evilbit_syn_rev", "bool", "evil bit on the last TCP SYN, reverse"},
      FieldDoc{"evilbit_data_fwd", "bool",
               "evil bit on the first non-TCP or payload-carrying TCP packet, forward"},
      FieldDoc{"evilbit_data_rev", "bool", "the same, reverse"},
  };

  struct State {
    std::optional<bool> syn_fwd, syn_rev, data_fwd, data_rev;
  };

  static bool ip(State& s, const Packet& p, bool rev) {
    if (!p.ip.v4()) return true;  // PATHspider's EvilChain has no IPv6 hook
    bool evil = p.ip.evil();
    switch (syn_or_data(p)) {
      case SynOrData::syn:
        (rev ? s.syn_rev : s.syn_fwd) = evil;
        break;
      case SynOrData::data: {
        auto& data = rev ? s.data_rev : s.data_fwd;
        if (!data) data = evil;  // the first one counts
        break;
      }
      case SynOrData::neither:
        break;
    }
    return true;
  }

  static void write(JsonWriter& w, const State& s) {
    w.field("evilbit_syn_fwd", s.syn_fwd);
    w.field("evilbit_syn_rev", s.syn_rev);
    w.field("evilbit_data_fwd", s.data_fwd);
    w.field("evilbit_data_rev", s.data_rev);
  }
};

}  // namespace pspdr
