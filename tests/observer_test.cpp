// The Observer against PATHspider 2.0.1's Observer (pathspider/observer.py): flow
// records, direction, the packet-clock timers (1 s bins, idle then expiry), completion
// by chains, flush order, ICMP errors filed under the flow they quote, the chain order's
// short-circuit, and what happens when time jumps. Every expected value is derived in
// the comment above it from observer.py and the chains' code, not from this project.
//
// observer.py in brief, as used below:
//   _tick(ts): next = ceil(ts); if next <= ptq: nothing; if ptq == 0: ptq = next.
//     Otherwise, for each bin b in ptq+1 .. next: complete every flow idle in b (its
//     expiry bin is ceil(ptq + expiry) with the *old* ptq), then emit every flow whose
//     expiry bin is b. Then ptq = next. ptq never decreases.
//   _get_flow: runs after _tick; finds the flow in active or expiring (forward key
//     first), else makes one; pkt_last = ts; an active flow's idle bin becomes
//     ceil(ts + idle) if that is later than its current one. rev = (fid == reverse key).
//   chains: keep = keep and fn(...) over ip, icmp, then tcp/udp hooks in chain order;
//     not keep -> _flow_complete, which does nothing to an already expiring flow.
//   flush: expiring flows first, then active ones.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "chains/chain_set.hpp"
#include "observer/observer.hpp"
#include "shared/builder.hpp"
#include "shared/memory.hpp"

namespace pspdr {
namespace {

using build::Buffer;

class CapturingSink final : public FlowSink {
 public:
  void emit(const Flow& f) override { flows.push_back(f); }
  std::vector<Flow> flows;
};

template <class C>
const typename C::State& state(const Flow& f) {
  return Chains::state_of<C>(f.rec);
}

std::string text(const IpAddress& a) {
  char buf[IpAddress::kMaxText];
  return std::string(a.format(buf));
}

// Client A talks to server B; C talks to D to move the packet clock on.
const std::string kA = "192.0.2.10", kB = "198.51.100.20";
const build::Ip kAtoB{kA, kB}, kBtoA{kB, kA};
const build::Ip kCtoD{"192.0.2.200", "198.51.100.200"};
const std::string kRouter = "203.0.113.1";

Buffer tcp_ab(uint8_t flags, Buffer options = {}, Buffer payload = {}) {
  return build::tcp_packet(kAtoB, {40000, 80, 1000, 0, flags, false, 65535, 0, options, payload});
}
Buffer tcp_ba(uint8_t flags, Buffer payload = {}) {
  return build::tcp_packet(kBtoA, {80, 40000, 5000, 1001, flags, false, 65535, 0, {}, payload});
}
Buffer udp_ab(uint16_t sport = 41000, uint16_t dport = 9000, Buffer payload = {}) {
  return build::udp_packet(kAtoB, {sport, dport, payload});
}

class ObserverTest : public ::testing::Test {
 protected:
  void start(const std::vector<std::string>& chain_names, ObserverOptions opts = {}) {
    chains_ = ChainSet::from_names(chain_names);
    observer_.emplace(chains_, opts, sink_);
  }
  // Sends an IP packet framed as Ethernet, as a capture would deliver it.
  void send(double ts, const Buffer& ip_packet) {
    Buffer f = build::frame(LinkType::ethernet, ip_packet);
    observer_->on_frame(Frame{f.data(), uint32_t(f.size()), uint32_t(f.size()), ts});
  }
  // A packet of the C->D flow: it only advances the clock (and is its own flow).
  void tick(double ts) { send(ts, build::udp_packet(kCtoD, {5000, 5001, {}})); }
  // Ticks once a second, at whole seconds from..to inclusive.
  void tick_every_second(int from, int to) {
    for (int t = from; t <= to; ++t) tick(t);
  }
  // The emitted flows whose key has this source or destination port (0: ICMP).
  std::vector<Flow> with_port(uint16_t port) const {
    std::vector<Flow> out;
    for (const Flow& f : sink_.flows)
      if (f.key.sport == port || f.key.dport == port) out.push_back(f);
    return out;
  }
  size_t emitted() const { return sink_.flows.size(); }
  const ObserverStats& stats() const { return observer_->stats(); }

