// dscp: Differentiated Services codepoints. PATHspider marks with an iptables rule for
// the whole system; here each connection's socket carries the mark (IP_TOS /
// IPV6_TCLASS), so A and B need not take turns.
#include "measure/plugin.hpp"

namespace pspdr {
namespace {

void mark(ConnectionRequest& req, const PluginOptions& opts, size_t config) {
  req.tos = config == 0 ? 0 : uint8_t(opts.codepoints[config - 1] << 2);
}

std::vector<Configuration> configurations(const PluginOptions& opts) {
  return std::vector<Configuration>(opts.codepoints.size() + 1, Configuration{mark, {}});
}

// Python's `a or b` on optional marks, as PATHspider writes it: a 0 falls through.
std::optional<uint8_t> either(std::optional<uint8_t> a, std::optional<uint8_t> b) {
  return a && *a ? a : b;
}

std::string str(std::optional<uint8_t> v) {
  return v ? std::to_string(*v) : "None";
}

std::vector<std::string> combine(std::span<const Outcome> o, const PluginOptions&) {
  for (const Outcome& f : o)
    if (!f.observed()) return {"pathspider.not_observed"};
  auto name = [](const Outcome& f) {
    const DscpChain::State& d = f.chain<DscpChain>();
    return "dscp." + str(either(d.syn_fwd, d.data_fwd));
  };
  auto replymark = [](const Outcome& f) {
    const DscpChain::State& d = f.chain<DscpChain>();
    return either(d.syn_rev, d.data_rev);
  };
  // PATHspider's order: the connectivity conditions, then the reply marks, A's first.
  std::vector<std::string> c;
  for (const Outcome& f : o.subspan(1)) c.push_back(connectivity(name(f), o[0].ok(), f.ok()));
  for (const Outcome& f : o)
    if (auto mark = replymark(f)) c.push_back(name(f) + ".replymark:" + str(mark));
  return c;
}

}  // namespace

extern const Plugin dscp_plugin{
    .name = "dscp",
    .description = "Differentiated Services Codepoints",
    .model = SpiderModel::desynchronized,
    .chains = ChainSet::of<BasicChain, DscpChain, TcpChain, DnsChain>(),
    .modes = {ConnectMode::http, ConnectMode::tcp, ConnectMode::dnstcp, ConnectMode::dnsudp},
    .takes_codepoints = true,
    .configurations = configurations,
    .combine = combine,
};

}  // namespace pspdr
