// The builder against the dissector: every option kind (each alternative of
// TcpOptionFields) built, walked and decoded gives back its fields, and whole packets
// built with many options dissect to the header fields given, with checksums that
// verify (summed here independently of the builder's code).
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "shared/builder.hpp"
#include "shared/packet.hpp"
#include "shared/tcp_option_fields.hpp"

namespace pspdr {
namespace {

using build::Buffer;
using namespace tcpopt;

// Byte fields are views: the samples' bytes live here for the whole test.
const Buffer kSackEdges = {0, 0, 0, 1, 0, 0, 0, 9, 0xff, 0, 0, 0, 0xff, 0, 0x10, 0};
const Buffer kDigest = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
const Buffer kMac = {0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66};
const Buffer kCookie = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4};
const Buffer kHmac20 = Buffer(20, 0x5a);
const Buffer kIds = {1, 2, 7};
const Buffer kUnknownMp = {0x8f, 1, 2, 3};
const Buffer kRaw = {9, 8, 7};
const uint8_t kV4[4] = {192, 0, 2, 7};
const uint8_t kV6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

Bytes view(const Buffer& b) {
  return {b.data(), uint32_t(b.size())};
}

// One option of every alternative, and the variants within kinds whose layout depends
// on their fields (MP_CAPABLE and DSS lengths, ADD_ADDR with and without a port).
std::vector<TcpOptionFields> samples() {
  return {
      {eol, Eol{}},
      {nop, Nop{}},
      {mss, Mss{1460}},
      {ws, WindowScale{14}},
      {sack_permitted, SackPermitted{}},
      {sack, Sack{view(kSackEdges)}},
      {echo, Echo{0x01020304}},
      {echo_reply, EchoReply{0xfffefdfc}},
      {timestamps, Timestamps{123456789, 987654321}},
      {poc_permitted, PocPermitted{}},
      {poc_service, PocServiceProfile{true, false}},
      {cc, Cc{7}},
      {cc_new, CcNew{8}},
      {cc_echo, CcEcho{9}},
      {alt_checksum_request, AltChecksumRequest{2}},
      {alt_checksum_data, AltChecksumData{view(kRaw)}},
      {md5, Md5Signature{view(kDigest)}},
      {quick_start, QuickStart{3, 9, 64, 0x3ffffffe}},
      {user_timeout, UserTimeout{true, 0x1234}},
      {tcp_ao, TcpAo{5, 6, view(kMac)}},
      {fast_open, FastOpen{view(kCookie)}},
      {fast_open, FastOpen{}},
      {exp_a, Experimental{exid_fast_open, view(kCookie)}},
      {exp_a, Experimental{0x1234, {}}},
      {253, Experimental{0xabcd, view(kRaw)}},
      {99, Raw{view(kRaw)}},
      {mptcp, MpCapable{1, 0x81, std::nullopt, std::nullopt, std::nullopt, std::nullopt}},
      {mptcp, MpCapable{0, 0x01, 0x1122334455667788, std::nullopt, std::nullopt, std::nullopt}},
      {mptcp, MpCapable{0, 0x01, 1, 2, std::nullopt, std::nullopt}},
      {mptcp, MpCapable{1, 0x81, 1, 2, 1400, std::nullopt}},
      {mptcp, MpCapable{1, 0x81, 1, 2, 1400, 0xbeef}},
      {mptcp, MpJoinSyn{true, 3, 0xcafebabe, 0x01020304}},
      {mptcp, MpJoinSynAck{false, 4, 0x0102030405060708, 0x0a0b0c0d}},
      {mptcp, MpJoinAck{view(kHmac20)}},
      {mptcp, MpDss{0x01, false, 0x11223344, std::nullopt}},
      {mptcp, MpDss{0x03, false, 0x1122334455667788, std::nullopt}},
      {mptcp, MpDss{0x1d, true, 5, MpDssMapping{0x99, 7, 1000, std::nullopt}}},
      {mptcp, MpDss{0x0c, false, std::nullopt, MpDssMapping{0x1122334455667788, 7, 1000, 0xabcd}}},
      {mptcp, MpAddAddr{2, IpAddress(4, kV4), std::nullopt}},
      {mptcp, MpAddAddr{2, IpAddress(4, kV4), 8080}},
      {mptcp, MpAddAddr{3, IpAddress(6, kV6), std::nullopt}},
      {mptcp, MpAddAddr{3, IpAddress(6, kV6), 443}},
      {mptcp, MpRemoveAddr{view(kIds)}},
      {mptcp, MpPrio{true, std::nullopt}},
      {mptcp, MpPrio{false, 9}},
      {mptcp, MpFail{0x0102030405060708}},
      {mptcp, MpFastclose{0x8877665544332211}},
      {mptcp, MpUnknown{8, view(kUnknownMp)}},
  };
}

// Builds, walks and decodes one option.
TcpOptionFields round_trip(const Buffer& wire) {
  TcpOptionWalker walker(view(wire));
  TcpOption option;
  EXPECT_TRUE(walker.next(option));
  EXPECT_EQ(walker.problem(), Anomaly::none) << walker.problem_detail();
  EXPECT_EQ(option.offset, 0);
  return decode_tcp_option(option);
}

TEST(Builder, EveryOptionKindRoundTrips) {
  std::set<size_t> alternatives;
  for (const TcpOptionFields& sample : samples()) {
    Buffer wire = build::opt::encode(sample);
    SCOPED_TRACE(testing::Message() << "kind " << int(sample.kind) << ", alternative "
                                    << sample.fields.index() << ", " << wire.size() << " bytes");
    alternatives.insert(sample.fields.index());
    TcpOptionFields back = round_trip(wire);
    EXPECT_EQ(back.malformed, nullptr) << back.malformed;
    EXPECT_EQ(back.kind, sample.kind);
    // The same alternative, whose bytes build again to the same wire: the decoder read
    // every field the builder wrote, and nothing else.
    EXPECT_EQ(back.fields.index(), sample.fields.index());
    EXPECT_EQ(build::opt::encode(back), wire);
  }
  EXPECT_EQ(alternatives.size(), std::variant_size_v<decltype(TcpOptionFields::fields)>)
      << "a TcpOptionFields alternative has no sample";
}

TEST(Builder, FieldsSurviveTheRoundTrip) {
  // The round trip above compares bytes; here a few fields by value, for the layouts
  // most easily got wrong (sub-byte fields and optional parts).
  Buffer qs = build::opt::encode({quick_start, QuickStart{3, 9, 64, 0x3ffffffe}});
  EXPECT_EQ(qs, (Buffer{27, 8, 0x39, 64, 0xff, 0xff, 0xff, 0xf8}));
  auto q = std::get<QuickStart>(round_trip(qs).fields);
  EXPECT_EQ(q.function, 3);
  EXPECT_EQ(q.rate_request, 9);
  EXPECT_EQ(q.nonce, 0x3ffffffeu);
  Buffer uto = build::opt::encode({user_timeout, UserTimeout{true, 0x1234}});
  EXPECT_EQ(uto, (Buffer{28, 4, 0x92, 0x34}));
  Buffer dss = build::opt::encode(
      {mptcp, MpDss{0x0c, false, std::nullopt, MpDssMapping{0x1122334455667788, 7, 1000, 0xabcd}}});
  EXPECT_EQ(dss.size(), 4u + 8 + 4 + 2 + 2);
  auto d = std::get<MpDss>(round_trip(dss).fields);
  ASSERT_TRUE(d.mapping);
  EXPECT_EQ(d.mapping->dsn, 0x1122334455667788u);
  EXPECT_EQ(d.mapping->checksum, 0xabcd);
  Buffer add = build::opt::encode({mptcp, MpAddAddr{3, IpAddress(6, kV6), 443}});
  EXPECT_EQ(add.size(), 4u + 16 + 2);
  auto a = std::get<MpAddAddr>(round_trip(add).fields);
  EXPECT_EQ(a.address.version(), 6);
  EXPECT_EQ(a.port, 443);
}

// The one's complement sum of 16-bit words, as RFC 1071 defines it.
uint32_t ones_sum(const uint8_t* p, size_t n, uint32_t acc = 0) {
  for (size_t i = 0; i < n; i += 2) acc += uint32_t(p[i]) << 8 | (i + 1 < n ? p[i + 1] : 0);
  return acc;
}
bool sums_to_ffff(uint32_t acc) {
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >> 16);
  return acc == 0xffff;
}

