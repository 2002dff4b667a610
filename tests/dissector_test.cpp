// The dissector from link layer to transport: every link type, IPv4 options and
// fragments, IPv6 extension headers, every TCP header field, UDP, ICMP errors with their
// quotation, and every truncation of several packets. Packets come from the builder, or
// are edited by hand where the builder cannot make the broken or unusual thing.
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <cstring>
#include <ostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "shared/address.hpp"
#include "shared/builder.hpp"
#include "shared/packet.hpp"

namespace pspdr {
namespace {

using build::Buffer;

Packet run(const Buffer& frame, LinkType link) {
  Packet p;
  dissect(Frame{frame.data(), uint32_t(frame.size()), uint32_t(frame.size()), 0, link}, p);
  return p;
}

const build::Ip kV4{"192.0.2.1", "198.51.100.7"};
const build::Ip kV6{"2001:db8::1", "2001:db8:ffff::2"};

Buffer tcp_v4() {
  return build::tcp_packet(kV4, {});
}
Buffer tcp_v6() {
  return build::tcp_packet(kV6, {});
}

// Inserts IPv6 extension headers after the fixed header. Each is (its protocol number,
// its bytes); the next-header bytes and the payload length are filled in here.
Buffer with_ipv6_extensions(const Buffer& pkt, const std::vector<std::pair<uint8_t, Buffer>>& ext) {
  Buffer out(pkt.begin(), pkt.begin() + 40);
  uint8_t transport = pkt[6];
  out[6] = ext.front().first;
  for (size_t i = 0; i < ext.size(); ++i) {
    Buffer h = ext[i].second;
    h[0] = i + 1 < ext.size() ? ext[i + 1].first : transport;
    out.insert(out.end(), h.begin(), h.end());
  }
  out.insert(out.end(), pkt.begin() + 40, pkt.end());
  store_be16(&out[4], uint16_t(out.size() - 40));
  return out;
}

// One's-complement sum of the TCP/UDP pseudo-header and segment: 0xffff when the
// checksum in the segment is right.
uint16_t transport_checksum_sum(const IpView& ip, Bytes seg) {
  uint32_t acc = 0;
  auto add = [&acc](const uint8_t* q, uint32_t n) {
    for (uint32_t i = 0; i + 1 < n; i += 2) acc += load_be16(q + i);
    if (n & 1) acc += uint32_t(q[n - 1]) << 8;
  };
  add(ip.src(), ip.addr_len());
  add(ip.dst(), ip.addr_len());
  acc += ip.proto + seg.size;
  add(seg.data, seg.size);
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return uint16_t(acc);
}

// --- Link layers ----------------------------------------------------------------------

struct LinkCase {
  std::string name;
  LinkType link;
  int vlans;
  uint32_t ip_offset;
};

// gtest would otherwise print the struct's bytes, padding included.
void PrintTo(const LinkCase& c, std::ostream* os) {
  *os << c.name;
}

class EveryLink : public ::testing::TestWithParam<LinkCase> {};

TEST_P(EveryLink, FindsIpv4AndIpv6) {
  const LinkCase& c = GetParam();
  for (const Buffer& pkt : {tcp_v4(), tcp_v6()}) {
    bool v6 = (pkt[0] >> 4) == 6;
    if ((c.link == LinkType::ipv4 && v6) || (c.link == LinkType::ipv6 && !v6)) continue;
    Buffer f = build::frame(c.link, pkt, c.vlans);
    ASSERT_EQ(f.size(), c.ip_offset + pkt.size());
    Packet p = run(f, c.link);
    EXPECT_EQ(p.anomaly, Anomaly::none);
    ASSERT_TRUE(p.is_ip());
    EXPECT_EQ(p.ip.hdr, f.data() + c.ip_offset);
    EXPECT_EQ(p.ip.version, v6 ? 6 : 4);
    EXPECT_EQ(p.ip.caplen, pkt.size());
    ASSERT_TRUE(p.tcp);
    EXPECT_EQ(p.tcp.sport(), 40000);
    EXPECT_EQ(p.tcp.dport(), 80);
  }
}

INSTANTIATE_TEST_SUITE_P(Dissector, EveryLink,
                         ::testing::Values(LinkCase{"ethernet", LinkType::ethernet, 0, 14},
                                           LinkCase{"ethernet_dot1q", LinkType::ethernet, 1, 18},
                                           LinkCase{"ethernet_qinq", LinkType::ethernet, 2, 22},
                                           LinkCase{"linux_sll", LinkType::linux_sll, 0, 16},
                                           LinkCase{"linux_sll2", LinkType::linux_sll2, 0, 20},
                                           LinkCase{"raw101", LinkType::raw, 0, 0},
                                           LinkCase{"raw12", LinkType::raw_bsd12, 0, 0},
                                           LinkCase{"raw14", LinkType::raw_bsd14, 0, 0},
                                           LinkCase{"ipv4_228", LinkType::ipv4, 0, 0},
                                           LinkCase{"ipv6_229", LinkType::ipv6, 0, 0},
                                           LinkCase{"null_bsd", LinkType::null_bsd, 0, 4},
                                           LinkCase{"openbsd_loop", LinkType::loop, 0, 4}),
                         [](const ::testing::TestParamInfo<LinkCase>& i) { return i.param.name; });

TEST(Link, EthernetTagsAre8021adThen8021q) {
  Buffer f = build::frame(LinkType::ethernet, tcp_v4(), 2);
  EXPECT_EQ(load_be16(&f[12]), 0x88a8);
  EXPECT_EQ(load_be16(&f[16]), 0x8100);
  EXPECT_EQ(load_be16(&f[20]), 0x0800);
}

TEST(Link, EthernetOtherVlanTpids) {
  for (uint16_t tpid : {0x9100, 0x9200}) {
    Buffer f = build::frame(LinkType::ethernet, tcp_v6(), 1);
    store_be16(&f[12], tpid);
    Packet p = run(f, LinkType::ethernet);
    EXPECT_EQ(p.ip.hdr, f.data() + 18) << std::hex << tpid;
    EXPECT_EQ(p.ip.version, 6);
  }
}

TEST(Link, EthernetNonIpIsNotAnAnomaly) {
  Buffer f = build::frame(LinkType::ethernet, tcp_v4());
  store_be16(&f[12], 0x0806);  // ARP
  Packet p = run(f, LinkType::ethernet);
  EXPECT_FALSE(p.is_ip());
  EXPECT_EQ(p.anomaly, Anomaly::none);
}

TEST(Link, NullBsdInBothByteOrders) {
  Buffer v4 = tcp_v4(), v6 = tcp_v6();
  struct Case {
    Buffer header;
    const Buffer& pkt;
    uint8_t version;
  };
  const Case cases[] = {
      {{2, 0, 0, 0}, v4, 4},                           // AF_INET, little-endian host
      {{0, 0, 0, 2}, v4, 4},                           // AF_INET, big-endian host
      {{30, 0, 0, 0}, v6, 6},                          // Darwin AF_INET6
      {{0, 0, 0, 30}, v6, 6}, {{28, 0, 0, 0}, v6, 6},  // FreeBSD
      {{0, 0, 0, 24}, v6, 6},                          // OpenBSD / NetBSD, big-endian
      {{10, 0, 0, 0}, v6, 6},                          // Linux
  };
  for (const Case& c : cases) {
    Buffer f = build::opt::cat({c.header, c.pkt});
    Packet p = run(f, LinkType::null_bsd);
    EXPECT_EQ(p.anomaly, Anomaly::none);
    ASSERT_TRUE(p.is_ip()) << int(c.header[0]) << "," << int(c.header[3]);
    EXPECT_EQ(p.ip.version, c.version);
    EXPECT_EQ(p.ip.hdr, f.data() + 4);
  }
  Buffer unknown_af = build::opt::cat({{7, 0, 0, 0}, v4});
  EXPECT_FALSE(run(unknown_af, LinkType::null_bsd).is_ip());
}

TEST(Link, OpenBsdLoopIsNetworkOrder) {
  Buffer f = build::frame(LinkType::loop, tcp_v6());
  EXPECT_EQ(load_be32(f.data()), 24u);
  EXPECT_EQ(run(f, LinkType::loop).ip.version, 6);
  // Little-endian AF_INET read in network order is 0x02000000: not an address family.
  Buffer le = build::opt::cat({{2, 0, 0, 0}, tcp_v4()});
  EXPECT_FALSE(run(le, LinkType::loop).is_ip());
}

TEST(Link, TruncatedLinkHeaders) {
  Buffer v4 = tcp_v4();
  struct Case {
    LinkType link;
    int vlans;
    uint32_t cut;  // bytes kept
  };
  const Case cases[] = {
      {LinkType::ethernet, 0, 13},  {LinkType::ethernet, 1, 17},   {LinkType::ethernet, 2, 21},
      {LinkType::linux_sll, 0, 15}, {LinkType::linux_sll2, 0, 19}, {LinkType::null_bsd, 0, 3},
      {LinkType::loop, 0, 3},
  };
  for (const Case& c : cases) {
    Buffer f = build::frame(c.link, v4, c.vlans);
    f.resize(c.cut);
    Packet p = run(f, c.link);
    EXPECT_EQ(p.anomaly, Anomaly::truncated_link) << link_type_name(c.link) << " " << c.cut;
    EXPECT_FALSE(p.is_ip());
  }
}

TEST(Link, RawLinkTakesTheVersionNibble) {
  Buffer bad = tcp_v4();
  bad[0] = 0x55;
  Packet p = run(bad, LinkType::raw);
  EXPECT_EQ(p.anomaly, Anomaly::bad_ip_version);
  EXPECT_FALSE(p.is_ip());
  // A bare-IPv6 link carrying IPv4 is a version mismatch, not IPv4.
  EXPECT_EQ(run(tcp_v4(), LinkType::ipv6).anomaly, Anomaly::bad_ip_version);
  EXPECT_EQ(run(tcp_v6(), LinkType::ipv4).anomaly, Anomaly::bad_ip_version);
  EXPECT_EQ(run({}, LinkType::raw).anomaly, Anomaly::truncated_ip);
}

TEST(Link, UnknownLinkIsNotIp) {
  Packet p = run(tcp_v4(), LinkType::unknown);
  EXPECT_FALSE(p.is_ip());
  EXPECT_EQ(p.anomaly, Anomaly::none);
}

TEST(Link, TypeNumbersAndNames) {
  for (uint32_t n : {0u, 1u, 12u, 14u, 101u, 108u, 113u, 228u, 229u, 276u}) {
    auto t = link_type_from_number(n);
    ASSERT_TRUE(t) << n;
    EXPECT_EQ(uint32_t(*t), n);
  }
  for (uint32_t n : {2u, 100u, 0xffffu, 0x10001u}) EXPECT_FALSE(link_type_from_number(n)) << n;
  EXPECT_EQ(link_type_name(LinkType::linux_sll2), "Linux cooked v2");
  EXPECT_EQ(link_type_name(LinkType::raw_bsd14), "raw IP");
  EXPECT_EQ(link_type_name(LinkType::unknown), "unknown");
}

// --- IPv4 -----------------------------------------------------------------------------

// Flow records print addresses as glibc's inet_ntop does; the writer's own formatting
// must agree with it on every kind of zero run, on embedded IPv4 and on plain IPv4.
TEST(Address, FormatsExactlyAsInetNtop) {
  std::mt19937_64 rng(7);
  auto check = [](uint8_t version, const uint8_t* b) {
    char want[INET6_ADDRSTRLEN], buf[IpAddress::kMaxText];
    ASSERT_TRUE(inet_ntop(version == 4 ? AF_INET : AF_INET6, b, want, sizeof want));
    ASSERT_EQ(IpAddress(version, b).format(buf), std::string_view(want));
  };
  for (int i = 0; i < 200000; ++i) {
    uint8_t b[16];
    for (int w = 0; w < 8; ++w) {  // each group zero, small, 0xffff or random
      uint64_t r = rng();
      unsigned v = r % 4 == 0   ? 0
                   : r % 4 == 1 ? unsigned(r >> 8) % 16
                   : r % 4 == 2 ? 0xffff
                                : unsigned(r >> 16);
      b[2 * w] = uint8_t(v >> 8);
      b[2 * w + 1] = uint8_t(v);
    }
    if (i % 5 == 0) std::memset(b, 0, 10 + (i / 5) % 3);  // ::a.b.c.d, ::ffff:a.b.c.d, near
    check(6, b);
    check(4, b);
  }
  static constexpr uint8_t zero[16] = {},
                           one[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  check(6, zero);
  check(6, one);
}

TEST(Ipv4, HeaderFieldsAndOptions) {
  build::Ip ip = kV4;
  ip.tos = 0xb9;  // DSCP 46, ECN 1
  ip.ttl = 3;
  ip.id = 0xbeef;
  ip.evil = true;
  ip.ipv4_options = {0x94, 0x04, 0x00, 0x00};  // router alert
  build::Tcp t;
  t.payload = {1, 2, 3};
  Buffer pkt = build::tcp_packet(ip, t);
  Packet p = run(pkt, LinkType::ipv4);
  EXPECT_EQ(p.anomaly, Anomaly::none);
  EXPECT_EQ(p.ip.hdr_len, 24);
  EXPECT_EQ(p.ip.length(), 24u + 20 + 3);
  EXPECT_EQ(p.ip.size(), 24u + 20 + 3);
  EXPECT_EQ(p.ip.proto, ipproto::tcp);
  EXPECT_EQ(p.ip.traffic_class(), 0xb9);
  EXPECT_EQ(p.ip.ttl(), 3);
  EXPECT_EQ(p.ip.ipv4_id(), 0xbeef);
  EXPECT_TRUE(p.ip.evil());
  EXPECT_TRUE(p.ip.dont_fragment());
  EXPECT_FALSE(p.ip.fragment);
  EXPECT_EQ(p.ip.flow_label(), 0u);
  EXPECT_EQ(0, std::memcmp(p.ip.src(), "\xc0\x00\x02\x01", 4));
  EXPECT_EQ(0, std::memcmp(p.ip.dst(), "\xc6\x33\x64\x07", 4));
  ASSERT_TRUE(p.tcp);
  EXPECT_EQ(p.tcp.hdr, pkt.data() + 24);
  EXPECT_EQ(p.tcp.payload_caplen(), 3);
}

TEST(Ipv4, BadHeaderLengths) {
  Buffer short_ihl = tcp_v4();
  short_ihl[0] = 0x44;  // 16 bytes
  EXPECT_EQ(run(short_ihl, LinkType::ipv4).anomaly, Anomaly::bad_ihl);
  EXPECT_FALSE(run(short_ihl, LinkType::ipv4).is_ip());

  Buffer past_capture = tcp_v4();
  past_capture.resize(30);
  past_capture[0] = 0x48;  // 32 bytes of header in a 30-byte capture
  EXPECT_EQ(run(past_capture, LinkType::ipv4).anomaly, Anomaly::bad_ihl);

  Buffer total = tcp_v4();
  store_be16(&total[2], 19);  // total length below the header
  Packet p = run(total, LinkType::ipv4);
  EXPECT_EQ(p.anomaly, Anomaly::bad_ip_length);
  EXPECT_TRUE(p.is_ip());
  EXPECT_EQ(p.ip.length(), 19u);

  EXPECT_EQ(run(Buffer(19, 0x45), LinkType::ipv4).anomaly, Anomaly::truncated_ip);
}

TEST(Ipv4, FirstFragmentCarriesTransportLaterOnesDoNot) {
  build::Ip first = kV4;
  first.dont_fragment = false;
  first.more_fragments = true;
  Packet p1;
  Buffer f1 = build::tcp_packet(first, {});
  p1 = run(f1, LinkType::ipv4);
  EXPECT_TRUE(p1.ip.fragment);
  EXPECT_TRUE(p1.ip.has_l4);
  EXPECT_TRUE(p1.tcp);

  for (bool more : {true, false}) {
    build::Ip later = kV4;
    later.dont_fragment = false;
    later.more_fragments = more;
    later.fragment_offset = 185;  // 1480 bytes in
    Buffer f = build::tcp_packet(later, {});
    Packet p = run(f, LinkType::ipv4);
    EXPECT_EQ(p.anomaly, Anomaly::none);
    EXPECT_TRUE(p.ip.fragment);
    EXPECT_FALSE(p.ip.has_l4);
    EXPECT_FALSE(p.tcp);
    EXPECT_TRUE(p.ip.l4().empty());
  }
}

// --- IPv6 -----------------------------------------------------------------------------

const Buffer kHopByHop = {0, 0, 1, 4, 0, 0, 0, 0};             // PadN
const Buffer kRouting = {0, 0, 4, 0, 0, 0, 0, 0};              // type 4, no segments left
const Buffer kFirstFragment = {0, 0, 0x00, 0x01, 0, 0, 0, 7};  // offset 0, M set
const Buffer kDestOptions = {0, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};  // 16 bytes

TEST(Ipv6, HeaderFields) {
  build::Ip ip = kV6;
  ip.tos = 0x2a;
  ip.ttl = 9;
  Buffer pkt = build::tcp_packet(ip, {});
  pkt[1] |= 0x0b;  // flow label 0xb1234
  store_be16(&pkt[2], 0x1234);
  Packet p = run(pkt, LinkType::ipv6);
  EXPECT_EQ(p.ip.traffic_class(), 0x2a);
  EXPECT_EQ(p.ip.flow_label(), 0xb1234u);
  EXPECT_EQ(p.ip.ttl(), 9);
  EXPECT_EQ(p.ip.length(), 60u);
  EXPECT_EQ(p.ip.addr_len(), 16);
  EXPECT_FALSE(p.ip.evil());
  EXPECT_FALSE(p.ip.dont_fragment());
  EXPECT_EQ(p.ip.src()[15], 1);
  EXPECT_EQ(p.ip.dst()[15], 2);
}

TEST(Ipv6, LengthOfAMaximalPayloadLength) {
  Buffer pkt = tcp_v6();
  store_be16(&pkt[4], 0xffff);  // more than was captured
  Packet p = run(pkt, LinkType::ipv6);
  EXPECT_EQ(p.ip.length(), 65535u + 40);
  EXPECT_EQ(p.ip.size(), 60u);  // PATHspider counts captured octets
}

TEST(Ipv6, ExtensionHeadersAreWalked) {
  Buffer pkt = with_ipv6_extensions(tcp_v6(), {{ipproto::hopopts, kHopByHop},
                                               {ipproto::routing, kRouting},
                                               {ipproto::fragment, kFirstFragment},
                                               {ipproto::dstopts, kDestOptions}});
  Packet p = run(pkt, LinkType::ipv6);
  EXPECT_EQ(p.anomaly, Anomaly::none);
  EXPECT_EQ(p.ip.proto, ipproto::tcp);
  EXPECT_EQ(p.ip.hdr_len, 40 + 8 + 8 + 8 + 16);
  EXPECT_EQ(p.ip.length(), pkt.size());
  EXPECT_TRUE(p.ip.fragment);
  EXPECT_TRUE(p.ip.has_l4);
  ASSERT_TRUE(p.tcp);
  EXPECT_EQ(p.tcp.hdr, pkt.data() + 80);
  EXPECT_EQ(p.tcp.sport(), 40000);
}

TEST(Ipv6, AuthenticationHeaderLengthIsInFourByteUnits) {
  Buffer ah(16, 0);
  ah[1] = 2;  // (2 + 2) * 4 = 16 bytes
  Buffer pkt = with_ipv6_extensions(tcp_v6(), {{ipproto::ah, ah}});
  Packet p = run(pkt, LinkType::ipv6);
  EXPECT_EQ(p.ip.hdr_len, 56);
  EXPECT_TRUE(p.tcp);
}

TEST(Ipv6, LaterFragmentHasNoTransport) {
  Buffer later = {0, 0, 0x05, 0xc8, 0, 0, 0, 7};  // offset 185, M clear
  Buffer pkt = with_ipv6_extensions(tcp_v6(), {{ipproto::fragment, later}});
  Packet p = run(pkt, LinkType::ipv6);
  EXPECT_EQ(p.anomaly, Anomaly::none);
  EXPECT_TRUE(p.ip.fragment);
  EXPECT_FALSE(p.ip.has_l4);
  EXPECT_FALSE(p.tcp);
}

TEST(Ipv6, NoNextHeader) {
  Buffer pkt = tcp_v6();
  pkt[6] = ipproto::none;
  Packet p = run(pkt, LinkType::ipv6);
  EXPECT_EQ(p.anomaly, Anomaly::none);
  EXPECT_FALSE(p.ip.has_l4);
  EXPECT_FALSE(p.tcp);
}

TEST(Ipv6, TruncatedExtensionHeaders) {
  Buffer pkt =
      with_ipv6_extensions(tcp_v6(), {{ipproto::hopopts, kHopByHop}, {ipproto::routing, kRouting}});
  Buffer cut(pkt.begin(), pkt.begin() + 52);  // inside the routing header
  Packet p = run(cut, LinkType::ipv6);
  EXPECT_EQ(p.anomaly, Anomaly::truncated_ext_header);
  EXPECT_TRUE(p.is_ip());
  EXPECT_FALSE(p.ip.has_l4);
  EXPECT_EQ(p.ip.proto, ipproto::routing);
  EXPECT_EQ(p.ip.hdr_len, 48);

  Buffer long_hbh = kHopByHop;
  long_hbh[1] = 10;  // claims 88 bytes
  Buffer overlong = with_ipv6_extensions(tcp_v6(), {{ipproto::hopopts, long_hbh}});
  Packet q = run(overlong, LinkType::ipv6);
  EXPECT_EQ(q.anomaly, Anomaly::truncated_ext_header);
  EXPECT_EQ(q.ip.proto, ipproto::hopopts);
  EXPECT_FALSE(q.tcp);
}

// --- TCP ------------------------------------------------------------------------------

TEST(Tcp, EveryHeaderField) {
  build::Tcp t;
  t.sport = 1234;
  t.dport = 443;
  t.seq = 0xdeadbeef;
  t.ack = 0x01020304;
  t.flags = 0xff;
  t.ns = true;
  t.window = 0x1234;
  t.urgent = 0x0042;
  t.options = build::opt::mss(1400);
  t.payload = {'h', 'i'};
  Buffer pkt = build::tcp_packet(kV4, t);
  Packet p = run(pkt, LinkType::ipv4);
  EXPECT_EQ(p.anomaly, Anomaly::none);
  ASSERT_TRUE(p.tcp);
  const TcpView& v = p.tcp;
  EXPECT_EQ(v.sport(), 1234);
  EXPECT_EQ(v.dport(), 443);
  EXPECT_EQ(v.seq(), 0xdeadbeefu);
  EXPECT_EQ(v.ack_nbr(), 0x01020304u);
  EXPECT_EQ(v.doff(), 6);
  EXPECT_EQ(v.hdr_len(), 24u);
  EXPECT_TRUE(v.ns());
  EXPECT_EQ(v.reserved(), 0);
  EXPECT_EQ(v.flags(), 0xff);
  EXPECT_EQ(v.window(), 0x1234);
  EXPECT_EQ(v.urgent_pointer(), 0x42);
  EXPECT_EQ(v.checksum(), load_be16(&pkt[20 + 16]));
  EXPECT_EQ(transport_checksum_sum(p.ip, p.ip.l4()), 0xffff);
  EXPECT_EQ(v.options().size, 4u);
  EXPECT_TRUE(p.tcp_options.seen_mss);
  EXPECT_EQ(load_be16(p.tcp_options.mss.data), 1400);
  EXPECT_TRUE(v.has_payload());
  EXPECT_EQ(v.payload_caplen(), 2);
  EXPECT_EQ(v.payload()[0], 'h');
}

TEST(Tcp, EachFlagOnItsOwn) {
  struct Flag {
    uint8_t bit;
    bool syn, ack, fin, rst;
  };
  const Flag flags[] = {
      {tcpflag::fin, false, false, true, false},  {tcpflag::syn, true, false, false, false},
      {tcpflag::rst, false, false, false, true},  {tcpflag::psh, false, false, false, false},
      {tcpflag::ack, false, true, false, false},  {tcpflag::urg, false, false, false, false},
      {tcpflag::ece, false, false, false, false}, {tcpflag::cwr, false, false, false, false}};
  for (const Flag& f : flags) {
    build::Tcp t;
    t.flags = f.bit;
    Buffer pkt = build::tcp_packet(kV6, t);
    Packet p = run(pkt, LinkType::ipv6);
    ASSERT_TRUE(p.tcp);
    EXPECT_EQ(p.tcp.flags(), f.bit);
    EXPECT_EQ(pkt[40 + 13], f.bit);
    EXPECT_EQ(p.tcp.syn(), f.syn);
    EXPECT_EQ(p.tcp.ack(), f.ack);
    EXPECT_EQ(p.tcp.fin(), f.fin);
    EXPECT_EQ(p.tcp.rst(), f.rst);
    EXPECT_FALSE(p.tcp.ns());
    EXPECT_EQ(transport_checksum_sum(p.ip, p.ip.l4()), 0xffff);
  }
}

TEST(Tcp, ReservedBitsAndNsShareByteTwelve) {
  Buffer pkt = tcp_v4();
  pkt[20 + 12] = 0x5f;  // doff 5, reserved 7, NS
  Packet p = run(pkt, LinkType::ipv4);
  EXPECT_EQ(p.tcp.doff(), 5);
  EXPECT_EQ(p.tcp.reserved(), 7);
  EXPECT_TRUE(p.tcp.ns());
}

TEST(Tcp, BrokenHeaders) {
  build::Tcp low;
  low.doff_override = 4;
  Packet p = run(build::tcp_packet(kV4, low), LinkType::ipv4);
  EXPECT_EQ(p.anomaly, Anomaly::bad_tcp_doff);
  EXPECT_FALSE(p.tcp);

  build::Tcp high;
  high.doff_override = 15;  // 60 bytes of header, 20 captured
  Buffer pkt = build::tcp_packet(kV4, high);
  Packet q = run(pkt, LinkType::ipv4);
  EXPECT_EQ(q.anomaly, Anomaly::truncated_l4);
  ASSERT_TRUE(q.tcp);
  EXPECT_EQ(q.tcp.payload_caplen(), -40);
  EXPECT_FALSE(q.tcp.has_payload());
  EXPECT_TRUE(q.tcp.options().empty());

  build::Tcp zero_len;
  zero_len.options = {2, 0, 0, 0};
  EXPECT_EQ(run(build::tcp_packet(kV4, zero_len), LinkType::ipv4).anomaly,
            Anomaly::bad_tcp_options);

  Buffer short_tcp = tcp_v4();
  short_tcp.resize(20 + 19);
  EXPECT_EQ(run(short_tcp, LinkType::ipv4).anomaly, Anomaly::truncated_l4);
  EXPECT_FALSE(run(short_tcp, LinkType::ipv4).tcp);
}

TEST(Tcp, LinkPaddingCountsAsPayload) {
  // Ethernet pads a 40-byte IPv4 packet to 46 bytes; libtrace reports the padding.
  Buffer f = build::frame(LinkType::ethernet, tcp_v4());
  f.resize(f.size() + 6, 0);
  Packet p = run(f, LinkType::ethernet);
  EXPECT_EQ(p.tcp.payload_caplen(), 6);
  EXPECT_EQ(p.ip.length(), 40u);
  EXPECT_EQ(p.ip.size(), 46u);
}

TEST(Tcp, PacketIsResetBetweenDissections) {
  Buffer tcp = tcp_v4();
  Buffer udp = build::udp_packet(kV4, {});
  Packet p;
  dissect(Frame{tcp.data(), uint32_t(tcp.size()), uint32_t(tcp.size()), 0, LinkType::raw}, p);
  ASSERT_TRUE(p.tcp);
  dissect(Frame{udp.data(), uint32_t(udp.size()), uint32_t(udp.size()), 0, LinkType::raw}, p);
  EXPECT_FALSE(p.tcp);
  EXPECT_TRUE(p.udp);
  EXPECT_FALSE(p.tcp_options.seen_mss);
}

// --- UDP ------------------------------------------------------------------------------

TEST(Udp, HeaderAndPayload) {
  build::Udp u;
  u.sport = 5353;
  u.dport = 53;
  u.payload = {0xaa, 0xbb, 0xcc};
  Buffer pkt = build::udp_packet(kV6, u);
  Packet p = run(pkt, LinkType::raw);
  EXPECT_EQ(p.anomaly, Anomaly::none);
  ASSERT_TRUE(p.udp);
  EXPECT_FALSE(p.tcp);
  EXPECT_EQ(p.udp.sport(), 5353);
  EXPECT_EQ(p.udp.dport(), 53);
  EXPECT_EQ(p.udp.length(), 11);
  EXPECT_EQ(transport_checksum_sum(p.ip, p.ip.l4()), 0xffff);
  ASSERT_EQ(p.udp.payload().size, 3u);
  EXPECT_EQ(p.udp.payload()[2], 0xcc);

  u.zero_checksum = true;
  Buffer zero = build::udp_packet(kV4, u);
  EXPECT_EQ(run(zero, LinkType::raw).udp.checksum(), 0);
}

TEST(Udp, TruncatedHeader) {
  Buffer pkt = build::udp_packet(kV4, {});
  pkt.resize(20 + 7);
  Packet p = run(pkt, LinkType::raw);
  EXPECT_EQ(p.anomaly, Anomaly::truncated_l4);
  EXPECT_FALSE(p.udp);
}

// --- ICMP -----------------------------------------------------------------------------

TEST(Icmp, V4UnreachableQuotesAUdpPacket) {
  build::Udp u;
  u.sport = 33434;
  u.dport = 53;
  u.payload = {1, 2, 3, 4};
  Buffer original = build::udp_packet(kV4, u);
  Buffer pkt =
      build::icmp_packet({"203.0.113.1", "192.0.2.1"}, icmptype::v4_unreachable, 3, original);
  Packet p = run(pkt, LinkType::ipv4);
  EXPECT_EQ(p.anomaly, Anomaly::none);
  ASSERT_TRUE(p.icmp);
  EXPECT_EQ(p.icmp.version, 4);
  EXPECT_EQ(p.icmp.type(), 3);
  EXPECT_EQ(p.icmp.code(), 3);
  EXPECT_EQ(p.icmp.rest_of_header(), 0u);
  EXPECT_TRUE(p.icmp.is_error());
  ASSERT_TRUE(p.icmp.quote);
  EXPECT_EQ(p.icmp.quote.hdr, pkt.data() + 28);
  EXPECT_EQ(p.icmp.quote.version, 4);
  EXPECT_EQ(p.icmp.quote.proto, ipproto::udp);
  EXPECT_EQ(0, std::memcmp(p.icmp.quote.src(), original.data() + 12, 8));
  TcpView tcp;
  UdpView udp;
  IcmpView icmp;
  EXPECT_EQ(dissect_transport(p.icmp.quote, tcp, udp, icmp), Anomaly::none);
  ASSERT_TRUE(udp);
  EXPECT_EQ(udp.sport(), 33434);
  EXPECT_EQ(udp.dport(), 53);
  EXPECT_EQ(udp.length(), 12);
}

TEST(Icmp, V4TimeExceededQuotingEightBytesOfTcp) {
  Buffer original = tcp_v4();
  original.resize(28);  // RFC 792: the IP header and 64 bits of data
  Buffer pkt =
      build::icmp_packet({"203.0.113.1", "192.0.2.1"}, icmptype::v4_time_exceeded, 0, original);
  Packet p = run(pkt, LinkType::ipv4);
  EXPECT_EQ(p.anomaly, Anomaly::none);
  ASSERT_TRUE(p.icmp.quote);
  EXPECT_EQ(p.icmp.quote.proto, ipproto::tcp);
  TcpView tcp;
  UdpView udp;
  IcmpView icmp;
  EXPECT_EQ(dissect_transport(p.icmp.quote, tcp, udp, icmp), Anomaly::truncated_l4);
  EXPECT_FALSE(tcp);
  EXPECT_EQ(load_be16(p.icmp.quote.l4().data), 40000);  // the quoted ports are still there
}

TEST(Icmp, V6PacketTooBigQuotesATcpPacket) {
  build::Tcp t;
  t.sport = 50000;
  t.dport = 443;
  t.seq = 77;
  Buffer original = build::tcp_packet(kV6, t);
  Buffer pkt =
      build::icmp_packet({"2001:db8::ff", "2001:db8::1"}, icmptype::v6_packet_too_big, 0, original);
  Packet p = run(pkt, LinkType::ipv6);
  EXPECT_EQ(p.anomaly, Anomaly::none);
  ASSERT_TRUE(p.icmp);
  EXPECT_EQ(p.icmp.version, 6);
  EXPECT_EQ(p.icmp.type(), 2);
  EXPECT_TRUE(p.icmp.is_error());
  EXPECT_EQ(transport_checksum_sum(p.ip, p.ip.l4()), 0xffff);
  ASSERT_TRUE(p.icmp.quote);
  EXPECT_EQ(p.icmp.quote.version, 6);
  EXPECT_EQ(p.icmp.quote.proto, ipproto::tcp);
  TcpView tcp;
  UdpView udp;
  IcmpView icmp;
  EXPECT_EQ(dissect_transport(p.icmp.quote, tcp, udp, icmp), Anomaly::none);
  ASSERT_TRUE(tcp);
  EXPECT_EQ(tcp.sport(), 50000);
  EXPECT_EQ(tcp.dport(), 443);
  EXPECT_EQ(tcp.seq(), 77u);
}

TEST(Icmp, EchoHasNoQuotation) {
  Buffer v4 = build::icmp_packet(kV4, icmptype::v4_echo, 0, {0, 1, 0, 2, 'p', 'i', 'n', 'g'});
  Packet p = run(v4, LinkType::ipv4);
  ASSERT_TRUE(p.icmp);
  EXPECT_FALSE(p.icmp.is_error());
  EXPECT_FALSE(p.icmp.quote);
  EXPECT_EQ(p.icmp.body().size, 8u);

  Buffer v6 = build::icmp_packet(kV6, icmptype::v6_echo_reply, 0, {});
  Packet q = run(v6, LinkType::ipv6);
  ASSERT_TRUE(q.icmp);
  EXPECT_EQ(q.icmp.type(), 129);
  EXPECT_FALSE(q.icmp.is_error());
  EXPECT_FALSE(q.icmp.quote);
}

TEST(Icmp, ShortOrBrokenQuotations) {
  // Fewer bytes than an IP header: PATHspider ignores the quotation, no anomaly.
  Buffer stub = build::icmp_packet(kV4, icmptype::v4_unreachable, 1, Buffer(19, 0x45));
  Packet p = run(stub, LinkType::ipv4);
  EXPECT_EQ(p.anomaly, Anomaly::none);
  EXPECT_FALSE(p.icmp.quote);

  Buffer bad = tcp_v4();
  bad[0] = 0x4f;  // 60-byte header in a 40-byte quote
  Packet q = run(build::icmp_packet(kV4, icmptype::v4_unreachable, 1, bad), LinkType::ipv4);
  EXPECT_EQ(q.anomaly, Anomaly::truncated_icmp_quote);
  EXPECT_TRUE(q.icmp);
  EXPECT_FALSE(q.icmp.quote);

  Buffer cut = build::icmp_packet(kV4, icmptype::v4_echo, 0, {});
  cut.resize(20 + 7);
  EXPECT_EQ(run(cut, LinkType::ipv4).anomaly, Anomaly::truncated_l4);
}

TEST(Icmp, OtherFamilysIcmpIsIgnored) {
  Buffer pkt = build::icmp_packet(kV6, icmptype::v6_unreachable, 0, tcp_v6());
  pkt[6] = ipproto::icmp;  // ICMPv4 inside IPv6
  Packet p = run(pkt, LinkType::ipv6);
  EXPECT_EQ(p.anomaly, Anomaly::none);
  EXPECT_FALSE(p.icmp);
}

// --- Every truncation -----------------------------------------------------------------

struct Sample {
  std::string name;
  LinkType link;
  Buffer frame;
  uint32_t headers_end;  // link, IP, extensions and transport header (with options)
};

std::vector<Sample> samples() {
  build::Tcp syn;
  syn.options = build::opt::cat({build::opt::mss(1460), build::opt::sack_permitted(),
                                 build::opt::timestamps(1, 0), build::opt::nop(),
                                 build::opt::window_scale(7)});
  syn.payload = {1, 2, 3, 4, 5};
  build::Ip v4opts = kV4;
  v4opts.ipv4_options = {0x94, 0x04, 0, 0};
  build::Udp dns;
  dns.payload = Buffer(12, 0);
  Buffer v6ext =
      with_ipv6_extensions(build::tcp_packet(kV6, syn), {{ipproto::hopopts, kHopByHop},
                                                         {ipproto::fragment, kFirstFragment},
                                                         {ipproto::dstopts, kDestOptions}});
  return {
      {"ethernet_ipv4_options_tcp_syn", LinkType::ethernet,
       build::frame(LinkType::ethernet, build::tcp_packet(v4opts, syn)), 14 + 24 + 40},
      {"qinq_ipv6_extensions_tcp", LinkType::ethernet, build::frame(LinkType::ethernet, v6ext, 2),
       22 + 40 + 32 + 40},
      {"sll_ipv4_udp", LinkType::linux_sll,
       build::frame(LinkType::linux_sll, build::udp_packet(kV4, dns)), 16 + 20 + 8},
      {"sll2_ipv6_udp", LinkType::linux_sll2,
       build::frame(LinkType::linux_sll2, build::udp_packet(kV6, dns)), 20 + 40 + 8},
      {"raw_icmpv4_error", LinkType::raw,
       build::icmp_packet(kV4, icmptype::v4_time_exceeded, 0, build::tcp_packet(kV4, syn)), 20 + 8},
      {"null_icmpv6_error", LinkType::null_bsd,
       build::frame(LinkType::null_bsd, build::icmp_packet(kV6, icmptype::v6_unreachable, 4,
                                                           build::udp_packet(kV6, dns))),
       4 + 40 + 8},
  };
}

TEST(Truncation, EveryLengthOfEverySample) {
  for (const Sample& s : samples()) {
    Packet whole = run(s.frame, s.link);
    ASSERT_EQ(whole.anomaly, Anomaly::none) << s.name;
    ASSERT_TRUE(whole.tcp || whole.udp || whole.icmp) << s.name;
    for (size_t len = 0; len <= s.frame.size(); ++len) {
      // A buffer of exactly `len` bytes, so any over-read is a heap overflow.
      Buffer cut(s.frame.begin(), s.frame.begin() + len);
      Packet p = run(cut, s.link);
      if (len < s.headers_end) {
        EXPECT_NE(p.anomaly, Anomaly::none) << s.name << " cut at " << len;
      } else {
        EXPECT_EQ(p.anomaly, Anomaly::none) << s.name << " cut at " << len;
        EXPECT_EQ(bool(p.tcp), bool(whole.tcp)) << s.name << " cut at " << len;
        EXPECT_EQ(bool(p.udp), bool(whole.udp)) << s.name << " cut at " << len;
        EXPECT_EQ(bool(p.icmp), bool(whole.icmp)) << s.name << " cut at " << len;
      }
    }
  }
}

}  // namespace
}  // namespace pspdr
