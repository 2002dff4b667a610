// dscp: Differentiated Services codepoints. PATHspider marks with an iptables rule for
// the whole system; here each connection's socket carries the mark (IP_TOS /
// IPV6_TCLASS), so A and B need not take turns. With several codepoints an A comes
// before every B ([A, B1, A, B2, ...], PATHspider 2.0's revalidation of the path), and
// each B is judged against the A just before it.
#include <algorithm>

#include "measure/plugin.hpp"

namespace pspdr {
namespace {

void mark(ConnectionRequest& req, const PluginOptions& opts, size_t config) {
  req.tos = config == 0 ? 0 : uint8_t(opts.codepoints[config - 1] << 2);
}

std::vector<Configuration> configurations(const PluginOptions& opts) {
  std::vector<Configuration> c;
  for (size_t b = 1; b <= opts.codepoints.size(); ++b) {
    c.push_back(Configuration{mark, {}, 0});
    c.push_back(Configuration{mark, {}, int(b)});
  }
  return c;
}

// Whether the target answered (the manual gives a reply mark only to those): a SYN-ACK
// over TCP, a DNS response over UDP. A router's ICMP error is no answer, though its own
// mark (CS6 on Linux) lands in the reverse data mark.
std::optional<uint8_t> replymark(const Outcome& f, ConnectMode mode) {
  const DscpChain::State& d = f.chain<DscpChain>();
  if (mode == ConnectMode::dnsudp)
    return f.chain<DnsChain>().response_valid ? d.data_rev : std::nullopt;
  bool answered =
      mode == ConnectMode::tcpsyn
          ? f.answered(mode)
          : (f.chain<TcpChain>().synflags_rev.value_or(0) & tcp_flags::sa) == tcp_flags::sa;
  return answered ? d.syn_rev : std::nullopt;
}

// As the manual has them (not 2.0.1's code, which names a connection by Python's `0 or
// None` of its marks): dscp.X is the codepoint the connection set; every connection the
// target answered has its reply mark, 0 (a bleached path) included.
std::vector<std::string> combine(std::span<const Outcome> o, const PluginOptions& opts) {
  for (const Outcome& f : o)
    if (!f.observed()) return {"pathspider.not_observed"};
  auto name = [&](size_t i) {
    return "dscp." + std::to_string(i % 2 ? opts.codepoints[i / 2] : 0);
  };
  std::vector<std::string> c;
  for (size_t i = 1; i < o.size(); i += 2)
    c.push_back(
        connectivity(name(i), o[i - 1].answered(opts.connect), o[i].answered(opts.connect)));
  for (size_t i = 0; i < o.size(); ++i) {
    auto m = replymark(o[i], opts.connect);
    std::string cond = name(i) + ".replymark:" + std::to_string(m.value_or(0));
    if (m && std::find(c.begin(), c.end(), cond) == c.end()) c.push_back(cond);
  }
  return c;
}

}  // namespace

extern const Plugin dscp_plugin{
    .name = "dscp",
    .description = "Differentiated Services Codepoints",
    .model = SpiderModel::desynchronized,
    .chains =
        ChainSet::of<BasicChain, DscpChain, TcpChain, DnsChain>().with_loaded<SynReplyChain>(),
    .modes = {ConnectMode::http, ConnectMode::tcp, ConnectMode::dnstcp, ConnectMode::dnsudp,
              ConnectMode::tcpsyn},
    .takes_codepoints = true,
    .configurations = configurations,
    .combine = combine,
    .locate = locate_as_configured,
};

}  // namespace pspdr