TEST(Builder, WholePacketsDissectToTheirFieldsWithValidChecksums) {
  Buffer options = build::opt::cat({build::opt::mss(1400), build::opt::nop(),
                                    build::opt::window_scale(7), build::opt::sack_permitted(),
                                    build::opt::timestamps(1, 2), build::opt::fast_open(kCookie)});
  for (const char* family : {"4", "6"}) {
    SCOPED_TRACE(family);
    build::Ip ip = family[0] == '4' ? build::Ip{.src = "192.0.2.1", .dst = "198.51.100.2"}
                                    : build::Ip{.src = "2001:db8::1", .dst = "2001:db8::2"};
    build::Tcp tcp{.sport = 40001,
                   .dport = 443,
                   .seq = 0xfffffff0,
                   .ack = 77,
                   .flags = tcpflag::syn | tcpflag::ece | tcpflag::cwr | tcpflag::urg,
                   .ns = true,
                   .window = 1234,
                   .urgent = 5,
                   .options = options,
                   .payload = {1, 2, 3}};
    Buffer packet = build::tcp_packet(ip, tcp);
    Buffer frame = build::frame(LinkType::ethernet, packet);
    Packet p;
    dissect(Frame{frame.data(), uint32_t(frame.size()), uint32_t(frame.size()), 1.0,
                  LinkType::ethernet},
            p);
    ASSERT_TRUE(p.tcp);
    EXPECT_EQ(p.anomaly, Anomaly::none);
    EXPECT_EQ(p.tcp.sport(), 40001);
    EXPECT_EQ(p.tcp.dport(), 443);
    EXPECT_EQ(p.tcp.seq(), 0xfffffff0u);
    EXPECT_EQ(p.tcp.ack_nbr(), 77u);
    EXPECT_TRUE(p.tcp.ns());
    EXPECT_EQ(p.tcp.flags(), tcpflag::syn | tcpflag::ece | tcpflag::cwr | tcpflag::urg);
    EXPECT_EQ(p.tcp.window(), 1234);
    EXPECT_EQ(p.tcp.urgent_pointer(), 5);
    EXPECT_EQ(p.tcp.hdr_len(), 20 + 32u);  // 30 option bytes padded to 32
    EXPECT_EQ(p.tcp.payload_caplen(), 3);
    EXPECT_EQ(load_be16(p.tcp_options.mss.data), 1400);
    EXPECT_TRUE(p.tcp_options.seen_fast_open);

    // Checksums: the IPv4 header sums to all ones; so does TCP with its pseudo-header.
    const uint8_t* l3 = p.ip.hdr;
    uint32_t tcp_len = uint32_t(packet.size()) - p.ip.hdr_len;
    uint32_t pseudo = ones_sum(p.ip.src(), p.ip.addr_len(), ones_sum(p.ip.dst(), p.ip.addr_len())) +
                      ipproto::tcp + tcp_len;
    if (p.ip.v4()) {
      EXPECT_TRUE(sums_to_ffff(ones_sum(l3, 20)));
    }
    EXPECT_TRUE(sums_to_ffff(ones_sum(p.tcp.hdr, tcp_len, pseudo)));
  }
}

}  // namespace
// A UDP options area (RFC 9868): after the UDP length, inside the IP length; the UDP
// checksum covers the datagram only, the option checksum the area with its length.
TEST(Builder, UdpOptionsAreaAfterTheDatagram) {
  for (size_t query : {12u, 13u}) {  // an odd UDP length puts a zero byte before the OCS
    SCOPED_TRACE(query);
    Buffer payload(query, 0x5a);
    Buffer area = build::udp_options(uint16_t(8 + query), {1, 1, 0});
    build::Ip ip{.src = "192.0.2.1", .dst = "198.51.100.2"};
    Buffer packet = build::udp_packet(ip, {.payload = payload, .surplus = area});
    Packet p;
    Buffer frame = build::frame(LinkType::ethernet, packet);
    dissect(Frame{frame.data(), uint32_t(frame.size()), uint32_t(frame.size()), 1.0,
                  LinkType::ethernet},
            p);
    ASSERT_TRUE(p.udp);
    EXPECT_EQ(p.udp.length(), 8 + query);
    EXPECT_EQ(p.ip.length(), 20 + 8 + query + area.size());
    EXPECT_EQ(area.size(), (query % 2) + 2 + 3u);
    uint32_t pseudo = ones_sum(p.ip.src(), 4, ones_sum(p.ip.dst(), 4)) + ipproto::udp + 8 + query;
    EXPECT_TRUE(sums_to_ffff(ones_sum(p.udp.hdr, 8 + query, pseudo)));
    size_t ocs = query % 2;
    uint8_t len[2] = {0, uint8_t(area.size() - ocs)};
    EXPECT_TRUE(sums_to_ffff(ones_sum(area.data() + ocs, area.size() - ocs, ones_sum(len, 2))));
    EXPECT_EQ(Buffer(area.end() - 3, area.end()), (Buffer{1, 1, 0}));
  }
}

