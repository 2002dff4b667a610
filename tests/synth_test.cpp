// pspdr synth: deterministic per seed, every packet well formed, and a workout for the
// observer -- thousands of overlapping flows, ICMP errors quoting earlier packets, FIN/RST
// completions and idle timeouts -- on which one and two worker cores must agree.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "shared/synth.hpp"
#include "tests/support/observe.hpp"
#include "tests/support/record_compare.hpp"
#include "tests/support/temp_dir.hpp"

using namespace pspdr;
using namespace pspdr::testing;

namespace {

std::string synthesise(const TempDir& dir, const std::string& name, uint64_t seed, uint64_t flows) {
  std::string path = dir.file(name);
  PcapWriter w(path, LinkType::ethernet);
  write_synth_trace(SynthOptions{.flows = flows, .seed = seed}, w);
  w.close();
  return path;
}

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const std::vector<std::string> kAllChains = {"basic", "tcp", "ecn", "dscp", "evil",  "icmp",
                                             "mss",   "tfo", "udp", "dns",  "tcpopt"};

}  // namespace

TEST(Synth, SameSeedSameTraceOtherSeedOtherTrace) {
  TempDir dir;
  std::string a = bytes_of(synthesise(dir, "a.pcap", 7, 300));
  EXPECT_EQ(a, bytes_of(synthesise(dir, "b.pcap", 7, 300)));
  EXPECT_NE(a, bytes_of(synthesise(dir, "c.pcap", 8, 300)));
  EXPECT_GT(a.size(), 300u * 200);
}

TEST(Synth, EveryPacketIsWellFormedAndTheFlowsAreThere) {
  TempDir dir;
  std::string path = synthesise(dir, "t.pcap", 1, 2000);
  ChainSet chains = ChainSet::from_names(kAllChains);
  StringFlowSink sink(chains);
  Observer observer(chains, ObserverOptions{}, sink);
  TraceFile trace(path);
  Frame f;
  while (trace.next(f)) observer.on_frame(f);
  observer.flush();
  const ObserverStats& s = observer.stats();
  EXPECT_EQ(s.malformed, 0u) << "the synthesiser writes only well-formed packets";
  EXPECT_EQ(s.non_ip, 0u);
  EXPECT_GE(s.flows, 2000u) << "each synthesised flow, plus ICMP errors quoting none";
  auto records = parse_records(sink.text());
  size_t ecn = 0, tfo = 0, zero_udp = 0, unreachable = 0;
  for (const Record& r : records) {
    ecn += r.fields.at("tcp_synflags_fwd").num == 194;
    tfo += r.fields.at("tfo_synkind").num != 0;
    zero_udp += r.fields.at("udp_zero_checksum_fwd").type == Value::Type::boolean &&
                r.fields.at("udp_zero_checksum_fwd").b;
    unreachable += r.fields.at("icmp_unreachable").b;
  }
  // The mix the synthesiser promises shows up in the records.
  EXPECT_GT(ecn, 0u);
  EXPECT_GT(tfo, 0u);
  EXPECT_GT(zero_udp, 0u);
  EXPECT_GT(unreachable, 0u);
}

TEST(Synth, ShortFlowsKeepTheirFirstPackets) {
  TempDir dir;
  std::string path = dir.file("short.pcap");
  PcapWriter w(path, LinkType::ethernet);
  SynthStats stats = write_synth_trace(
      SynthOptions{.flows = 5000, .seed = 3, .flows_per_second = 1e6, .max_flow_packets = 2}, w);
  w.close();
  // Two packets a flow at most (the SYN and its answer, a query and its response...),
  // and at least one; at a million new flows a second nearly all are open at once.
  EXPECT_LE(stats.packets, 2 * 5000u);
  EXPECT_GE(stats.packets, 5000u);
  EXPECT_GT(stats.max_open, 4000u);
  ChainSet chains = ChainSet::from_names(std::vector<std::string>{"basic"});
  StringFlowSink sink(chains);
  Observer observer(chains, ObserverOptions{}, sink);
  TraceFile trace(path);
  Frame f;
  while (trace.next(f)) observer.on_frame(f);
  observer.flush();
  EXPECT_EQ(observer.stats().malformed, 0u);
  EXPECT_GE(observer.stats().flows, 5000u);
}

TEST(Synth, OneAndTwoWorkersAgreeOnABusyTrace) {
  TempDir dir;
  std::string path = synthesise(dir, "busy.pcap", 3, 3000);
  auto one = parse_records(observe_trace(path, kAllChains, 1));
  auto two = parse_records(observe_trace(path, kAllChains, 2));
  ASSERT_GE(one.size(), 3000u);
  Comparison c = compare_records(one, two);
  EXPECT_TRUE(c.equal) << c.report;
}