  ChainSet chains_;
  CapturingSink sink_;
  std::optional<Observer> observer_;
};

TEST_F(ObserverTest, BidirectionalRecordFirstPacketFixesForward) {
  start({"basic", "tcp"});
  send(100.1, tcp_ab(tcpflag::syn));
  send(100.2, tcp_ba(tcpflag::syn_ack));
  send(100.3, tcp_ab(tcpflag::ack));
  send(100.4, tcp_ba(tcpflag::ack | tcpflag::psh, Buffer(100, 'x')));
  EXPECT_EQ(emitted(), 0u);  // nothing completes: no FIN/RST, never idle
  observer_->flush();
  ASSERT_EQ(emitted(), 1u);
  const Flow& f = sink_.flows[0];
  const auto& b = state<BasicChain>(f);
  // BasicChain.new_flow takes sip/dip/ports from the first packet (A's SYN); later
  // packets only count. ip.size is the IP packet as captured: 40 for the bare
  // segments, 140 with the payload.
  EXPECT_EQ(text(b.sip()), kA);
  EXPECT_EQ(text(b.dip()), kB);
  EXPECT_EQ(b.proto, 6);
  EXPECT_EQ(b.sp(), 40000);
  EXPECT_EQ(b.dp(), 80);
  EXPECT_EQ(b.pkt_fwd, 2u);
  EXPECT_EQ(b.pkt_rev, 2u);
  EXPECT_EQ(b.oct_fwd, 80u);
  EXPECT_EQ(b.oct_rev, 180u);
  EXPECT_DOUBLE_EQ(f.pkt_first, 100.1);
  EXPECT_DOUBLE_EQ(f.pkt_last, 100.4);
  // TCPChain: SYN fwd, SYN-ACK rev, then a forward ACK completes the handshake.
  const auto& t = state<TcpChain>(f);
  EXPECT_EQ(t.synflags_fwd, tcpflag::syn);
  EXPECT_EQ(t.synflags_rev, tcpflag::syn_ack);
  EXPECT_TRUE(t.connected);
  EXPECT_EQ(stats().flows, 1u);
}

TEST_F(ObserverTest, CaptureStartingAtTheServersReplyMakesTheServerForward) {
  start({"basic", "tcp"});
  send(100.2, tcp_ba(tcpflag::syn_ack));
  send(100.3, tcp_ab(tcpflag::ack));
  observer_->flush();
  ASSERT_EQ(emitted(), 1u);
  const auto& b = state<BasicChain>(sink_.flows[0]);
  EXPECT_EQ(text(b.sip()), kB);
  EXPECT_EQ(b.sp(), 80);
  EXPECT_EQ(b.dp(), 40000);
  EXPECT_EQ(b.pkt_fwd, 1u);
  EXPECT_EQ(b.pkt_rev, 1u);
  // A's ACK is reverse now, and TCPChain only sets tcp_connected on a forward ACK
  // after a forward SYN: not here.
  const auto& t = state<TcpChain>(sink_.flows[0]);
  EXPECT_EQ(t.synflags_fwd, tcpflag::syn_ack);
  EXPECT_FALSE(t.synflags_rev.has_value());
  EXPECT_FALSE(t.connected);
}

TEST_F(ObserverTest, RstCompletesAndIsEmittedFiveSecondsLaterOnThePacketClock) {
  start({"basic", "tcp"});
  // 10.2: first packet, ptq = ceil(10.2) = 11 (the ptq == 0 case).
  send(10.2, tcp_ab(tcpflag::syn));
  // 10.5: ceil is 11, no tick. TCPChain sees RST -> False -> expiry bin ceil(11+5) = 16.
  send(10.5, tcp_ba(tcpflag::rst | tcpflag::ack));
  // 12.0: tick to 12, nothing due. The flow is expiring but still found (forward key
  // in _expiring): the ACK is counted and pkt_last moves.
  send(12.0, tcp_ab(tcpflag::ack));
  // 15.0: ceil 15 < 16, not yet.
  tick(15.0);
  EXPECT_EQ(with_port(80).size(), 0u);
  // 15.001: ceil 16: bin 16 is visited, the flow is emitted before this packet.
  tick(15.001);
  auto flows = with_port(80);
  ASSERT_EQ(flows.size(), 1u);
  const auto& b = state<BasicChain>(flows[0]);
  EXPECT_EQ(b.pkt_fwd, 2u);
  EXPECT_EQ(b.pkt_rev, 1u);
  EXPECT_DOUBLE_EQ(flows[0].pkt_last, 12.0);
  EXPECT_TRUE(state<TcpChain>(flows[0]).rst_rev);
  EXPECT_FALSE(state<TcpChain>(flows[0]).rst_fwd);
}

TEST_F(ObserverTest, PacketAfterEmissionStartsANewFlow) {
  start({"basic", "tcp"});
  send(10.2, tcp_ab(tcpflag::syn));                 // ptq 11
  send(10.5, tcp_ba(tcpflag::rst | tcpflag::ack));  // expiry bin 16
  // 15.5 -> ceil 16: _tick emits the old flow first, then _get_flow finds nothing
  // for this 5-tuple and makes a new flow whose forward is this packet's, B -> A.
  send(15.5, tcp_ba(tcpflag::ack));
  ASSERT_EQ(emitted(), 1u);
  EXPECT_EQ(state<BasicChain>(sink_.flows[0]).pkt_rev, 1u);
  EXPECT_EQ(state<BasicChain>(sink_.flows[0]).pkt_fwd, 1u);
  observer_->flush();
  ASSERT_EQ(emitted(), 2u);
  const Flow& again = sink_.flows[1];
  EXPECT_EQ(text(state<BasicChain>(again).sip()), kB);
  EXPECT_EQ(state<BasicChain>(again).pkt_fwd, 1u);
  EXPECT_EQ(state<BasicChain>(again).pkt_rev, 0u);
  EXPECT_DOUBLE_EQ(again.pkt_first, 15.5);
  EXPECT_EQ(stats().flows, 2u);
}

TEST_F(ObserverTest, FinBothWaysCompletes) {
  start({"basic", "tcp"});
  send(20.1, tcp_ab(tcpflag::syn));  // ptq 21
  send(20.2, tcp_ba(tcpflag::syn_ack));
  send(20.3, tcp_ab(tcpflag::ack));
  // One FIN (forward; TCPChain files it as tcp_fin_rev) does not complete: the chain
  // returns not((fin_fwd and fin_rev) or rst) = True.
  send(20.4, tcp_ab(tcpflag::fin | tcpflag::ack));
  tick(26.5);  // 6 s on: a completed flow would have been emitted by now (bin 26)
  EXPECT_EQ(with_port(80).size(), 0u);
  // B's FIN at 27.0 (ptq 27): both FINs -> False -> expiry bin 32.
  send(27.0, tcp_ba(tcpflag::fin | tcpflag::ack));
  send(27.1, tcp_ab(tcpflag::ack));  // still counted
  tick(31.0);
  EXPECT_EQ(with_port(80).size(), 0u);
  tick(31.5);  // ceil 32
  auto flows = with_port(80);
  ASSERT_EQ(flows.size(), 1u);
  const auto& t = state<TcpChain>(flows[0]);
  EXPECT_TRUE(t.fin_fwd);
  EXPECT_TRUE(t.fin_rev);
  EXPECT_TRUE(t.connected);
  EXPECT_EQ(state<BasicChain>(flows[0]).pkt_fwd, 4u);
  EXPECT_EQ(state<BasicChain>(flows[0]).pkt_rev, 2u);
  EXPECT_DOUBLE_EQ(flows[0].pkt_last, 27.1);
}

TEST_F(ObserverTest, IdleTimeoutCompletesAfterThirtySeconds) {
  start({"basic"});
  // 100.5: ptq 101; X's idle bin ceil(130.5) = 131.
  send(100.5, udp_ab());
  tick_every_second(101, 130);
  EXPECT_EQ(with_port(9000).size(), 0u);
  // 131: tick 130 -> 131 visits bin 131: X completes with expiry bin ceil(130 + 5) =
  // 135 (the ptq before this tick), not 136.
  tick(131);
  tick(132);
  // An expiring flow still takes packets: counted, pkt_last moves, idle bin untouched.
  send(133.0, udp_ab());
  tick(133);
  tick(134);
  EXPECT_EQ(with_port(9000).size(), 0u);
  tick(135);
  auto flows = with_port(9000);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(state<BasicChain>(flows[0]).pkt_fwd, 2u);
  EXPECT_DOUBLE_EQ(flows[0].pkt_first, 100.5);
  EXPECT_DOUBLE_EQ(flows[0].pkt_last, 133.0);
}

TEST_F(ObserverTest, CustomTimeoutsRoundUpToWholeBins) {
  start({"basic", "tcp"}, ObserverOptions{10.5, 2.5});
  // 100.2: ptq 101; X (UDP) idle bin ceil(110.7) = 111.
  send(100.2, udp_ab());
  // Y: SYN then RST at ptq 101 -> expiry bin ceil(101 + 2.5) = 104.
  send(100.3, tcp_ab(tcpflag::syn));
  send(100.4, tcp_ba(tcpflag::rst));
  tick_every_second(101, 103);
  EXPECT_EQ(with_port(80).size(), 0u);
  tick(104);
  EXPECT_EQ(with_port(80).size(), 1u);
  // X: bin 111 visited by the tick 110 -> 111, expiry bin ceil(110 + 2.5) = 113.
  tick_every_second(105, 112);
  EXPECT_EQ(with_port(9000).size(), 0u);
  tick(113);
  EXPECT_EQ(with_port(9000).size(), 1u);
}

TEST_F(ObserverTest, FlushEmitsEverythingCompletedFlowsFirst) {
  start({"basic", "tcp"});
  send(50.1, udp_ab());              // stays active
  send(50.2, tcp_ab(tcpflag::syn));  // completed by the RST, expiring
  send(50.3, tcp_ba(tcpflag::rst));
  EXPECT_EQ(emitted(), 0u);
  observer_->flush();
  // observer.py's flush walks _expiring before _active.
  ASSERT_EQ(emitted(), 2u);
  EXPECT_EQ(state<BasicChain>(sink_.flows[0]).proto, 6);
  EXPECT_EQ(state<BasicChain>(sink_.flows[1]).proto, 17);
  EXPECT_EQ(observer_->active_flows(), 0u);
  EXPECT_EQ(stats().emitted, 2u);
}

TEST_F(ObserverTest, IcmpUnreachableJoinsTheQuotedFlowAsReverse) {
  start({"basic", "icmp"});
  Buffer syn = tcp_ab(tcpflag::syn);
  send(50.1, syn);  // ptq 51
  // _flow4_ids on an ICMP type 3 quoting >= 20 bytes keys by the quotation and swaps
  // the pair: ffid = B->A, rfid = A->B. The flow is filed under A->B, so it is found
  // as rfid and rev = True. BasicChain counts it reverse with ip.size = 20 + 8 + 40;
  // ICMPChain sees rev and type 3: icmp_unreachable, returns False (expiry bin 56).
  send(50.2, build::icmp_packet({kRouter, kA}, icmptype::v4_unreachable, 1, syn));
  EXPECT_EQ(stats().flows, 1u);
  tick(55.0);
  EXPECT_EQ(with_port(80).size(), 0u);
  tick(55.5);  // ceil 56
  auto flows = with_port(80);
  ASSERT_EQ(flows.size(), 1u);
  const auto& b = state<BasicChain>(flows[0]);
  EXPECT_EQ(text(b.sip()), kA);
  EXPECT_EQ(b.proto, 6);
  EXPECT_EQ(b.pkt_fwd, 1u);
  EXPECT_EQ(b.oct_fwd, 40u);
  EXPECT_EQ(b.pkt_rev, 1u);
  EXPECT_EQ(b.oct_rev, 68u);
  EXPECT_TRUE(state<IcmpChain>(flows[0]).unreachable);
}

TEST_F(ObserverTest, ChainOrderShortCircuitsLaterChains) {
  // 1000.1 SYN without options; 1000.2 forward RST: TCPChain returns False from now
  // on (tcp_rst_fwd stays set). 1000.3 a SYN with MSS 1400 reaches the expiring
  // flow. `keep = keep and fn(...)` stops at the first False, so with "tcp mss" the
  // MSS chain never sees that SYN; with "mss tcp" it runs first and records it.
  auto run = [this](const std::vector<std::string>& order) {
    sink_.flows.clear();
    start(order);
    send(1000.1, tcp_ab(tcpflag::syn));
    send(1000.2, tcp_ab(tcpflag::rst));
    send(1000.3, tcp_ab(tcpflag::syn, build::opt::mss(1400)));
    observer_->flush();
    EXPECT_EQ(emitted(), 1u);
    return state<MssChain>(sink_.flows.at(0));
  };
  MssChain::State tcp_first = run({"tcp", "mss"});
  EXPECT_EQ(tcp_first.len_fwd, 0) << "no MSS option seen";
  MssChain::State mss_first = run({"mss", "tcp"});
  EXPECT_EQ(mss_first.len_fwd, 4);
  EXPECT_EQ(mss_first.value_fwd, 1400u);
}

TEST_F(ObserverTest, UdpDnsResponseCompletesTheFlow) {
  start({"basic", "dns"});
  // example.com A IN, asked and answered (the answer's name points back at offset 12).
  const Buffer question = {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1};
  Buffer query = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  query.insert(query.end(), question.begin(), question.end());
  Buffer response = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0};
  response.insert(response.end(), question.begin(), question.end());
  response.insert(response.end(), {0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 192, 0, 2, 1});

