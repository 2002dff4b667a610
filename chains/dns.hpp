// DNSChain: a valid DNS response seen in the reverse direction, over UDP or TCP; the
// flow completes when one is.
#pragma once

#include <array>

#include "chains/chain.hpp"
#include "shared/dns.hpp"

namespace pspdr {

struct DnsChain {
  static constexpr std::string_view name = "dns";
  static constexpr std::string_view summary = "valid DNS response seen (UDP or TCP)";
  static constexpr std::array fields = {
      FieldDoc{"dns_response_valid", "bool", "a well-formed DNS response came back"},
  };

  struct State {
    bool response_valid = false;
  };

  static bool udp(State& s, const Packet& p, bool rev) {
    return check(s, rev, [&](DnsHeader& h) { return parse_dns_message(p.udp.payload(), &h); });
  }

  static bool tcp(State& s, const Packet& p, bool rev) {
    if (!p.tcp.has_payload()) return true;
    return check(s, rev, [&](DnsHeader& h) { return parse_dns_over_tcp(p.tcp.payload(), &h); });
  }

  static void write(JsonWriter& w, const State& s) {
    w.field("dns_response_valid", s.response_valid);
  }

 private:
  template <class Parse>
  static bool check(State& s, bool rev, Parse parse) {
    DnsHeader h;
    if (rev && parse(h) && h.response) s.response_valid = true;
    return !s.response_valid;
  }
};

}  // namespace pspdr
