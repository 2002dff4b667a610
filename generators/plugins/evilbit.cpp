// evilbit: the reserved IPv4 flag of RFC 3514, set on forged packets (IPv6 has no
// such bit: its B packets equal A).
#include "generators/plugins/plugins.hpp"

namespace pspdr {
namespace {

std::vector<Configuration> configurations(const PluginOptions&) {
  return {{nullptr, {}},
          {[](ConnectionRequest& req, const PluginOptions&, size_t) { req.evil = true; }, {}}};
}

std::vector<std::string> combine(std::span<const Outcome> o, const PluginOptions& opts) {
  for (const Outcome& f : o)
    if (!f.observed) return {"pathspider.not_observed"};
  bool syn = opts.connect == ConnectMode::tcpsyn;
  auto connected = [&](const FlowFields& f) {
    if (!syn) return f.flag("dns_response_valid");
    auto flags = f.get("tcp_synflags_rev");
    return flags && (*flags & tcp_flags::sa) == tcp_flags::sa;
  };
  bool b = connected(o[1].flow);
  std::vector<std::string> c{connectivity("evilbit", connected(o[0].flow), b)};
  if (b)
    c.push_back(o[1].flow.flag(syn ? "evilbit_syn_rev" : "evilbit_data_rev")
                    ? "evilbit.mark.seen"
                    : "evilbit.mark.not_seen");
  return c;
}

}  // namespace

const Plugin evilbit_plugin{
    .name = "evilbit",
    .description = "Evil bit connectivity testing",
    .model = SpiderModel::forge,
    .chains = {"basic", "dns", "tcp", "evil"},
    .modes = {ConnectMode::tcpsyn, ConnectMode::dnsudp},
    .configurations = configurations,
    .combine = combine,
};

}  // namespace pspdr
