// option_trace FILE: writes a pcap of TCP SYNs (IPv4 and IPv6) that together carry
// every option kind of the pcapkit seed, every MPTCP subtype in each of its layouts,
// unknown and experimental kinds, and malformed option lists of every sort -- all made
// with the builder. tests/dissect_tshark_test.py dissects it with pspdr and tshark.
#include <cstdio>
#include <exception>
#include <vector>

#include "shared/builder.hpp"
#include "shared/pcap_writer.hpp"

using namespace pspdr;
using namespace pspdr::tcpopt;
using build::Buffer;
using build::opt::encode;

namespace {

const Buffer kSack = {0, 0, 0, 1, 0, 0, 0, 9, 0, 0, 0x10, 0, 0, 0, 0x20, 0};
const Buffer kDigest = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
const Buffer kMac = {0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66};
const Buffer kCookie = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4};
const Buffer kHmac = Buffer(20, 0x5a);
const Buffer kIds = {1, 2, 7};
const Buffer kData = {9, 8, 7};
const Buffer kUnknownMp = {0x8f, 1, 2, 3};  // from the subtype byte: subtype 8
const uint8_t kV4[4] = {192, 0, 2, 7};
const uint8_t kV6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

Bytes view(const Buffer& b) {
  return {b.data(), uint32_t(b.size())};
}

// Each list fits a TCP header's 40 option bytes.
std::vector<Buffer> option_lists() {
  auto enc = [](std::initializer_list<TcpOptionFields> options) {
    Buffer b;
    for (const TcpOptionFields& o : options) {
      Buffer one = encode(o);
      b.insert(b.end(), one.begin(), one.end());
    }
    return b;
  };
  return {
      enc({{mss, Mss{1460}},
           {nop, Nop{}},
           {ws, WindowScale{7}},
           {sack_permitted, SackPermitted{}},
           {timestamps, Timestamps{123456789, 987654321}},
           {eol, Eol{}}}),
      enc({{nop, Nop{}}, {nop, Nop{}}, {sack, Sack{view(kSack)}}}),
      enc({{echo, Echo{0x01020304}}, {echo_reply, EchoReply{0xfffefdfc}}}),
      enc({{poc_permitted, PocPermitted{}},
           {poc_service, PocServiceProfile{true, false}},
           {cc, Cc{7}},
           {cc_new, CcNew{8}},
           {cc_echo, CcEcho{9}}}),
      enc({{alt_checksum_request, AltChecksumRequest{2}},
           {alt_checksum_data, AltChecksumData{view(kData)}}}),
      enc({{md5, Md5Signature{view(kDigest)}}}),
      enc({{quick_start, QuickStart{0, 9, 64, 0x3ffffffe}},
           {user_timeout, UserTimeout{true, 300}},
           {user_timeout, UserTimeout{false, 30}}}),
      enc({{tcp_ao, TcpAo{5, 6, view(kMac)}}}),
      enc({{fast_open, FastOpen{view(kCookie)}}, {fast_open, FastOpen{}}}),
      enc({{exp_a, Experimental{exid_fast_open, view(kCookie)}},
           {exp_b, Raw{view(kData)}},
           {253, Experimental{0xabcd, view(kData)}}}),
      enc({{99, Raw{view(kData)}}, {200, Raw{}}}),
      enc({{mptcp, MpCapable{0, 0x81, std::nullopt, std::nullopt, std::nullopt, std::nullopt}},
           {mptcp,
            MpCapable{0, 0x01, 0x1122334455667788, std::nullopt, std::nullopt, std::nullopt}},
           {mptcp, MpCapable{0, 0x01, 1, 2, std::nullopt, std::nullopt}}}),
      enc({{mptcp, MpCapable{1, 0x81, 1, 2, 1400, std::nullopt}}}),
      enc({{mptcp, MpCapable{1, 0x81, 1, 2, 1400, 0xbeef}}}),
      enc({{mptcp, MpJoinSyn{true, 3, 0xcafebabe, 0x01020304}},
           {mptcp, MpJoinSynAck{false, 4, 0x0102030405060708, 0x0a0b0c0d}}}),
      enc({{mptcp, MpJoinAck{view(kHmac)}}}),
      enc({{mptcp, MpDss{0x01, false, 0x11223344, std::nullopt}},
           {mptcp, MpDss{0x03, false, 0x1122334455667788, std::nullopt}}}),
      enc({{mptcp, MpDss{0x1d, true, 5, MpDssMapping{0x99, 7, 1000, std::nullopt}}}}),
      enc({{mptcp,
            MpDss{0x0c, false, std::nullopt, MpDssMapping{0x1122334455667788, 7, 1000, 0xabcd}}}}),
      enc({{mptcp, MpAddAddr{2, IpAddress(4, kV4), std::nullopt}},
           {mptcp, MpAddAddr{2, IpAddress(4, kV4), 8080}}}),
      enc({{mptcp, MpAddAddr{3, IpAddress(6, kV6), std::nullopt}}}),
      enc({{mptcp, MpAddAddr{3, IpAddress(6, kV6), 443}}}),
      enc({{mptcp, MpRemoveAddr{view(kIds)}},
           {mptcp, MpPrio{true, std::nullopt}},
           {mptcp, MpPrio{false, 9}},
           {mptcp, MpFail{0x0102030405060708}}}),
      enc({{mptcp, MpFastclose{0x8877665544332211}}, {mptcp, MpUnknown{8, view(kUnknownMp)}}}),
      // Malformed: a length of 0, a length of 1, an option running past the header, a
      // kind without its length byte, and lengths wrong for their kind.
      {mss, 0, 5, 0xb4},
      {ws, 1, nop, eol},
      {nop, nop, mss, 8, 5, 0xb4},
      {nop, nop, nop, mss},
      build::opt::cat({build::opt::raw(mss, {5, 0xb4, 0}),
                       build::opt::raw(timestamps, Buffer(6, 1)),
                       build::opt::raw(sack, Buffer(7, 2)), build::opt::raw(md5, Buffer(8, 3))}),
      build::opt::cat({build::opt::raw(mptcp, {0x10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}),
                       build::opt::raw(fast_open, {1, 2})}),
  };
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: option_trace FILE\n");
    return 2;
  }
  try {
    PcapWriter out(argv[1], LinkType::ethernet);
    double ts = 1700000000.0;
    uint16_t sport = 40000;
    for (const Buffer& options : option_lists()) {
      for (build::Ip ip : {build::Ip{.src = "192.0.2.1", .dst = "198.51.100.2"},
                           build::Ip{.src = "2001:db8::1", .dst = "2001:db8::2"}}) {
        build::Tcp tcp{.sport = sport++, .dport = 443, .seq = 1000u * sport, .options = options};
        out.write(ts += 0.001, build::frame(LinkType::ethernet, build::tcp_packet(ip, tcp)));
      }
    }
    out.close();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "option_trace: %s\n", e.what());
    return 1;
  }
  return 0;
}
