// dnsresolv: PATHspider's built-in resolver. Not an A/B test: each input job (CSV
// rank,domain, or any job with a domain) becomes one job per address its domain
// resolves to, ready for the other plugins. measure/resolver.cpp runs it.
#include "measure/plugin.hpp"

namespace pspdr {

extern const Plugin dnsresolv_plugin{
    .name = "dnsresolv",
    .description = "Simple Input List DNS Resolver",
    .model = SpiderModel::resolver,
    .chains = {},
    .modes = {ConnectMode::dnsudp},
    .configurations = nullptr,
    .combine = nullptr,
};

}  // namespace pspdr
