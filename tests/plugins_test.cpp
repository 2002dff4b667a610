// The combiners: conditions from observed connections, as PATHspider 2.0.1's plugins
// derive them (its code, quirks included), reading the chains' typed state. End to end
// against real servers and middleboxes: tests/measure_test.py.
#include <gtest/gtest.h>

#include <functional>

#include "measure/plugin.hpp"
#include "observer/observer.hpp"
#include "shared/builder.hpp"
#include "shared/dns_query.hpp"

namespace pspdr {
namespace {

// What the observer recorded of a connection: chain states set by `fill`.
using Fill = std::function<void(FlowRecordState&)>;
template <class C>
typename C::State& state(FlowRecordState& r) {
  return Chains::state_of<C>(r);
}

Outcome outcome(SpdrState spdr_state, const Fill& fill = {}, bool observed = true) {
  Outcome o;
  o.connection.state = spdr_state;
  if (observed) o.flow.emplace();
  if (observed && fill) fill(o.flow->rec);
  return o;
}

std::vector<std::string> combine(std::string_view plugin, std::vector<Outcome> o,
                                 PluginOptions opts = {}) {
  const Plugin* p = find_plugin(plugin);
  EXPECT_NE(p, nullptr);
  if (opts.codepoints.empty()) opts.codepoints = {48};
  return p->combine(o, opts);
}

using V = std::vector<std::string>;
constexpr auto ok = SpdrState::ok, timeout = SpdrState::timeout;

TEST(Plugins, RegistryListsEveryPluginWithItsDefaultMode) {
  V names;
  for (const Plugin* p : plugins()) names.emplace_back(p->name);
  EXPECT_EQ(names,
            (V{"tfo", "ecn", "h2", "dscp", "mss", "evilbit", "udpzero", "udpopts", "dnsresolv"}));
  EXPECT_EQ(find_plugin("ecn")->modes.front(), ConnectMode::http);
  EXPECT_EQ(find_plugin("ecn")->chains.names(),
            (std::vector<std::string_view>{"basic", "tcp", "ecn", "syn_reply"}));
  EXPECT_EQ(find_plugin("evilbit")->modes.front(), ConnectMode::tcpsyn);
  EXPECT_EQ(find_plugin("nope"), nullptr);
  EXPECT_EQ(parse_mode("dnsudp"), ConnectMode::dnsudp);
  EXPECT_EQ(parse_mode("smtp"), std::nullopt);
}

// A connection the target answered: SYN-ACK flags `synack`, handshake completed.
Fill connected(uint8_t synack) {
  return [synack](FlowRecordState& r) {
    state<TcpChain>(r).connected = true;
    state<TcpChain>(r).synflags_rev = synack;
  };
}

TEST(Plugins, Ecn) {
  Fill a = connected(0x12);
  Fill negotiated = [](FlowRecordState& r) {
    connected(0x52)(r);
    state<EcnChain>(r).seen |= 1u << EcnChain::bit(true, false, EcnChain::ect0);
  };
  EXPECT_EQ(combine("ecn", {outcome(ok, a), outcome(ok, negotiated)}),
            (V{"ecn.connectivity.works", "ecn.negotiation.succeeded", "ecn.ipmark.ect0.seen",
               "ecn.ipmark.ect1.not_seen", "ecn.ipmark.ce.not_seen"}));
  Fill reflected = [](FlowRecordState& r) {
    connected(0xd2)(r);
    state<EcnChain>(r).seen |= 1u << EcnChain::bit(true, true, EcnChain::ce);
  };
  EXPECT_EQ(combine("ecn", {outcome(ok, a), outcome(ok, reflected)})[1],
            "ecn.negotiation.reflected");
  EXPECT_EQ(combine("ecn", {outcome(ok, a), outcome(ok, reflected)})[4], "ecn.ipmark.ce.seen");
  EXPECT_EQ(combine("ecn", {outcome(ok, a), outcome(ok, a)})[1], "ecn.negotiation.failed");
  EXPECT_EQ(combine("ecn", {outcome(ok, a), outcome(timeout)}), (V{"ecn.connectivity.broken"}));
  EXPECT_EQ(combine("ecn", {outcome(timeout, {}, false), outcome(ok, a, false)}),
            (V{"ecn.connectivity.transient", "pathspider.not_observed"}));
}

// DSCP marks (syn_fwd, data_fwd, syn_rev, data_rev); nullopt: no such packet.
Fill marks(std::optional<uint8_t> syn_fwd, std::optional<uint8_t> data_fwd,
           std::optional<uint8_t> syn_rev, std::optional<uint8_t> data_rev) {
  return [=](FlowRecordState& r) { state<DscpChain>(r) = {syn_fwd, syn_rev, data_fwd, data_rev}; };
}

// A SYN-ACK back (tcp), or a DNS response (dnsudp): the target answered.
Fill answered(Fill marks_fill, bool dns = false) {
  return [=](FlowRecordState& r) {
    marks_fill(r);
    if (dns)
      state<DnsChain>(r).response_valid = true;
    else
      state<TcpChain>(r).synflags_rev = tcp_flags::sa;
  };
}

TEST(Plugins, DscpFollowsTheManual) {
  // http: marks on SYN and data both ways; the target reflects 48.
  Fill a = answered(marks(0, 0, 0, 0)), b = answered(marks(48, 48, 48, 48));
  EXPECT_EQ(combine("dscp", {outcome(ok, a), outcome(ok, b)}),
            (V{"dscp.48.connectivity.works", "dscp.0.replymark:0", "dscp.48.replymark:48"}));
  // A bleached path: the reply mark 0 is what the plugin exists to show.
  Fill b_bleached = answered(marks(48, std::nullopt, 0, std::nullopt));
  EXPECT_EQ(combine("dscp", {outcome(ok, a), outcome(ok, b_bleached)}),
            (V{"dscp.48.connectivity.works", "dscp.0.replymark:0", "dscp.48.replymark:0"}));
  // Dropped: no answer, so no reply mark -- not even a router's ICMP error's (48).
  Fill b_dropped = marks(48, std::nullopt, std::nullopt, 48);
  EXPECT_EQ(combine("dscp", {outcome(ok, a), outcome(timeout, b_dropped)}),
            (V{"dscp.48.connectivity.broken", "dscp.0.replymark:0"}));
  // Named by the codepoint set, whatever was seen (no data flowed: 2.0.1 wrote dscp.None).
  Fill silent = marks(std::nullopt, std::nullopt, std::nullopt, std::nullopt);
  EXPECT_EQ(combine("dscp", {outcome(timeout, silent), outcome(timeout, silent)}),
            (V{"dscp.48.connectivity.offline"}));
  EXPECT_EQ(combine("dscp", {outcome(ok, a), outcome(ok, b, false)}),
            (V{"pathspider.not_observed"}));
  // dnsudp: the response's data mark.
  PluginOptions udp{.connect = ConnectMode::dnsudp, .codepoints = {48}};
  EXPECT_EQ(combine("dscp",
                    {outcome(ok, answered(marks(std::nullopt, 0, std::nullopt, 0), true)),
                     outcome(ok, answered(marks(std::nullopt, 48, std::nullopt, 0), true))},
                    udp),
            (V{"dscp.48.connectivity.works", "dscp.0.replymark:0", "dscp.48.replymark:0"}));
  // Several codepoints: an A before each B, each B against its own A; every
  // connectivity condition, then every reply mark once.
  PluginOptions two{.codepoints = {48, 8}};
  EXPECT_EQ(combine("dscp",
                    {outcome(ok, a), outcome(ok, b), outcome(timeout, silent),
                     outcome(ok, answered(marks(8, 8, 8, 8)))},
                    two),
            (V{"dscp.48.connectivity.works", "dscp.8.connectivity.transient", "dscp.0.replymark:0",
               "dscp.48.replymark:48", "dscp.8.replymark:8"}));
  std::vector<int> numbers;
  for (const Configuration& c : find_plugin("dscp")->configurations(two))
    numbers.push_back(c.number);
  EXPECT_EQ(numbers, (std::vector<int>{0, 1, 0, 2}));
}

TEST(Plugins, Mss) {
  auto mss = [](std::optional<uint64_t> remote) -> Fill {
    return [remote](FlowRecordState& r) {
      connected(0x12)(r);
      MssChain::State& m = state<MssChain>(r);
      m.len_fwd = 4;
      m.value_fwd = 1460;
      if (remote) m.len_rev = 4;
      m.value_rev = remote.value_or(0);
    };
  };
  EXPECT_EQ(combine("mss", {outcome(ok, mss(1200))}),
            (V{"mss.connectivity.online", "mss.option.local.value:1460",
               "mss.option.remote.value:1200", "mss.option.received.deflated"}));
  EXPECT_EQ(combine("mss", {outcome(ok, mss(std::nullopt))}).back(), "mss.option.received.absent");
  EXPECT_EQ(combine("mss", {outcome(timeout)}), (V{"mss.connectivity.offline"}));
  EXPECT_EQ(combine("mss", {outcome(timeout, {}, false)}), (V{"pathspider.not_observed"}));
}

TEST(Plugins, TfoLooksAtTheThirdConnection) {
  auto tfo = [](uint8_t synclen, uint32_t ack) -> Fill {
    return [=](FlowRecordState& r) {
      state<TfoChain>(r) = {.synkind = 34, .synclen = synclen, .seq = 1000, .ack = ack, .dlen = 75};
    };
  };
  Fill acked = tfo(8, 1076), not_acked = tfo(8, 1001), none = tfo(0, 1001);
  EXPECT_EQ(combine("tfo", {outcome(ok), outcome(ok, none), outcome(ok, acked)}),
            (V{"tfo.connectivity.works", "tfo.cookie.received", "tfo.syndata.acked"}));
  EXPECT_EQ(combine("tfo", {outcome(ok), outcome(ok, none), outcome(ok, not_acked)})[2],
            "tfo.syndata.not_acked");
  EXPECT_EQ(combine("tfo", {outcome(ok), outcome(ok, none), outcome(ok, tfo(8, 0))})[2],
            "tfo.syndata.failed");
  EXPECT_EQ(combine("tfo", {outcome(ok), outcome(ok, none), outcome(ok, none)}),
            (V{"tfo.connectivity.works", "tfo.cookie.not_received"}));
  EXPECT_EQ(combine("tfo", {outcome(ok), outcome(ok, none), outcome(timeout, none)}),
            (V{"tfo.connectivity.broken"}));
}

TEST(Plugins, H2UsesTheNegotiatedVersion) {
  Outcome b = outcome(ok);
  b.connection.http_version = 20;
  EXPECT_EQ(combine("h2", {outcome(ok), b}), (V{"h2.connectivity.works", "h2.upgrade.success"}));
  b.connection.http_version = 11;
  EXPECT_EQ(combine("h2", {outcome(ok), b})[1], "h2.upgrade.failed");
  EXPECT_EQ(combine("h2", {outcome(timeout), outcome(timeout)}), (V{"h2.connectivity.offline"}));
  EXPECT_EQ(combine("h2", {outcome(timeout), b}), (V{"h2.connectivity.transient"}));
}

// A forged SYN (sequence number `seq`) and the first answer the observer saw to it:
// `flags` acknowledging `ack`, with what `more` adds to the flow record.
Outcome forged(uint32_t seq, uint8_t flags, uint32_t ack, const Fill& more = {}) {
  Outcome o = outcome(ok, [&](FlowRecordState& r) {
    state<TcpChain>(r).synflags_rev = flags;
    new (state<LoadedChain>(r).bytes) SynReplyChain::State{flags, ack};
    if (more) more(r);
  });
  o.connection.syn_seq = seq;
  return o;
}

// Stateless probes: an answer counts only when it acknowledges the SYN's keyed-hash
// sequence number; a RST, or a SYN-ACK acknowledging anything else (a stale or spoofed
// answer), is no answer.
TEST(Plugins, StatelessSynProbesTakeOnlyTheirOwnAnswers) {
  PluginOptions syn{.connect = ConnectMode::tcpsyn};
  uint32_t seq = 0xfffffff0;
  EXPECT_TRUE(forged(seq, 0x12, seq + 1).answered(ConnectMode::tcpsyn));
  EXPECT_FALSE(forged(seq, 0x12, seq + 2).answered(ConnectMode::tcpsyn));
  EXPECT_FALSE(forged(seq, 0x14, seq + 1).answered(ConnectMode::tcpsyn));  // RST|ACK
  EXPECT_FALSE(outcome(ok).answered(ConnectMode::tcpsyn));
  EXPECT_EQ(combine("ecn", {forged(seq, 0x12, seq + 1), forged(7, 0x52, 8)}, syn),
            (V{"ecn.connectivity.works", "ecn.negotiation.succeeded", "ecn.ipmark.ect0.not_seen",
               "ecn.ipmark.ect1.not_seen", "ecn.ipmark.ce.not_seen"}));
  EXPECT_EQ(combine("ecn", {forged(seq, 0x12, seq + 1), forged(7, 0x52, 9)}, syn),
            (V{"ecn.connectivity.broken"}));
  Fill cookie = [](FlowRecordState& r) { state<TfoChain>(r).ackclen = 8; };
  EXPECT_EQ(combine("tfo", {forged(1, 0x12, 2), forged(5, 0x12, 6, cookie)}, syn),
            (V{"tfo.connectivity.works", "tfo.cookie.received"}));
  EXPECT_EQ(combine("tfo", {forged(1, 0x12, 2), forged(5, 0x12, 6)}, syn),
            (V{"tfo.connectivity.works", "tfo.cookie.not_received"}));
  Fill clamped = [](FlowRecordState& r) {
    state<MssChain>(r) = {.value_fwd = 1460, .value_rev = 536, .len_fwd = 4, .len_rev = 4};
  };
  EXPECT_EQ(combine("mss", {forged(1, 0x12, 2, clamped)}, syn),
            (V{"mss.connectivity.online", "mss.option.local.value:1460",
               "mss.option.remote.value:536", "mss.option.received.deflated"}));
  Fill bleached = [](FlowRecordState& r) { state<DscpChain>(r).syn_rev = 0; };
  EXPECT_EQ(combine("dscp", {forged(1, 0x12, 2, bleached), forged(3, 0x12, 4, bleached)}, syn),
            (V{"dscp.48.connectivity.works", "dscp.0.replymark:0", "dscp.48.replymark:0"}));
  Fill not_marked = [](FlowRecordState& r) { state<EvilChain>(r).syn_rev = false; };
  EXPECT_EQ(
      combine("evilbit", {forged(1, 0x12, 2, not_marked), forged(3, 0x12, 4, not_marked)}, syn),
      (V{"evilbit.connectivity.works", "evilbit.mark.not_seen"}));
  EXPECT_EQ(combine("evilbit", {forged(1, 0x12, 2), forged(3, 0x12, 9)}, syn),
            (V{"evilbit.connectivity.broken"}));
  EXPECT_EQ(combine("evilbit", {outcome(ok), forged(3, 0x12, 4)}, syn),
            (V{"evilbit.connectivity.transient"}));  // a mark only with works
}

TEST(Plugins, ForgedOnes) {
  PluginOptions udp{.connect = ConnectMode::dnsudp};
  Fill answered = [](FlowRecordState& r) {
    state<DnsChain>(r).response_valid = true;
    state<EvilChain>(r).data_rev = true;
  };
  EXPECT_EQ(combine("evilbit", {outcome(ok, answered), outcome(ok, answered)}, udp),
            (V{"evilbit.connectivity.works", "evilbit.mark.seen"}));
  EXPECT_EQ(combine("udpzero", {outcome(ok, answered), outcome(ok)}),
            (V{"udpzero.connectivity.broken"}));
  EXPECT_EQ(combine("udpzero", {outcome(ok, answered), outcome(ok, answered, false)}),
            (V{"pathspider.not_observed"}));
  // udpopts: a reply without an options area of its own.
  EXPECT_EQ(combine("udpopts", {outcome(ok, answered), outcome(ok, answered)}, udp),
            (V{"udpopts.connectivity.works", "udpopts.reply.options.not_seen"}));
  EXPECT_EQ(combine("udpopts", {outcome(ok, answered), outcome(ok)}, udp),
            (V{"udpopts.connectivity.broken"}));
}

// udpopts end to end through the observer: its own chain reads the options area of each
// direction, and a reply that carries one is said to.
TEST(Plugins, UdpoptsReadsTheRepliesOptionsArea) {
  const Plugin& udpopts = *find_plugin("udpopts");
  LoadedChain::active = udpopts.chains.loaded();
  struct Flows final : FlowSink {
    std::vector<Flow> got;
    void emit(const Flow& f) override { got.push_back(f); }
  };
  // One DNS exchange; `options`: an options area after the reply's UDP length.
  auto exchange = [&](uint16_t sport, bool options) {
    Flows sink;
    Observer observer(udpopts.chains, ObserverOptions{}, sink);
    build::Buffer query = build_dns_query(7, "a.pathspider.test"), reply = query;
    reply[2] |= 0x80;  // QR: a response
    build::Buffer area =
        options ? build::udp_options(uint16_t(8 + reply.size()), {1, 1, 0}) : build::Buffer{};
    build::Buffer out = build::udp_packet({.src = "192.0.2.1", .dst = "198.51.100.2"},
                                          {.sport = sport, .dport = 53, .payload = query});
    build::Buffer back =
        build::udp_packet({.src = "198.51.100.2", .dst = "192.0.2.1"},
                          {.sport = 53, .dport = sport, .payload = reply, .surplus = area});
    double ts = 1000;
    for (const build::Buffer* ip : {&out, &back}) {
      build::Buffer frame = build::frame(LinkType::ethernet, *ip);
      observer.on_frame(Frame{frame.data(), uint32_t(frame.size()), uint32_t(frame.size()),
                              ts += 0.01, LinkType::ethernet});
    }
    observer.flush();
    EXPECT_EQ(sink.got.size(), 1u);
    Outcome o;
    o.connection.state = SpdrState::ok;
    if (!sink.got.empty()) o.flow = sink.got[0];
    return o;
  };
  PluginOptions udp{.connect = ConnectMode::dnsudp};
  EXPECT_EQ(combine("udpopts", {exchange(40000, false), exchange(40001, false)}, udp),
            (V{"udpopts.connectivity.works", "udpopts.reply.options.not_seen"}));
  EXPECT_EQ(combine("udpopts", {exchange(40002, false), exchange(40003, true)}, udp),
            (V{"udpopts.connectivity.works", "udpopts.reply.options.seen"}));
  LoadedChain::active = nullptr;
}

}  // namespace
}  // namespace pspdr
