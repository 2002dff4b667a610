// hops: how far away a target's answer comes from -- the TTL (hop limit) of its SYN-ACK,
// and the hops it travelled from the nearest usual initial value (64, 128, 255). An
// out-of-tree pspdr plugin (docs/plugins.md) that brings a chain of its own, written as
// the built-in ones are (chains/chain.hpp) and named with ChainSet::with_loaded.
//
//   meson setup build && ninja -C build
//   pspdr measure --plugin-dir build hops --connect tcp < jobs.ndjson
#include "measure/plugin.hpp"

namespace {

using namespace pspdr;

// The TTL of the first SYN-ACK from the target.
struct SynAckTtlChain {
  static constexpr std::string_view name = "synack_ttl";
  static constexpr std::string_view summary = "the TTL or hop limit of the target's SYN-ACK";
  static constexpr std::array fields = {
      FieldDoc{"synack_ttl", "int", "TTL (IPv4) or hop limit (IPv6) of the first reverse SYN-ACK"},
  };
  struct State {
    std::optional<uint8_t> ttl;
  };
  static bool tcp(State& s, const Packet& p, bool rev) {
    if (rev && p.tcp.syn() && p.tcp.ack() && !s.ttl) s.ttl = p.ip.ttl();
    return true;
  }
  static void write(JsonWriter& w, const State& s) { w.field("synack_ttl", s.ttl); }
};

std::vector<Configuration> configurations(const PluginOptions&) {
  return {{nullptr, {}}};
}

std::vector<std::string> combine(std::span<const Outcome> o, const PluginOptions&) {
  const Outcome& a = o[0];
  if (!a.observed()) return {"pathspider.not_observed"};
  bool connected = a.chain<TcpChain>().connected;
  std::vector<std::string> c{connectivity("hops", connected)};
  if (auto ttl = a.chain<SynAckTtlChain>().ttl) {
    int initial = *ttl <= 64 ? 64 : *ttl <= 128 ? 128 : 255;
    c.push_back("hops.synack.ttl:" + std::to_string(*ttl));
    c.push_back("hops.synack.distance:" + std::to_string(initial - *ttl));
  }
  return c;
}

const Plugin hops{
    .name = "hops",
    .description = "Hops to the target, from its SYN-ACK's TTL",
    .model = SpiderModel::single,
    .chains = ChainSet::of<BasicChain, TcpChain>().with_loaded<SynAckTtlChain>(),
    .modes = {ConnectMode::tcp, ConnectMode::http, ConnectMode::https, ConnectMode::dnstcp},
    .configurations = configurations,
    .combine = combine,
};

}  // namespace

PSPDR_PLUGIN(hops);
