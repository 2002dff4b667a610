// The option-list walker, the summary chains read, and the per-kind field decoder.
// Option lists are written byte by byte; each test's values were worked out from those
// bytes by hand. Lists are exactly as long as their bytes so that a read past an option
// is a heap overflow under ASan or valgrind.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "shared/builder.hpp"
#include "shared/packet.hpp"
#include "shared/tcp_option_fields.hpp"

namespace pspdr {
namespace {

using build::Buffer;
using namespace tcpopt;

Bytes view(const Buffer& b) {
  return Bytes{b.data(), uint32_t(b.size())};
}

std::vector<TcpOption> walk(const Buffer& list, Anomaly* problem = nullptr,
                            std::string* detail = nullptr) {
  TcpOptionWalker w(view(list));
  std::vector<TcpOption> out;
  TcpOption o;
  while (w.next(o)) out.push_back(o);
  if (problem) *problem = w.problem();
  if (detail) *detail = w.problem_detail();
  return out;
}

// Decodes hand-written option lists. Decoded fields are views, so the fixture keeps every
// list alive until the test ends.
class DecodeTcpOption : public ::testing::Test {
 protected:
  // Decodes the first option of `list`.
  TcpOptionFields decode(Buffer list) {
    lists_.push_back(std::move(list));
    TcpOptionWalker w(view(lists_.back()));
    TcpOption o;
    EXPECT_TRUE(w.next(o));
    return decode_tcp_option(o);
  }

  // The fields of a well-formed option, as type T (a wrong type throws, failing the test).
  template <class T>
  T fields(Buffer list) {
    uint8_t kind = list[0];
    TcpOptionFields f = decode(std::move(list));
    EXPECT_EQ(f.malformed, nullptr) << f.malformed;
    EXPECT_EQ(f.kind, kind);
    return std::get<T>(f.fields);
  }

  // A malformed option keeps its value bytes as Raw and says why.
  void expect_malformed(Buffer list, const std::string& reason) {
    uint8_t kind = list[0];
    TcpOptionFields f = decode(std::move(list));
    ASSERT_NE(f.malformed, nullptr) << "kind " << int(kind);
    EXPECT_EQ(std::string(f.malformed), reason);
    EXPECT_EQ(f.kind, kind);
    EXPECT_TRUE(std::holds_alternative<Raw>(f.fields));
  }

