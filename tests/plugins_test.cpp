// The combiners: conditions from observed connections, as PATHspider 2.0.1's plugins
// derive them (its code, quirks included). End to end against real servers and
// middleboxes: tests/measure_test.py.
#include <gtest/gtest.h>

#include <initializer_list>

#include "generators/plugin.hpp"

namespace pspdr {
namespace {

using Fields = std::initializer_list<std::pair<const char*, std::optional<int64_t>>>;

Outcome outcome(SpdrState state, Fields fields, bool observed = true) {
  Outcome o;
  o.connection.state = state;
  o.observed = observed;
  for (const auto& [name, value] : fields) o.flow.set(name, value);
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
  EXPECT_EQ(names, (V{"tfo", "ecn", "h2", "dscp", "mss", "evilbit", "udpzero", "dnsresolv"}));
  EXPECT_EQ(find_plugin("ecn")->modes.front(), ConnectMode::http);
  EXPECT_EQ(find_plugin("evilbit")->modes.front(), ConnectMode::tcpsyn);
  EXPECT_EQ(find_plugin("nope"), nullptr);
  EXPECT_EQ(parse_mode("dnsudp"), ConnectMode::dnsudp);
  EXPECT_EQ(parse_mode("smtp"), std::nullopt);
}

TEST(Plugins, Ecn) {
  Fields a{{"tcp_connected", 1}, {"tcp_synflags_rev", 0x12}};
  Fields negotiated{{"tcp_connected", 1}, {"tcp_synflags_rev", 0x52}, {"ecn_ect0_data_rev", 1}};
  EXPECT_EQ(combine("ecn", {outcome(ok, a), outcome(ok, negotiated)}),
            (V{"ecn.connectivity.works", "ecn.negotiation.succeeded", "ecn.ipmark.ect0.seen",
               "ecn.ipmark.ect1.not_seen", "ecn.ipmark.ce.not_seen"}));
  Fields reflected{{"tcp_connected", 1}, {"tcp_synflags_rev", 0xd2}, {"ecn_ce_syn_rev", 1}};
  EXPECT_EQ(combine("ecn", {outcome(ok, a), outcome(ok, reflected)})[1],
            "ecn.negotiation.reflected");
  EXPECT_EQ(combine("ecn", {outcome(ok, a), outcome(ok, reflected)})[4], "ecn.ipmark.ce.seen");
  EXPECT_EQ(combine("ecn", {outcome(ok, a), outcome(ok, a)})[1], "ecn.negotiation.failed");
  EXPECT_EQ(combine("ecn", {outcome(ok, a), outcome(timeout, {{"tcp_connected", 0}})}),
            (V{"ecn.connectivity.broken"}));
  EXPECT_EQ(combine("ecn", {outcome(timeout, {}, false), outcome(ok, a, false)}),
            (V{"ecn.connectivity.transient", "pathspider.not_observed"}));
}

TEST(Plugins, DscpFollowsPythonsOr) {
  // http: marks on SYN and data both ways; the target reflects 48.
  Fields a{{"dscp_mark_syn_fwd", 0},
           {"dscp_mark_data_fwd", 0},
           {"dscp_mark_syn_rev", 0},
           {"dscp_mark_data_rev", 0}};
  Fields b{{"dscp_mark_syn_fwd", 48},
           {"dscp_mark_data_fwd", 48},
           {"dscp_mark_syn_rev", 48},
           {"dscp_mark_data_rev", 48}};
  EXPECT_EQ(combine("dscp", {outcome(ok, a), outcome(ok, b)}),
            (V{"dscp.0.replymark:0", "dscp.48.connectivity.works", "dscp.48.replymark:48"}));
  // tcp mode: no data marks, so a zero SYN mark falls through to None.
  Fields a_tcp{{"dscp_mark_syn_fwd", 0},
               {"dscp_mark_data_fwd", std::nullopt},
               {"dscp_mark_syn_rev", 0},
               {"dscp_mark_data_rev", std::nullopt}};
  Fields b_bleached{{"dscp_mark_syn_fwd", 48},
                    {"dscp_mark_data_fwd", std::nullopt},
                    {"dscp_mark_syn_rev", 0},
                    {"dscp_mark_data_rev", std::nullopt}};
  EXPECT_EQ(combine("dscp", {outcome(ok, a_tcp), outcome(ok, b_bleached)}),
            (V{"dscp.48.connectivity.works"}));
  Fields b_dropped{{"dscp_mark_syn_fwd", 48}};
  EXPECT_EQ(combine("dscp", {outcome(ok, a), outcome(timeout, b_dropped)}),
            (V{"dscp.0.replymark:0", "dscp.48.connectivity.broken"}));
  EXPECT_EQ(combine("dscp", {outcome(ok, a), outcome(ok, b, false)}),
            (V{"pathspider.not_observed"}));
}

TEST(Plugins, Mss) {
  Fields f{
      {"tcp_connected", 1}, {"mss_value_fwd", 1460}, {"mss_len_rev", 4}, {"mss_value_rev", 1200}};
  EXPECT_EQ(combine("mss", {outcome(ok, f)}),
            (V{"mss.connectivity.online", "mss.option.local.value:1460",
               "mss.option.remote.value:1200", "mss.option.received.deflated"}));
  Fields absent{{"tcp_connected", 1}, {"mss_value_fwd", 1460}, {"mss_len_rev", std::nullopt}};
  EXPECT_EQ(combine("mss", {outcome(ok, absent)}).back(), "mss.option.received.absent");
  EXPECT_EQ(combine("mss", {outcome(timeout, {{"tcp_connected", 0}})}),
            (V{"mss.connectivity.offline"}));
}

TEST(Plugins, TfoLooksAtTheThirdConnection) {
  Fields acked{{"tfo_synclen", 8}, {"tfo_seq", 1000}, {"tfo_ack", 1076}, {"tfo_dlen", 75}};
  Fields not_acked{{"tfo_synclen", 8}, {"tfo_seq", 1000}, {"tfo_ack", 1001}, {"tfo_dlen", 75}};
  Fields none{{"tfo_synclen", 0}};
  EXPECT_EQ(combine("tfo", {outcome(ok, {}), outcome(ok, none), outcome(ok, acked)}),
            (V{"tfo.connectivity.works", "tfo.cookie.received", "tfo.syndata.acked"}));
  EXPECT_EQ(combine("tfo", {outcome(ok, {}), outcome(ok, none), outcome(ok, not_acked)})[2],
            "tfo.syndata.not_acked");
  EXPECT_EQ(combine("tfo", {outcome(ok, {}), outcome(ok, none), outcome(ok, none)}),
            (V{"tfo.connectivity.works", "tfo.cookie.not_received"}));
  EXPECT_EQ(combine("tfo", {outcome(ok, {}), outcome(ok, none), outcome(timeout, none)}),
            (V{"tfo.connectivity.broken"}));
}

TEST(Plugins, H2UsesTheNegotiatedVersion) {
  Outcome b = outcome(ok, {});
  b.connection.http_version = 20;
  EXPECT_EQ(combine("h2", {outcome(ok, {}), b}),
            (V{"h2.connectivity.works", "h2.upgrade.success"}));
  b.connection.http_version = 11;
  EXPECT_EQ(combine("h2", {outcome(ok, {}), b})[1], "h2.upgrade.failed");
  EXPECT_EQ(combine("h2", {outcome(timeout, {}), outcome(timeout, {})}),
            (V{"h2.connectivity.offline"}));
}

TEST(Plugins, ForgedOnes) {
  PluginOptions syn{.connect = ConnectMode::tcpsyn};
  Fields sa{{"tcp_synflags_rev", 0x12}, {"evilbit_syn_rev", 0}};
  Fields nothing{{"tcp_synflags_rev", std::nullopt}};
  EXPECT_EQ(combine("evilbit", {outcome(ok, sa), outcome(ok, sa)}, syn),
            (V{"evilbit.connectivity.works", "evilbit.mark.not_seen"}));
  EXPECT_EQ(combine("evilbit", {outcome(ok, sa), outcome(ok, nothing)}, syn),
            (V{"evilbit.connectivity.broken"}));
  PluginOptions udp{.connect = ConnectMode::dnsudp};
  Fields answered{{"dns_response_valid", 1}, {"evilbit_data_rev", 1}};
  EXPECT_EQ(combine("evilbit", {outcome(ok, answered), outcome(ok, answered)}, udp),
            (V{"evilbit.connectivity.works", "evilbit.mark.seen"}));
  EXPECT_EQ(combine("udpzero", {outcome(ok, answered), outcome(ok, {{"dns_response_valid", 0}})}),
            (V{"udpzero.connectivity.broken"}));
  EXPECT_EQ(combine("udpzero", {outcome(ok, answered), outcome(ok, answered, false)}),
            (V{"pathspider.not_observed"}));
}

}  // namespace
}  // namespace pspdr
