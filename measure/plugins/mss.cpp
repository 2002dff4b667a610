// mss: the Maximum Segment Size the target's SYN-ACK carries, against the one sent
// (with --connect tcpsyn the forge's SYN offers the interface's MTU less the headers,
// as the kernel does).
#include "measure/plugin.hpp"

namespace pspdr {
namespace {

std::vector<Configuration> configurations(const PluginOptions&) {
  return {{nullptr, {}}};
}

std::vector<std::string> combine(std::span<const Outcome> o, const PluginOptions& opts) {
  const Outcome& a = o[0];
  if (!a.observed()) return {"pathspider.not_observed"};
  bool connected = a.handshake(opts.connect);
  std::vector<std::string> c{connectivity("mss", connected)};
  if (!connected) return c;
  const MssChain::State& mss = a.chain<MssChain>();
  uint64_t local = mss.value_fwd;  // 0 if A's SYN had no MSS option
  c.push_back("mss.option.local.value:" + std::to_string(local));
  if (mss.len_rev) {
    uint64_t remote = mss.value_rev;
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

extern const Plugin mss_plugin{
    .name = "mss",
    .description = "TCP Maximum Segment Size",
    .model = SpiderModel::single,
    .chains = ChainSet::of<BasicChain, TcpChain, MssChain>().with_loaded<SynReplyChain>(),
    .modes = {ConnectMode::tcp, ConnectMode::http, ConnectMode::https, ConnectMode::dnstcp,
              ConnectMode::tcpsyn},
    .configurations = configurations,
    .combine = combine,
    .locate = locate_as_configured,
};

}  // namespace pspdr
