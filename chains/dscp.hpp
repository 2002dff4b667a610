// DSCPChain: the DiffServ codepoint seen on SYNs and on data packets, per direction.
#pragma once

#include <array>
#include <optional>

#include "chains/chain.hpp"

namespace pspdr {

struct DscpChain {
  static constexpr std::string_view name = "dscp";
  static constexpr std::string_view summary = "DSCP on SYNs and on data packets";
  static constexpr std::array fields = {
      FieldDoc{"dscp_mark_syn_fwd", "int", "DSCP of the last TCP SYN, forward"},
      FieldDoc{"dscp_mark_syn_rev", "int", "DSCP of the last TCP SYN, reverse"},
      FieldDoc{"dscp_mark_data_fwd", "int",
               "first non-zero DSCP on a non-TCP or payload-carrying TCP packet, forward"},
      FieldDoc{"dscp_mark_data_rev", "int", "the same, reverse"},
  };

  struct State {
    std::optional<uint8_t> syn_fwd, syn_rev, data_fwd, data_rev;
  };

  static bool ip(State& s, const Packet& p, bool rev) {
    uint8_t dscp = p.ip.traffic_class() >> 2;
    switch (syn_or_data(p)) {
      case SynOrData::syn:
        (rev ? s.syn_rev : s.syn_fwd) = dscp;
        break;
      case SynOrData::data: {
        // PATHspider: rec[key] = rec[key] or dscp -- keeps the first non-zero mark.
        auto& data = rev ? s.data_rev : s.data_fwd;
        if (!data || *data == 0) data = dscp;
        break;
      }
      case SynOrData::neither:
        break;
    }
    return true;
  }

  static void write(JsonWriter& w, const State& s) {
    w.field("dscp_mark_syn_fwd", s.syn_fwd);
    w.field("dscp_mark_syn_rev", s.syn_rev);
    w.field("dscp_mark_data_fwd", s.data_fwd);
    w.field("dscp_mark_data_rev", s.data_rev);
  }
};

}  // namespace pspdr