 private:
  std::vector<Buffer> lists_;  // moving a Buffer in keeps its bytes where they are
};

class DecodeMptcp : public DecodeTcpOption {};

std::vector<uint8_t> bytes_of(Bytes b) {
  return {b.begin(), b.end()};
}

// --- Walker ---------------------------------------------------------------------------

TEST(TcpOptionWalker, EmptyListYieldsNothing) {
  Buffer list;
  Anomaly problem;
  EXPECT_TRUE(walk(list, &problem).empty());
  EXPECT_EQ(problem, Anomaly::none);
}

TEST(TcpOptionWalker, SeveralOptionsOfOneKind) {
  Buffer list = {2, 4, 0x05, 0xb4, 2, 4, 0x02, 0x18};
  Anomaly problem;
  auto opts = walk(list, &problem);
  ASSERT_EQ(opts.size(), 2u);
  EXPECT_EQ(problem, Anomaly::none);
  EXPECT_EQ(opts[0].kind, mss);
  EXPECT_EQ(opts[0].length, 4);
  EXPECT_EQ(opts[0].offset, 0);
  EXPECT_EQ(bytes_of(opts[0].data), (std::vector<uint8_t>{0x05, 0xb4}));
  EXPECT_EQ(opts[1].offset, 4);
  EXPECT_EQ(bytes_of(opts[1].data), (std::vector<uint8_t>{0x02, 0x18}));
}

TEST(TcpOptionWalker, NopIsYieldedWithLengthOneAndNoData) {
  Buffer list = {1, 1, 3, 3, 7};
  auto opts = walk(list);
  ASSERT_EQ(opts.size(), 3u);
  EXPECT_EQ(opts[0].kind, nop);
  EXPECT_EQ(opts[0].length, 1);
  EXPECT_TRUE(opts[0].data.empty());
  EXPECT_EQ(opts[1].offset, 1);
  EXPECT_EQ(opts[2].kind, ws);
  EXPECT_EQ(opts[2].offset, 2);
  EXPECT_EQ(opts[2].data[0], 7);
}

TEST(TcpOptionWalker, EolStopsTheWalk) {
  Buffer list = {2, 4, 0x05, 0xb4, 0, 3, 3, 7};
  Anomaly problem;
  auto opts = walk(list, &problem);
  ASSERT_EQ(opts.size(), 2u);
  EXPECT_EQ(opts[1].kind, eol);
  EXPECT_EQ(opts[1].offset, 4);
  EXPECT_EQ(problem, Anomaly::none);
}

TEST(TcpOptionWalker, LengthZeroStopsWithAProblem) {
  Buffer list = {2, 0, 2, 4, 0x05, 0xb4};
  Anomaly problem;
  std::string detail;
  auto opts = walk(list, &problem, &detail);
  ASSERT_EQ(opts.size(), 1u);
  EXPECT_EQ(opts[0].length, 0);
  EXPECT_TRUE(opts[0].data.empty());
  EXPECT_EQ(problem, Anomaly::bad_tcp_options);
  EXPECT_EQ(detail, "option length 0");
}

TEST(TcpOptionWalker, LengthOneAdvancesOneByteLikePathspider) {
  // Kind 3 with length 1; the walk resumes on its length byte (1, a NOP), then the MSS.
  Buffer list = {3, 1, 2, 4, 0x05, 0xb4};
  Anomaly problem;
  std::string detail;
  auto opts = walk(list, &problem, &detail);
  ASSERT_EQ(opts.size(), 3u);
  EXPECT_EQ(opts[0].kind, ws);
  EXPECT_EQ(opts[0].length, 1);
  EXPECT_TRUE(opts[0].data.empty());
  EXPECT_EQ(opts[1].kind, nop);
  EXPECT_EQ(opts[1].offset, 1);
  EXPECT_EQ(opts[2].kind, mss);
  EXPECT_EQ(opts[2].offset, 2);
  EXPECT_EQ(problem, Anomaly::bad_tcp_options);
  EXPECT_EQ(detail, "option length 1");
}

TEST(TcpOptionWalker, OptionRunningPastTheHeaderIsClippedAndStops) {
  Buffer list = {1, 8, 10, 0, 0, 1, 2};  // timestamps declares 10 bytes, 6 are there
  Anomaly problem;
  std::string detail;
  auto opts = walk(list, &problem, &detail);
  ASSERT_EQ(opts.size(), 2u);
  EXPECT_EQ(opts[1].kind, timestamps);
  EXPECT_EQ(opts[1].length, 10);
  EXPECT_EQ(bytes_of(opts[1].data), (std::vector<uint8_t>{0, 0, 1, 2}));
  EXPECT_EQ(problem, Anomaly::bad_tcp_options);
  EXPECT_EQ(detail, "option runs past the header");
}

TEST(TcpOptionWalker, KindWithoutLengthByte) {
  Buffer list = {1, 3};
  Anomaly problem;
  std::string detail;
  auto opts = walk(list, &problem, &detail);
  ASSERT_EQ(opts.size(), 2u);
  EXPECT_EQ(opts[1].kind, ws);
  EXPECT_TRUE(opts[1].data.empty());
  EXPECT_EQ(problem, Anomaly::bad_tcp_options);
  EXPECT_EQ(detail, "option kind without a length byte");
}

// --- Summary --------------------------------------------------------------------------

TcpOptionSummary summary_of(Bytes list) {
  TcpOptionSummary s;
  summarize_tcp_options(list, s);
  return s;
}

TEST(SummarizeTcpOptions, LastOccurrenceWins) {
  Buffer list = build::opt::cat({
      build::opt::mss(1460),                                   // 05 b4
      build::opt::fast_open({1, 2, 3, 4}),                     //
      build::opt::experimental(254, 0xf989, {9, 9, 9, 9}),     //
      build::opt::experimental(255, 0x1234, {}),               //
      build::opt::mss(536),                                    // 02 18, wins
      build::opt::fast_open({5, 6, 7, 8, 9, 10}),              // wins
      build::opt::experimental(254, 0xf989, {1, 1, 1, 1, 1}),  // wins
      build::opt::raw(200, {}),
  });
  TcpOptionSummary s = summary_of(view(list));
  EXPECT_EQ(s.problem, Anomaly::none);
  EXPECT_TRUE(s.seen_mss);
  EXPECT_EQ(load_be16(s.mss.data), 536);
  EXPECT_TRUE(s.seen_fast_open);
  EXPECT_EQ(bytes_of(s.fast_open), (std::vector<uint8_t>{5, 6, 7, 8, 9, 10}));
  EXPECT_TRUE(s.seen_exp_a);
  EXPECT_EQ(bytes_of(s.exp_a), (std::vector<uint8_t>{0xf9, 0x89, 1, 1, 1, 1, 1}));
  EXPECT_TRUE(s.seen_exp_b);
  EXPECT_EQ(bytes_of(s.exp_b), (std::vector<uint8_t>{0x12, 0x34}));
  EXPECT_TRUE(s.has(mss));
  EXPECT_TRUE(s.has(fast_open));
  EXPECT_TRUE(s.has(200));
  EXPECT_FALSE(s.has(ws));
}

TEST(SummarizeTcpOptions, NopAndEolAreNotKindsSeen) {
  Buffer list = {1, 1, 3, 3, 7, 0, 2, 4, 0x05, 0xb4};  // the MSS is after EOL: unseen
  TcpOptionSummary s = summary_of(view(list));
  EXPECT_FALSE(s.has(nop));
  EXPECT_FALSE(s.has(eol));
  EXPECT_TRUE(s.has(ws));
  EXPECT_FALSE(s.seen_mss);
  EXPECT_FALSE(s.has(mss));
}

TEST(SummarizeTcpOptions, ForgetsTheListBefore) {
  // The dissector summarises every packet into the same place.
  Buffer with = {2, 4, 0x05, 0xb4, 34, 2, 8, 0};  // MSS, a Fast Open request, a bad length
  Buffer without = {1, 1, 4, 2};                  // NOP, NOP, SACK permitted
  TcpOptionSummary s;
  summarize_tcp_options(view(with), s);
  ASSERT_TRUE(s.seen_mss && s.seen_fast_open);
  ASSERT_EQ(s.problem, Anomaly::bad_tcp_options);
  summarize_tcp_options(view(without), s);
  EXPECT_FALSE(s.seen_mss || s.seen_fast_open || s.seen_exp_a || s.seen_exp_b);
  EXPECT_EQ(s.problem, Anomaly::none);
  EXPECT_FALSE(s.has(mss) || s.has(fast_open) || s.has(8));
  EXPECT_TRUE(s.has(sack_permitted));
}

TEST(SummarizeTcpOptions, ReportsTheWalkersProblem) {
  Buffer list = {2, 4, 0x05, 0xb4, 8, 0};
  TcpOptionSummary s = summary_of(view(list));
  EXPECT_TRUE(s.seen_mss);
  EXPECT_EQ(s.problem, Anomaly::bad_tcp_options);
  EXPECT_TRUE(s.has(timestamps));
}

// --- Decoder: generic length checks ---------------------------------------------------

TEST_F(DecodeTcpOption, EolAndNopHaveNoFields) {
  fields<Eol>({0});
  fields<Nop>({1});
}

TEST_F(DecodeTcpOption, LengthBelowTwoIsMalformed) {
  expect_malformed({2, 0}, "option length below 2");
  expect_malformed({2, 1, 0}, "option length below 2");
  expect_malformed({2}, "option length below 2");  // no length byte at all
}

TEST_F(DecodeTcpOption, OptionClippedByTheListIsMalformed) {
  expect_malformed({8, 10, 0, 0, 0, 1}, "option runs past the end of the list");
  expect_malformed({2, 4, 0x05}, "option runs past the end of the list");
}

// --- Decoder: one test per kind -------------------------------------------------------

TEST_F(DecodeTcpOption, Mss) {
  EXPECT_EQ(fields<Mss>({2, 4, 0x05, 0xb4}).mss, 1460);
  EXPECT_EQ(fields<Mss>(build::opt::mss(0xffff)).mss, 0xffff);
  expect_malformed({2, 3, 0x05}, "MSS length is not 4");
  expect_malformed({2, 5, 0x05, 0xb4, 0}, "MSS length is not 4");
}

TEST_F(DecodeTcpOption, WindowScale) {
  EXPECT_EQ(fields<WindowScale>({3, 3, 7}).shift_count, 7);
  EXPECT_EQ(fields<WindowScale>({3, 3, 14}).shift_count, 14);
  expect_malformed({3, 2}, "window scale length is not 3");
  expect_malformed({3, 4, 7, 0}, "window scale length is not 3");
}

TEST_F(DecodeTcpOption, SackPermitted) {
  fields<SackPermitted>({4, 2});
  expect_malformed({4, 3, 0}, "SACK-permitted length is not 2");
}

TEST_F(DecodeTcpOption, SackBlocks) {
  Sack s = fields<Sack>({5, 18,                     //
                         0x00, 0x00, 0x10, 0x00,    // left edge 4096
                         0x00, 0x00, 0x20, 0x00,    // right edge 8192
                         0x12, 0x34, 0x56, 0x78,    // left edge
                         0x9a, 0xbc, 0xde, 0xf0});  // right edge
  ASSERT_EQ(s.count(), 2u);
  EXPECT_EQ(s.block(0).left_edge, 4096u);
  EXPECT_EQ(s.block(0).right_edge, 8192u);
  EXPECT_EQ(s.block(1).left_edge, 0x12345678u);
  EXPECT_EQ(s.block(1).right_edge, 0x9abcdef0u);
  Sack four = fields<Sack>(build::opt::raw(5, Buffer(32, 0xff)));
  ASSERT_EQ(four.count(), 4u);
  EXPECT_EQ(four.block(3).right_edge, 0xffffffffu);
  expect_malformed({5, 2}, "SACK length is not 2 + 8n (n >= 1)");
  expect_malformed({5, 6, 0, 0, 0, 1}, "SACK length is not 2 + 8n (n >= 1)");
  expect_malformed(build::opt::raw(5, Buffer(12, 0)), "SACK length is not 2 + 8n (n >= 1)");
}

TEST_F(DecodeTcpOption, EchoAndEchoReply) {
  EXPECT_EQ(fields<Echo>({6, 6, 0xde, 0xad, 0xbe, 0xef}).info, 0xdeadbeefu);
  EXPECT_EQ(fields<EchoReply>({7, 6, 0, 0, 0, 42}).info, 42u);
  expect_malformed({6, 4, 0, 0}, "echo length is not 6");
  expect_malformed({7, 10, 0, 0, 0, 0, 0, 0, 0, 0}, "echo reply length is not 6");
}

TEST_F(DecodeTcpOption, Timestamps) {
  Timestamps t = fields<Timestamps>({8, 10, 0x00, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x01});
  EXPECT_EQ(t.tsval, 256u);
  EXPECT_EQ(t.tsecr, 0x80000001u);
  Timestamps built = fields<Timestamps>(build::opt::timestamps(123456789, 987654321));
  EXPECT_EQ(built.tsval, 123456789u);
  EXPECT_EQ(built.tsecr, 987654321u);
  expect_malformed({8, 6, 0, 0, 0, 1}, "timestamps length is not 10");
}

TEST_F(DecodeTcpOption, PartialOrderConnection) {
  fields<PocPermitted>({9, 2});
  expect_malformed({9, 3, 0}, "POC-permitted length is not 2");
  PocServiceProfile start = fields<PocServiceProfile>({10, 3, 0x80});
  EXPECT_TRUE(start.start_flag);
  EXPECT_FALSE(start.end_flag);
  PocServiceProfile end = fields<PocServiceProfile>({10, 3, 0x40});
  EXPECT_FALSE(end.start_flag);
  EXPECT_TRUE(end.end_flag);
  PocServiceProfile filler = fields<PocServiceProfile>({10, 3, 0x3f});  // filler bits only
  EXPECT_FALSE(filler.start_flag);
  EXPECT_FALSE(filler.end_flag);
  expect_malformed({10, 2}, "POC service profile length is not 3");
}

TEST_F(DecodeTcpOption, ConnectionCounts) {
  EXPECT_EQ(fields<Cc>({11, 6, 0, 0, 1, 0}).cc, 256u);
  EXPECT_EQ(fields<CcNew>({12, 6, 0, 1, 0, 0}).cc, 65536u);
  EXPECT_EQ(fields<CcEcho>({13, 6, 1, 0, 0, 0}).cc, 16777216u);
  expect_malformed({11, 5, 0, 0, 1}, "CC length is not 6");
  expect_malformed({12, 2}, "CC.NEW length is not 6");
  expect_malformed({13, 7, 0, 0, 0, 0, 0}, "CC.ECHO length is not 6");
}

TEST_F(DecodeTcpOption, AlternateChecksum) {
  EXPECT_EQ(fields<AltChecksumRequest>({14, 3, 2}).algorithm, 2);
  expect_malformed({14, 4, 2, 0}, "alternate checksum request length is not 3");
  AltChecksumData d = fields<AltChecksumData>({15, 5, 0xaa, 0xbb, 0xcc});
  EXPECT_EQ(bytes_of(d.data), (std::vector<uint8_t>{0xaa, 0xbb, 0xcc}));
  EXPECT_TRUE(fields<AltChecksumData>({15, 2}).data.empty());
}

TEST_F(DecodeTcpOption, Md5Signature) {
  Buffer digest;
  for (uint8_t i = 0; i < 16; ++i) digest.push_back(uint8_t(0xa0 + i));
  EXPECT_EQ(bytes_of(fields<Md5Signature>(build::opt::raw(19, digest)).digest), digest);
  expect_malformed(build::opt::raw(19, Buffer(15, 0)), "MD5 signature length is not 18");
  expect_malformed(build::opt::raw(19, Buffer(17, 0)), "MD5 signature length is not 18");
}

TEST_F(DecodeTcpOption, QuickStart) {
  // 0x83: function 8, rate request 3; TTL diff 0x40; 0x1234567b >> 2 is the 30-bit nonce.
  QuickStart q = fields<QuickStart>({27, 8, 0x83, 0x40, 0x12, 0x34, 0x56, 0x7b});
  EXPECT_EQ(q.function, 8);
  EXPECT_EQ(q.rate_request, 3);
  EXPECT_EQ(q.ttl_diff, 64);
  EXPECT_EQ(q.nonce, 0x048d159eu);
  QuickStart max = fields<QuickStart>({27, 8, 0x0f, 0xff, 0xff, 0xff, 0xff, 0xfc});
  EXPECT_EQ(max.function, 0);
  EXPECT_EQ(max.rate_request, 15);
  EXPECT_EQ(max.nonce, 0x3fffffffu);
  expect_malformed({27, 6, 0x83, 0x40, 0, 0}, "quick-start length is not 8");
}

TEST_F(DecodeTcpOption, UserTimeout) {
  UserTimeout minutes = fields<UserTimeout>({28, 4, 0x80, 0x05});
  EXPECT_TRUE(minutes.granularity);
  EXPECT_EQ(minutes.timeout, 5);
  UserTimeout seconds = fields<UserTimeout>({28, 4, 0x7f, 0xff});
  EXPECT_FALSE(seconds.granularity);
  EXPECT_EQ(seconds.timeout, 32767);
  expect_malformed({28, 3, 0}, "user timeout length is not 4");
}

TEST_F(DecodeTcpOption, TcpAo) {
  TcpAo ao = fields<TcpAo>({29, 8, 5, 6, 0xa1, 0xa2, 0xa3, 0xa4});
  EXPECT_EQ(ao.key_id, 5);
  EXPECT_EQ(ao.rnext_key_id, 6);
  EXPECT_EQ(bytes_of(ao.mac), (std::vector<uint8_t>{0xa1, 0xa2, 0xa3, 0xa4}));
  EXPECT_TRUE(fields<TcpAo>({29, 4, 1, 2}).mac.empty());
  expect_malformed({29, 3, 1}, "TCP-AO length is below 4");
}

TEST_F(DecodeTcpOption, FastOpen) {
  EXPECT_TRUE(fields<FastOpen>({34, 2}).cookie.empty());
  Buffer cookie = {1, 2, 3, 4, 5, 6, 7, 8};
  EXPECT_EQ(bytes_of(fields<FastOpen>(build::opt::fast_open(cookie)).cookie), cookie);
  EXPECT_EQ(fields<FastOpen>(build::opt::fast_open(Buffer(16, 7))).cookie.size, 16u);
  EXPECT_EQ(fields<FastOpen>(build::opt::fast_open(Buffer(4, 7))).cookie.size, 4u);
  expect_malformed({34, 4, 1, 2}, "Fast Open cookie is not 0 or 4 to 16 bytes");
  expect_malformed(build::opt::fast_open(Buffer(17, 0)),
                   "Fast Open cookie is not 0 or 4 to 16 bytes");
}

TEST_F(DecodeTcpOption, ExperimentalOptions) {
  Experimental e253 = fields<Experimental>({253, 6, 0x12, 0x34, 0xaa, 0xbb});
  EXPECT_EQ(e253.exid, 0x1234);
  EXPECT_EQ(bytes_of(e253.data), (std::vector<uint8_t>{0xaa, 0xbb}));
  Experimental tfo = fields<Experimental>(build::opt::experimental(254, 0xf989, {1, 2, 3, 4}));
  EXPECT_EQ(tfo.exid, exid_fast_open);
  EXPECT_EQ(bytes_of(tfo.data), (std::vector<uint8_t>{1, 2, 3, 4}));
  // 255 is reserved, not an experiment (RFC 4727 gave 253 and 254): raw bytes, as
  // pcapkit and tshark show it (PATHspider's chains still read it, from the summary).
  EXPECT_EQ(bytes_of(fields<Raw>({255, 4, 0xab, 0xcd}).data), (std::vector<uint8_t>{0xab, 0xcd}));
  expect_malformed({254, 3, 0xf9}, "experimental option without an ExID");
  expect_malformed({253, 2}, "experimental option without an ExID");
}

TEST_F(DecodeTcpOption, UnknownKindsAreRaw) {
  for (uint8_t kind : {16, 25, 69, 200}) {
    TcpOptionFields f = decode({kind, 4, 0x01, 0x02});
    EXPECT_EQ(f.malformed, nullptr);
    EXPECT_EQ(f.kind, kind);
    EXPECT_EQ(bytes_of(std::get<Raw>(f.fields).data), (std::vector<uint8_t>{1, 2}));
  }
}

// --- Decoder: MPTCP -------------------------------------------------------------------

TEST_F(DecodeMptcp, NoSubtypeIsMalformed) {
  expect_malformed({30, 2}, "MPTCP option without a subtype");
}

TEST_F(DecodeMptcp, CapableKeysByLength) {
  const Buffer skey = {1, 2, 3, 4, 5, 6, 7, 8};
  const Buffer rkey = {0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18};

  MpCapable syn_v1 = fields<MpCapable>({30, 4, 0x01, 0x01});  // RFC 8684 SYN: no key
  EXPECT_EQ(syn_v1.version, 1);
  EXPECT_FALSE(syn_v1.sender_key);
  EXPECT_FALSE(syn_v1.receiver_key);

  MpCapable syn = fields<MpCapable>(build::opt::cat({{30, 12, 0x00, 0x81}, skey}));
  EXPECT_EQ(syn.version, 0);
  EXPECT_EQ(syn.flags, 0x81);
  EXPECT_TRUE(syn.checksum_required());
  EXPECT_FALSE(syn.extensibility());
  EXPECT_TRUE(syn.hmac_sha());
  EXPECT_EQ(syn.sender_key, 0x0102030405060708u);
  EXPECT_FALSE(syn.receiver_key);

  MpCapable ack = fields<MpCapable>(build::opt::cat({{30, 20, 0x00, 0x41}, skey, rkey}));
  EXPECT_FALSE(ack.checksum_required());
  EXPECT_TRUE(ack.extensibility());
  EXPECT_EQ(ack.sender_key, 0x0102030405060708u);
  EXPECT_EQ(ack.receiver_key, 0x1112131415161718u);
  EXPECT_FALSE(ack.data_level_length);

  MpCapable data = fields<MpCapable>(build::opt::cat({{30, 22, 0x01, 0x01}, skey, rkey, {1, 0}}));
  EXPECT_EQ(data.data_level_length, 256);
  EXPECT_FALSE(data.checksum);

  MpCapable csum =
      fields<MpCapable>(build::opt::cat({{30, 24, 0x01, 0x81}, skey, rkey, {1, 0}, {0xbe, 0xef}}));
  EXPECT_EQ(csum.data_level_length, 256);
  EXPECT_EQ(csum.checksum, 0xbeef);

  expect_malformed({30, 8, 0x00, 0x81, 1, 2, 3, 4}, "MP_CAPABLE length is not 4, 12, 20, 22 or 24");
  expect_malformed({30, 3, 0x00}, "MP_CAPABLE length is not 4, 12, 20, 22 or 24");
}

TEST_F(DecodeMptcp, JoinVariantsByLength) {
  MpJoinSyn syn =
      fields<MpJoinSyn>({30, 12, 0x11, 0x03, 0xa1, 0xb2, 0xc3, 0xd4, 0x01, 0x02, 0x03, 0x04});
  EXPECT_TRUE(syn.backup);
  EXPECT_EQ(syn.addr_id, 3);
  EXPECT_EQ(syn.receiver_token, 0xa1b2c3d4u);
  EXPECT_EQ(syn.sender_random, 0x01020304u);

  MpJoinSynAck synack = fields<MpJoinSynAck>({30, 16, 0x10, 0x07,                              //
                                              0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,  //
                                              0xca, 0xfe, 0xba, 0xbe});
  EXPECT_FALSE(synack.backup);
  EXPECT_EQ(synack.addr_id, 7);
  EXPECT_EQ(synack.sender_truncated_hmac, 0x1122334455667788u);
  EXPECT_EQ(synack.sender_random, 0xcafebabeu);

  Buffer hmac;
  for (uint8_t i = 0; i < 20; ++i) hmac.push_back(i);
  MpJoinAck ack = fields<MpJoinAck>(build::opt::cat({{30, 24, 0x10, 0x00}, hmac}));
  EXPECT_EQ(bytes_of(ack.sender_hmac), hmac);

  expect_malformed(
      build::opt::raw(30, Buffer{0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}),
      "MP_JOIN length is not 12, 16 or 24");
}

TEST_F(DecodeMptcp, DssDataAckOnly) {
  MpDss d = fields<MpDss>({30, 8, 0x20, 0x01, 0, 0, 1, 0});
  EXPECT_EQ(d.flags, 0x01);
  EXPECT_FALSE(d.data_fin);
  EXPECT_EQ(d.data_ack, 256u);
  EXPECT_FALSE(d.mapping);
}

TEST_F(DecodeMptcp, DssEverythingEightOctetsWithChecksum) {
  // Flags F m M a A: 8-byte data ACK, 8-byte DSN, SSN, data-level length, checksum.
  MpDss d = fields<MpDss>({30,   28,   0x20, 0x1f,                          //
                           0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,  // data ACK
                           0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04,  // DSN
                           0x00, 0x00, 0x00, 0x05,                          // SSN
                           0x00, 0x06, 0x00, 0x07});                        // length, checksum
  EXPECT_TRUE(d.data_fin);
  EXPECT_EQ(d.data_ack, 0x100000002u);
  ASSERT_TRUE(d.mapping);
  EXPECT_EQ(d.mapping->dsn, 0x300000004u);
  EXPECT_EQ(d.mapping->ssn, 5u);
  EXPECT_EQ(d.mapping->data_level_length, 6);
  EXPECT_EQ(d.mapping->checksum, 7);
}

TEST_F(DecodeMptcp, DssMappingWithoutChecksum) {
  MpDss d = fields<MpDss>({30, 14, 0x20, 0x04,      //
                           0xff, 0xff, 0xff, 0xff,  // 4-byte DSN
                           0x00, 0x00, 0x00, 0x01,  // SSN
                           0x05, 0xdc});            // data-level length 1500
  EXPECT_FALSE(d.data_ack);
  ASSERT_TRUE(d.mapping);
  EXPECT_EQ(d.mapping->dsn, 0xffffffffu);
  EXPECT_EQ(d.mapping->ssn, 1u);
  EXPECT_EQ(d.mapping->data_level_length, 1500);
  EXPECT_FALSE(d.mapping->checksum);
}

TEST_F(DecodeMptcp, DssDataFinAlone) {
  MpDss d = fields<MpDss>({30, 4, 0x20, 0x10});
  EXPECT_TRUE(d.data_fin);
  EXPECT_FALSE(d.data_ack);
  EXPECT_FALSE(d.mapping);
}

TEST_F(DecodeMptcp, DssLengthMustMatchFlags) {
  expect_malformed({30, 3, 0x20}, "DSS option without its flags");
  expect_malformed({30, 6, 0x20, 0x01, 0, 0}, "DSS length does not match its flags");
  expect_malformed({30, 8, 0x20, 0x03, 0, 0, 0, 1}, "DSS length does not match its flags");
  expect_malformed({30, 8, 0x20, 0x00, 0, 0, 0, 1}, "DSS length does not match its flags");
}

TEST_F(DecodeMptcp, AddAddress) {
  char text[IpAddress::kMaxText];
  MpAddAddr v4 = fields<MpAddAddr>({30, 8, 0x34, 0x05, 192, 0, 2, 9});
  EXPECT_EQ(v4.addr_id, 5);
  EXPECT_EQ(v4.address.version(), 4);
  EXPECT_EQ(v4.address.format(text), "192.0.2.9");
  EXPECT_FALSE(v4.port);

  MpAddAddr v4port = fields<MpAddAddr>({30, 10, 0x34, 0x05, 192, 0, 2, 9, 0x1f, 0x90});
  EXPECT_EQ(v4port.port, 8080);

  Buffer v6addr = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  MpAddAddr v6 = fields<MpAddAddr>(build::opt::cat({{30, 22, 0x36, 0x02}, v6addr, {0x01, 0xbb}}));
  EXPECT_EQ(v6.addr_id, 2);
  EXPECT_EQ(v6.address.version(), 6);
  EXPECT_EQ(v6.address.format(text), "2001:db8::1");
  EXPECT_EQ(v6.port, 443);
  EXPECT_FALSE(fields<MpAddAddr>(build::opt::cat({{30, 20, 0x36, 0x02}, v6addr})).port);

  expect_malformed({30, 8, 0x35, 0x05, 192, 0, 2, 9}, "ADD_ADDR IP version is not 4 or 6");
  expect_malformed({30, 9, 0x34, 0x05, 192, 0, 2, 9, 0}, "ADD_ADDR (IPv4) length is not 8 or 10");
  expect_malformed({30, 3, 0x34}, "ADD_ADDR (IPv4) length is not 8 or 10");
  expect_malformed(build::opt::cat({{30, 10, 0x36, 0x02}, {1, 2, 3, 4, 5, 6}}),
                   "ADD_ADDR (IPv6) length is not 20 or 22");
}

TEST_F(DecodeMptcp, RemoveAddress) {
  EXPECT_EQ(bytes_of(fields<MpRemoveAddr>({30, 6, 0x40, 1, 2, 3}).addr_ids),
            (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_EQ(fields<MpRemoveAddr>({30, 4, 0x40, 9}).addr_ids.size, 1u);
  expect_malformed({30, 3, 0x40}, "REMOVE_ADDR lists no address ID");
}

TEST_F(DecodeMptcp, Priority) {
  MpPrio backup = fields<MpPrio>({30, 3, 0x51});
  EXPECT_TRUE(backup.backup);
  EXPECT_FALSE(backup.addr_id);
  MpPrio with_id = fields<MpPrio>({30, 4, 0x50, 9});
  EXPECT_FALSE(with_id.backup);
  EXPECT_EQ(with_id.addr_id, 9);
  expect_malformed({30, 5, 0x50, 1, 2}, "MP_PRIO length is not 3 or 4");
}

TEST_F(DecodeMptcp, Fail) {
  EXPECT_EQ(fields<MpFail>({30, 12, 0x60, 0x00, 1, 2, 3, 4, 5, 6, 7, 8}).dsn, 0x0102030405060708u);
  expect_malformed({30, 11, 0x60, 0x00, 1, 2, 3, 4, 5, 6, 7}, "MP_FAIL length is not 12");
}

TEST_F(DecodeMptcp, Fastclose) {
  EXPECT_EQ(
      fields<MpFastclose>({30, 12, 0x70, 0x00, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10})
          .receiver_key,
      0xfedcba9876543210u);
  // pcapkit's documentation says 16; RFC 6824 and RFC 8684 both give 12.
  expect_malformed(build::opt::raw(30, Buffer{0x70, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}),
                   "MP_FASTCLOSE length is not 12");
}

TEST_F(DecodeMptcp, UnknownSubtypeIsRaw) {
  MpUnknown u = fields<MpUnknown>({30, 6, 0x8a, 1, 2, 3});
  EXPECT_EQ(u.subtype, 8);
  EXPECT_EQ(bytes_of(u.data), (std::vector<uint8_t>{0x8a, 1, 2, 3}));
}

// --- From a dissected segment ---------------------------------------------------------

TEST_F(DecodeTcpOption, EveryOptionOfADissectedSyn) {
  build::Tcp t;
  t.options = build::opt::cat({build::opt::mss(1460), build::opt::sack_permitted(),
                               build::opt::timestamps(7, 0), build::opt::nop(),
                               build::opt::window_scale(8)});
  Buffer pkt = build::tcp_packet({}, t);
  Packet p;
  dissect(Frame{pkt.data(), uint32_t(pkt.size()), uint32_t(pkt.size()), 0, LinkType::raw}, p);
  ASSERT_TRUE(p.tcp);
  TcpOptionWalker w(p.tcp.options());
  TcpOption o;
  std::vector<TcpOptionFields> decoded;
  while (w.next(o)) decoded.push_back(decode_tcp_option(o));
  ASSERT_EQ(decoded.size(), 5u);
  for (const TcpOptionFields& f : decoded) EXPECT_EQ(f.malformed, nullptr);
  EXPECT_EQ(std::get<Mss>(decoded[0].fields).mss, 1460);
  EXPECT_TRUE(std::holds_alternative<SackPermitted>(decoded[1].fields));
  EXPECT_EQ(std::get<Timestamps>(decoded[2].fields).tsval, 7u);
  EXPECT_TRUE(std::holds_alternative<Nop>(decoded[3].fields));
  EXPECT_EQ(std::get<WindowScale>(decoded[4].fields).shift_count, 8);
}

TEST(TcpOptionName, PcapkitNames) {
  EXPECT_EQ(tcp_option_name(0), "End of Option List");
  EXPECT_EQ(tcp_option_name(1), "No-Operation");
  EXPECT_EQ(tcp_option_name(2), "Maximum Segment Size");
  EXPECT_EQ(tcp_option_name(3), "Window Scale");
  EXPECT_EQ(tcp_option_name(8), "Timestamps");
  EXPECT_EQ(tcp_option_name(12), "CC.NEW");
  EXPECT_EQ(tcp_option_name(19), "MD5 Signature Option");
  EXPECT_EQ(tcp_option_name(27), "Quick-Start Response");
  EXPECT_EQ(tcp_option_name(29), "TCP Authentication Option");
  EXPECT_EQ(tcp_option_name(30), "Multipath TCP");
  EXPECT_EQ(tcp_option_name(34), "TCP Fast Open Cookie");
  EXPECT_EQ(tcp_option_name(25), "Unassigned");
  EXPECT_EQ(tcp_option_name(31), "Reserved");
  EXPECT_EQ(tcp_option_name(100), "Reserved");
  EXPECT_EQ(tcp_option_name(253), "RFC3692-style Experiment 1");
  EXPECT_EQ(tcp_option_name(254), "RFC3692-style Experiment 2");
  EXPECT_EQ(tcp_option_name(255), "Unknown");
}

}  // namespace
}  // namespace pspdr