  // The forward query is not a response: DNSChain returns True. The reverse response
  // sets dns_response_valid and returns False at ptq 301: expiry bin 306.
  send(300.1, build::udp_packet(kAtoB, {40000, 53, query}));
  send(300.2, build::udp_packet(kBtoA, {53, 40000, response}));
  tick(305.0);
  EXPECT_EQ(with_port(53).size(), 0u);
  tick(305.5);
  auto flows = with_port(53);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_TRUE(state<DnsChain>(flows[0]).response_valid);
  EXPECT_EQ(state<BasicChain>(flows[0]).pkt_fwd, 1u);
  EXPECT_EQ(state<BasicChain>(flows[0]).pkt_rev, 1u);
  EXPECT_EQ(state<BasicChain>(flows[0]).dp(), 53);
}

TEST_F(ObserverTest, IcmpEchoIsAThreeTupleFlow) {
  start({"basic"});
  // Echo (8) and echo reply (0) are not in icmp_with_payload, and ICMP has no ports:
  // the key is (src, dst, proto), so requests with different identifiers share it.
  Buffer request = build::icmp_packet(kAtoB, icmptype::v4_echo, 0, Buffer(16, 0xab));
  Buffer other = request;
  other[20 + 4] = 0x77;  // another ICMP identifier (the observer ignores the checksum)
  send(400.1, request);
  send(400.2, build::icmp_packet(kBtoA, icmptype::v4_echo_reply, 0, Buffer(16, 0xab)));
  send(400.3, other);
  observer_->flush();
  ASSERT_EQ(emitted(), 1u);
  const auto& b = state<BasicChain>(sink_.flows[0]);
  EXPECT_EQ(b.proto, 1);
  EXPECT_EQ(b.pkt_fwd, 2u);
  EXPECT_EQ(b.pkt_rev, 1u);
  EXPECT_FALSE(b.sp().has_value());  // BasicChain._extract_ports: (None, None)
  EXPECT_FALSE(b.dp().has_value());
  EXPECT_EQ(stats().flows, 1u);
}

TEST_F(ObserverTest, FlowWhoseKeyIsItsOwnReverseCountsReverse) {
  // rev = (fid == rfid): for a packet from an address and port to the same address and
  // port, fid == ffid == rfid, so even the first packet is "reverse".
  start({"basic"});
  send(10.0, build::udp_packet({kA, kA}, {5353, 5353, {}}));
  observer_->flush();
  ASSERT_EQ(emitted(), 1u);
  EXPECT_EQ(state<BasicChain>(sink_.flows[0]).pkt_fwd, 0u);
  EXPECT_EQ(state<BasicChain>(sink_.flows[0]).pkt_rev, 1u);
}

TEST_F(ObserverTest, NonIpFramesAreCountedNotObserved) {
  start({"basic"});
  // An ARP request: Ethernet type 0x0806 and 28 bytes of ARP.
  Buffer arp = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06};
  Buffer body = {0,   1, 8, 0,  6, 4, 0, 1, 2, 0, 0,   0,  0,   1,
                 192, 0, 2, 10, 0, 0, 0, 0, 0, 0, 198, 51, 100, 20};
  arp.insert(arp.end(), body.begin(), body.end());
  observer_->on_frame(Frame{arp.data(), uint32_t(arp.size()), uint32_t(arp.size()), 5.0});
  send(5.1, udp_ab());
  observer_->flush();
  EXPECT_EQ(stats().packets, 2u);
  EXPECT_EQ(stats().non_ip, 1u);
  EXPECT_EQ(stats().malformed, 0u);
  EXPECT_EQ(stats().flows, 1u);
  EXPECT_EQ(emitted(), 1u);
}

