// udpzero: a forged DNS query over UDP whose checksum is zero ("not computed", legal
// for IPv4 only).
#include "measure/plugin.hpp"

namespace pspdr {
namespace {

std::vector<Configuration> configurations(const PluginOptions&) {
  return {
      {nullptr, {}},
      {[](ConnectionRequest& req, const PluginOptions&, size_t) { req.udp_zero_checksum = true; },
       {}}};
}

std::vector<std::string> combine(std::span<const Outcome> o, const PluginOptions&) {
  for (const Outcome& f : o)
    if (!f.observed()) return {"pathspider.not_observed"};
  return {connectivity("udpzero", o[0].chain<DnsChain>().response_valid,
                       o[1].chain<DnsChain>().response_valid)};
}

}  // namespace

extern const Plugin udpzero_plugin{
    .name = "udpzero",
    .description = "UDP Zero Checksum",
    .model = SpiderModel::forge,
    .chains = ChainSet::of<BasicChain, DnsChain>(),
    .modes = {ConnectMode::dnsudp},
    .configurations = configurations,
    .combine = combine,
    .locate = locate_as_configured,
};

}  // namespace pspdr
