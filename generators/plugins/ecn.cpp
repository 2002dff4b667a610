// ecn: Explicit Congestion Notification. The kernel negotiates ECN when
// net.ipv4.tcp_ecn=1 (A runs with 2: only answer it), so the configurations are
// system-wide and the spider is synchronized.
#include "generators/plugins/plugins.hpp"

namespace pspdr {
namespace {

std::vector<Configuration> configurations(const PluginOptions&) {
  return {{nullptr, {{"net.ipv4.tcp_ecn", "2"}}}, {nullptr, {{"net.ipv4.tcp_ecn", "1"}}}};
}

std::vector<std::string> combine(std::span<const Outcome> o, const PluginOptions&) {
  std::vector<std::string> c{connectivity("ecn", o[0].ok(), o[1].ok())};
  for (const Outcome& f : o)
    if (!f.observed) {
      c.push_back("pathspider.not_observed");
      break;
    }
  const Outcome& b = o[1];
  if (b.observed && b.flow.flag("tcp_connected")) {
    int64_t flags = b.flow.value("tcp_synflags_rev") & tcp_flags::saec;
    c.push_back(flags == tcp_flags::sae    ? "ecn.negotiation.succeeded"
                : flags == tcp_flags::saec ? "ecn.negotiation.reflected"
                                           : "ecn.negotiation.failed");
    for (std::string_view mark : {"ect0", "ect1", "ce"}) {
      std::string syn = "ecn_" + std::string(mark) + "_syn_rev";
      std::string data = "ecn_" + std::string(mark) + "_data_rev";
      bool seen = b.flow.flag(syn) || b.flow.flag(data);
      c.push_back("ecn.ipmark." + std::string(mark) + (seen ? ".seen" : ".not_seen"));
    }
  }
  return c;
}

}  // namespace

const Plugin ecn_plugin{
    .name = "ecn",
    .description = "Explicit Congestion Notification",
    .model = SpiderModel::synchronized,
    .chains = {"basic", "tcp", "ecn"},
    .modes = {ConnectMode::http, ConnectMode::https, ConnectMode::tcp, ConnectMode::dnstcp},
    .configurations = configurations,
    .combine = combine,
};

}  // namespace pspdr
