// ecn: Explicit Congestion Notification. The kernel negotiates ECN when
// net.ipv4.tcp_ecn=1 (A runs with 2: only answer it), so the configurations are
// system-wide and the spider is synchronized. Both switch tcp_ecn_fallback off: a stock
// kernel retries a lost ECN-setup SYN without ECN, and a path that drops such SYNs
// would pass for one that works (the configurator restores it, as tcp_ecn). With
// --connect tcpsyn the forge sets ECE|CWR on B's SYN itself: no sysctl, no rounds.
#include "measure/plugin.hpp"

namespace pspdr {
namespace {

std::vector<Configuration> configurations(const PluginOptions& opts) {
  if (opts.connect == ConnectMode::tcpsyn)
    return {
        {nullptr, {}},
        {[](ConnectionRequest& req, const PluginOptions&, size_t) { req.ecn_setup = true; }, {}}};
  return {{nullptr, {{"net.ipv4.tcp_ecn", "2"}, {"net.ipv4.tcp_ecn_fallback", "0"}}},
          {nullptr, {{"net.ipv4.tcp_ecn", "1"}, {"net.ipv4.tcp_ecn_fallback", "0"}}}};
}

std::vector<std::string> combine(std::span<const Outcome> o, const PluginOptions& opts) {
  std::vector<std::string> c{
      connectivity("ecn", o[0].answered(opts.connect), o[1].answered(opts.connect))};
  for (const Outcome& f : o)
    if (!f.observed()) {
      c.push_back("pathspider.not_observed");
      break;
    }
  const Outcome& b = o[1];
  if (b.observed() && b.handshake(opts.connect)) {
    int flags = b.chain<TcpChain>().synflags_rev.value_or(0) & tcp_flags::saec;
    c.push_back(flags == tcp_flags::sae    ? "ecn.negotiation.succeeded"
                : flags == tcp_flags::saec ? "ecn.negotiation.reflected"
                                           : "ecn.negotiation.failed");
    const EcnChain::State& ecn = b.chain<EcnChain>();
    for (auto [mark, name] : {std::pair{EcnChain::ect0, "ect0"}, std::pair{EcnChain::ect1, "ect1"},
                              std::pair{EcnChain::ce, "ce"}}) {
      bool seen = EcnChain::seen(ecn, true, true, mark) || EcnChain::seen(ecn, true, false, mark);
      c.push_back("ecn.ipmark." + std::string(name) + (seen ? ".seen" : ".not_seen"));
    }
  }
  return c;
}

// --locate: B's SYN carries ECT(0), as tracebox's ECN probe does, so that a path clearing
// or setting the mark shows in the quotes; A's plain SYN is the control.
void locate(ConnectionRequest& probe, size_t config) {
  if (config) probe.tos |= 2;
}

}  // namespace

extern const Plugin ecn_plugin{
    .name = "ecn",
    .description = "Explicit Congestion Notification",
    .model = SpiderModel::synchronized,
    .chains = ChainSet::of<BasicChain, TcpChain, EcnChain>().with_loaded<SynReplyChain>(),
    .modes = {ConnectMode::http, ConnectMode::https, ConnectMode::tcp, ConnectMode::dnstcp,
              ConnectMode::tcpsyn},
    .configurations = configurations,
    .combine = combine,
    .locate = locate,
};

}  // namespace pspdr