TEST_F(ObserverTest, TimeGoingBackwardsPastTheIdleTimeoutHoldsTheFlowUntilFlush) {
  start({"basic"});
  tick(1000.5);  // ptq 1001
  // X at 900.2: _tick does nothing (901 <= 1001). _get_flow files X in idle bin
  // ceil(930.2) = 931. _tick only ever visits bins above ptq and ptq never goes back,
  // so bin 931 is never visited: X neither idles out nor expires; only flush emits it.
  send(900.2, udp_ab(41001));
  // Z at 990.2 goes back less than the idle timeout: idle bin 1021 is still ahead,
  // completed by the tick 1020 -> 1021 with expiry bin ceil(1020 + 5) = 1025.
  send(990.2, udp_ab(41002));
  // Y also goes back past it, but a later packet (1050.0) gives a later idle bin
  // (1080 > 931), which replaces the old one: Y completes at 1080, expires at 1084.
  send(900.5, udp_ab(41003));
  tick_every_second(1001, 1024);
  EXPECT_EQ(emitted(), 0u);
  tick(1025);
  EXPECT_EQ(with_port(41002).size(), 1u);
  tick_every_second(1026, 1050);
  send(1050.0, udp_ab(41003));
  tick_every_second(1051, 1083);
  EXPECT_EQ(with_port(41003).size(), 0u);
  tick(1084);
  ASSERT_EQ(with_port(41003).size(), 1u);
  EXPECT_EQ(state<BasicChain>(with_port(41003)[0]).pkt_fwd, 2u);
  tick_every_second(1085, 1200);
  EXPECT_EQ(with_port(41001).size(), 0u);
  EXPECT_EQ(emitted(), 2u);
  observer_->flush();
  ASSERT_EQ(with_port(41001).size(), 1u);
  EXPECT_DOUBLE_EQ(with_port(41001)[0].pkt_last, 900.2);
}

