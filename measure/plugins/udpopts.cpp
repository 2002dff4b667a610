// udpopts: the UDP Options Trailer PATHspider's manual lists but never shipped. A is a
// plain DNS query over UDP, B the same query with a UDP options area (RFC 9868) in the
// surplus after the UDP length: does the path carry a datagram whose IP length exceeds
// its UDP length, and does the reply come back with options of its own?
#include "measure/plugin.hpp"

namespace pspdr {

// The bytes after the UDP length, inside the IP length, each way: the options area.
struct UdpSurplusChain {
  static constexpr std::string_view name = "udp_surplus";
  static constexpr std::string_view summary = "UDP options areas (RFC 9868), per direction";
  static constexpr std::array fields = {
      FieldDoc{"udp_surplus_fwd", "int",
               "bytes after the UDP length of the first datagram, forward"},
      FieldDoc{"udp_surplus_rev", "int", "the same, reverse"},
  };
  struct State {
    std::optional<uint32_t> fwd, rev;
  };
  // An IP hook, though it reads UDP: IP hooks run before every UDP hook, and the DNS
  // chain's ends the flow at the reply (PATHspider's rule), before a UDP hook here would.
  static bool ip(State& s, const Packet& p, bool rev) {
    if (!p.udp) return true;
    auto& surplus = rev ? s.rev : s.fwd;
    uint32_t ip_payload = p.ip.length() > p.ip.hdr_len ? p.ip.length() - p.ip.hdr_len : 0;
    if (!surplus) surplus = ip_payload > p.udp.length() ? ip_payload - p.udp.length() : 0;
    return true;
  }
  static void write(JsonWriter& w, const State& s) {
    w.field("udp_surplus_fwd", s.fwd);
    w.field("udp_surplus_rev", s.rev);
  }
};

namespace {

std::vector<Configuration> configurations(const PluginOptions&) {
  return {
      {nullptr, {}},
      {[](ConnectionRequest& req, const PluginOptions&, size_t) { req.udp_options = true; }, {}}};
}

std::vector<std::string> combine(std::span<const Outcome> o, const PluginOptions&) {
  for (const Outcome& f : o)
    if (!f.observed()) return {"pathspider.not_observed"};
  bool b = o[1].chain<DnsChain>().response_valid;
  std::vector<std::string> c{connectivity("udpopts", o[0].chain<DnsChain>().response_valid, b)};
  if (b) {
    bool options = o[1].chain<UdpSurplusChain>().rev.value_or(0) > 0;
    c.push_back(std::string("udpopts.reply.options.") + (options ? "seen" : "not_seen"));
  }
  return c;
}

}  // namespace

extern const Plugin udpopts_plugin{
    .name = "udpopts",
    .description = "UDP Options Trailer (RFC 9868)",
    .model = SpiderModel::forge,
    .chains = ChainSet::of<BasicChain, DnsChain>().with_loaded<UdpSurplusChain>(),
    .modes = {ConnectMode::dnsudp},
    .configurations = configurations,
    .combine = combine,
    .locate = locate_as_configured,
};

}  // namespace pspdr
