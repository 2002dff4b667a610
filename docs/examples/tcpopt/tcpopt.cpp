// tcpopt: which of the timestamp, window scale and SACK-permitted options survive the
// path -- PATHspider's tcpopt plugin (its master branch; 2.0.1 does not ship it), built
// out of tree against pspdr's installed plugin API (docs/plugins.md):
//
//   meson setup build && ninja -C build     (finds pspdr with pkg-config pspdr-plugin)
//   pspdr measure --plugin-dir build tcpopt ...
//
// A with none of the options on its SYN, then one B per option with only that one: the
// kernel adds them as net.ipv4.tcp_{timestamps,window_scaling,sack} say, so the
// configurations are system-wide and the spider synchronized.
#include "measure/plugin.hpp"

namespace {

using pspdr::Configuration;
using pspdr::Outcome;

std::vector<Configuration> configurations(const pspdr::PluginOptions&) {
  auto only = [](const char* ts, const char* ws, const char* sack) {
    return Configuration{nullptr,
                         {{"net.ipv4.tcp_timestamps", ts},
                          {"net.ipv4.tcp_window_scaling", ws},
                          {"net.ipv4.tcp_sack", sack}}};
  };
  return {only("0", "0", "0"), only("1", "0", "0"), only("0", "1", "0"), only("0", "0", "1")};
}

// Whether the target's SYN-ACK carried option `kind` (the tcpopt chain's tcpopt_ts...).
bool answered_with(const Outcome& o, uint8_t kind) {
  return pspdr::TcpoptChain::reverse_has(o.chain<pspdr::TcpoptChain>(), kind).value_or(false);
}

bool connected(const Outcome& o) {
  return o.observed() && o.chain<pspdr::TcpChain>().connected;
}

std::vector<std::string> combine(std::span<const Outcome> o, const pspdr::PluginOptions&) {
  using pspdr::connectivity;
  namespace opt = pspdr::tcpopt;
  struct Option {
    const char* name;
    uint8_t kind;
  };
  const Option options[] = {
      {"tsopt", opt::timestamps}, {"wsopt", opt::ws}, {"sack", opt::sack_permitted}};
  std::vector<std::string> c;
  for (size_t i = 0; i < 3; ++i)
    c.push_back(connectivity(options[i].name, o[0].ok(), o[i + 1].ok()));
  for (const Outcome& f : o)
    if (!f.observed()) {
      c.push_back("pathspider.not_observed");
      break;
    }
  for (size_t i = 0; i < 3; ++i)
    if (connected(o[i + 1]))
      c.push_back(std::string(options[i].name) + ".negotiation." +
                  (answered_with(o[i + 1], options[i].kind) ? "succeeded" : "failed"));
  if (connected(o[0]))
    for (const Option& option : options)
      c.push_back(std::string(option.name) + ".unsolicited." +
                  (answered_with(o[0], option.kind) ? "seen" : "not_seen"));
  return c;
}

const pspdr::Plugin tcpopt{
    .name = "tcpopt",
    .description = "TCP Options (Timestamp, Window Scaling, SACK)",
    .model = pspdr::SpiderModel::synchronized,
    .chains = pspdr::ChainSet::of<pspdr::BasicChain, pspdr::TcpChain, pspdr::TcpoptChain>(),
    .modes = {pspdr::ConnectMode::http, pspdr::ConnectMode::https, pspdr::ConnectMode::tcp,
              pspdr::ConnectMode::dnstcp},
    .configurations = configurations,
    .combine = combine,
};

}  // namespace

PSPDR_PLUGIN(tcpopt);
