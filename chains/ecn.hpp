// ECNChain: which ECN codepoints (ECT(0), ECT(1), CE) were seen on SYNs and on other
// packets, in each direction.
#pragma once

#include <array>
#include <cstdint>

#include "chains/chain.hpp"

namespace pspdr {

struct EcnChain {
  static constexpr std::string_view name = "ecn";
  static constexpr std::string_view summary = "ECT(0)/ECT(1)/CE marks on SYN and data packets";
  static constexpr std::array fields = {
      FieldDoc{"ecn_{ect0,ect1,ce}_syn_{fwd,rev}", "bool", "mark seen on a TCP SYN"},
      FieldDoc{"ecn_{ect0,ect1,ce}_data_{fwd,rev}", "bool",
               "mark seen on a non-SYN TCP packet or a non-TCP packet"},
  };

  // One bit per (direction, packet class, mark), in PATHspider's field order.
  struct State {
    uint16_t seen = 0;
  };

  static constexpr int bit(bool rev, bool syn, int mark) {
    return (rev ? 6 : 0) + (syn ? 0 : 3) + mark;
  }

  enum Mark { ect0, ect1, ce };
  // Whether `mark` was seen on packets of that direction and class.
  static bool seen(const State& s, bool rev, bool syn, Mark mark) {
    return (s.seen >> bit(rev, syn, mark)) & 1;
  }

  static bool ip(State& s, const Packet& p, bool rev) {
    // ECN field: 01 ECT(1), 10 ECT(0), 11 CE; marks 0..2 index ect0, ect1, ce.
    static constexpr int mark_of[4] = {-1, 1, 0, 2};
    int mark = mark_of[p.ip.traffic_class() & 3];
    if (mark < 0) return true;
    bool syn = p.tcp && p.tcp.syn();
    s.seen |= uint16_t(1u << bit(rev, syn, mark));
    return true;
  }

  static void write(JsonWriter& w, const State& s) {
    static constexpr std::string_view names[12] = {
        "ecn_ect0_syn_fwd",  "ecn_ect1_syn_fwd",  "ecn_ce_syn_fwd",    "ecn_ect0_data_fwd",
        "ecn_ect1_data_fwd", "ecn_ce_data_fwd",   "ecn_ect0_syn_rev",  "ecn_ect1_syn_rev",
        "ecn_ce_syn_rev",    "ecn_ect0_data_rev", "ecn_ect1_data_rev", "ecn_ce_data_rev"};
    for (int i = 0; i < 12; ++i) w.field(names[i], bool((s.seen >> i) & 1));
  }
};

}  // namespace pspdr
