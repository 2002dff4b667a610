// tfo: TCP Fast Open. A without it, then twice with it: the first B asks for a cookie,
// the second uses it to carry data on its SYN. With --connect tcpsyn there is no
// connection to carry data: A and one B whose forged SYN asks for a cookie.
#include "measure/plugin.hpp"

namespace pspdr {
namespace {

void fast_open(ConnectionRequest& req, const PluginOptions&, size_t) {
  req.tfo = true;
}

std::vector<Configuration> configurations(const PluginOptions& opts) {
  if (opts.connect == ConnectMode::tcpsyn) return {{nullptr, {}}, {fast_open, {}}};
  return {{nullptr, {}}, {fast_open, {}}, {fast_open, {}}};
}

std::vector<std::string> combine_syn(std::span<const Outcome> o) {
  bool b = o[1].answered(ConnectMode::tcpsyn);
  std::vector<std::string> c{connectivity("tfo", o[0].answered(ConnectMode::tcpsyn), b)};
  if (b)
    c.push_back(o[1].chain<TfoChain>().ackclen ? "tfo.cookie.received" : "tfo.cookie.not_received");
  return c;
}

std::vector<std::string> combine(std::span<const Outcome> o, const PluginOptions& opts) {
  if (opts.connect == ConnectMode::tcpsyn) return combine_syn(o);
  std::vector<std::string> c{connectivity("tfo", o[0].ok(), o[2].ok())};
  const Outcome& b = o[2];
  if (!b.ok() || !b.observed()) return c;
  const TfoChain::State& tfo = b.chain<TfoChain>();
  if (tfo.synclen) {
    c.push_back("tfo.cookie.received");
    int64_t acked = int64_t(tfo.ack) - int64_t(tfo.seq);
    if (acked == tfo.dlen + 1)
      c.push_back("tfo.syndata.acked");
    else if (acked == 1 && tfo.dlen > 0)
      c.push_back("tfo.syndata.not_acked");
    else if (tfo.ack == 0)
      c.push_back("tfo.syndata.failed");
  } else {
    c.push_back("tfo.cookie.not_received");
  }
  return c;
}

}  // namespace

extern const Plugin tfo_plugin{
    .name = "tfo",
    .description = "TCP Fast Open",
    .model = SpiderModel::desynchronized,
    .chains = ChainSet::of<BasicChain, TcpChain, TfoChain>().with_loaded<SynReplyChain>(),
    .modes = {ConnectMode::dnstcp, ConnectMode::http, ConnectMode::https, ConnectMode::tcpsyn},
    .configurations = configurations,
    .combine = combine,
    .locate = locate_as_configured,
};

}  // namespace pspdr