// A retargeted template is byte for byte the SYN built afresh for the new destination,
// port and sequence number: the forge sends one and the other alike.
TEST(Builder, RetargetedSynEqualsOneBuiltForItsProbe) {
  struct Case {
    const char *src, *dst, *next;
    std::vector<uint8_t> next_bytes;
  };
  const Case cases[] = {{"10.201.0.2", "10.1.0.7", "10.1.200.9", {10, 1, 200, 9}},
                        {"fd20:1::2",
                         "fd30::7",
                         "fd30::1:9",
                         {0xfd, 0x30, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 9}}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.next);
    build::Tcp syn{.sport = 0,
                   .dport = 80,
                   .seq = 0,
                   .flags = 0xc2,
                   .window = 65535,
                   .options = build::opt::cat({build::opt::mss(1460), build::opt::fast_open({})})};
    Buffer packet = build::tcp_packet({.src = c.src, .dst = c.dst, .tos = 0xb8}, syn);
    build::retarget(packet, c.next_bytes, 40123, 0x89abcdef);
    syn.sport = 40123;
    syn.seq = 0x89abcdef;
    EXPECT_EQ(packet, build::tcp_packet({.src = c.src, .dst = c.next, .tos = 0xb8}, syn));
  }
}

}  // namespace pspdr
