// evilbit: the reserved IPv4 flag of RFC 3514, set on forged packets (IPv6 has no
// such bit: its B packets equal A).
#include "measure/plugin.hpp"

namespace pspdr {
namespace {

std::vector<Configuration> configurations(const PluginOptions&) {
  return {{nullptr, {}},
          {[](ConnectionRequest& req, const PluginOptions&, size_t) { req.evil = true; }, {}}};
}

std::vector<std::string> combine(std::span<const Outcome> o, const PluginOptions& opts) {
  for (const Outcome& f : o)
    if (!f.observed()) return {"pathspider.not_observed"};
  bool syn = opts.connect == ConnectMode::tcpsyn;
  auto connected = [&](const Outcome& f) {
    return syn ? f.answered(opts.connect) : f.chain<DnsChain>().response_valid;
  };
  bool a = connected(o[0]), b = connected(o[1]);
  std::vector<std::string> c{connectivity("evilbit", a, b)};
  if (a && b) {  // only with works, as PATHspider
    const EvilChain::State& evil = o[1].chain<EvilChain>();
    c.push_back((syn ? evil.syn_rev : evil.data_rev).value_or(false) ? "evilbit.mark.seen"
                                                                     : "evilbit.mark.not_seen");
  }
  return c;
}

}  // namespace

extern const Plugin evilbit_plugin{
    .name = "evilbit",
    .description = "Evil bit connectivity testing",
    .model = SpiderModel::forge,
    .chains =
        ChainSet::of<BasicChain, DnsChain, TcpChain, EvilChain>().with_loaded<SynReplyChain>(),
    .modes = {ConnectMode::tcpsyn, ConnectMode::dnsudp},
    .configurations = configurations,
    .combine = combine,
    .locate = locate_as_configured,
};

}  // namespace pspdr
