// udpzero: a forged DNS query over UDP whose checksum is zero ("not computed", legal
// for IPv4 only).
#include "generators/plugins/plugins.hpp"

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
    if (!f.observed) return {"pathspider.not_observed"};
  return {connectivity("udpzero", o[0].flow.flag("dns_response_valid"),
                       o[1].flow.flag("dns_response_valid"))};
}

}  // namespace

const Plugin udpzero_plugin{
    .name = "udpzero",
    .description = "UDP Zero Checksum",
    .model = SpiderModel::forge,
    .chains = {"basic", "dns"},
    .modes = {ConnectMode::dnsudp},
    .configurations = configurations,
    .combine = combine,
};

}  // namespace pspdr