TEST_F(ObserverTest, FlowsGoingIdleInAGapPastTheirExpiryBinAreHeldUntilFlush) {
  start({"basic", "tcp"});
  tick(100.5);  // ptq 101; the C->D flow's idle bin is 131
  // X at 75.5 (idle bin 106) and W at 76.5 (idle bin 107): back in time, but their
  // bins are still ahead of ptq. Y is completed by a RST at ptq 101: expiry bin 106.
  send(75.5, udp_ab(41001));
  send(76.5, udp_ab(41002));
  send(100.6, tcp_ab(tcpflag::syn));
  send(100.7, tcp_ba(tcpflag::rst));
  // One packet 100 s later: a single _tick visits bins 102 .. 201 with ptq still 101,
  // so every flow completed in it gets expiry bin ceil(101 + 5) = 106.
  //   bin 106: X idles -> expiry 106; then bin 106's expiry set holds Y and X: emitted.
  //   bin 107: W idles -> expiry 106, a bin already passed: held to the end.
  //   bin 131: the C->D flow likewise.
  send(200.5, build::udp_packet({"192.0.2.201", "198.51.100.201"}, {6000, 6001, {}}));
  EXPECT_EQ(emitted(), 2u);
  EXPECT_EQ(with_port(41001).size(), 1u);
  EXPECT_EQ(with_port(80).size(), 1u);
  // Later ticks (202 .. 221) never go back to bin 106: W and C->D stay held.
  send(220.5, build::udp_packet({"192.0.2.201", "198.51.100.201"}, {6000, 6001, {}}));
  EXPECT_EQ(emitted(), 2u);
  observer_->flush();
  // Expiring first (W and C->D, in either order), then the active 6000 flow.
  ASSERT_EQ(emitted(), 5u);
  EXPECT_EQ(with_port(41002).size(), 1u);
  EXPECT_EQ(with_port(5000).size(), 1u);
  EXPECT_EQ(sink_.flows[4].key.sport, 6000);
}

// The flow table's storage: large blocks start on a 2 MiB boundary (a huge page, where
// the kernel gives one), small ones come from the heap, and both hold what is stored.
TEST(HugePageAllocator, LargeBlocksAreAlignedAndKeepTheirContents) {
  std::vector<uint64_t, HugePageAllocator<uint64_t>> v;
  for (uint64_t i = 0; i < 3'000'000; ++i) v.push_back(i * 7);  // grows through both kinds
  if (HugePageAllocator<uint64_t>::kMapped) {
    EXPECT_EQ(reinterpret_cast<uintptr_t>(v.data()) % HugePageAllocator<uint64_t>::kHuge, 0u);
  }
  for (uint64_t i = 0; i < v.size(); i += 4099) ASSERT_EQ(v[i], i * 7);
  v.resize(10);
  v.shrink_to_fit();  // back to the heap
  EXPECT_EQ(v[9], 63u);
}

}  // namespace
}  // namespace pspdr
