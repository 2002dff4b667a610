// mss: the Maximum Segment Size the target's SYN-ACK carries, against the one sent.
#include "generators/plugins/plugins.hpp"

namespace pspdr {
namespace {

std::vector<Configuration> configurations(const PluginOptions&) {
  return {{nullptr, {}}};
}

std::vector<std::string> combine(std::span<const Outcome> o, const PluginOptions&) {
  const Outcome& a = o[0];
  if (!a.observed) return {"pathspider.not_observed"};
  bool connected = a.flow.flag("tcp_connected");
  std::vector<std::string> c{connectivity("mss", connected)};
  if (!connected) return c;
  int64_t local = a.flow.value("mss_value_fwd");
  c.push_back("mss.option.local.value:" + std::to_string(local));
  if (a.flow.get("mss_len_rev")) {
    int64_t remote = a.flow.value("mss_value_rev");
    c.push_back("mss.option.remote.value:" + std::to_string(remote));
    c.push_back(remote < local    ? "mss.option.received.deflated"
                : remote == local ? "mss.option.received.unchanged"
                                  : "mss.option.received.inflated");
  } else {
    c.push_back("mss.option.received.absent");
  }
  return c;
}

}  // namespace

const Plugin mss_plugin{
    .name = "mss",
    .description = "TCP Maximum Segment Size",
    .model = SpiderModel::single,
    .chains = {"basic", "tcp", "mss"},
    .modes = {ConnectMode::tcp, ConnectMode::http, ConnectMode::https, ConnectMode::dnstcp},
    .configurations = configurations,
    .combine = combine,
};

}  // namespace pspdr
