// DNS message validity: hand-written queries and responses, name compression (valid,
// looping, out of range), every section cut short, bad label types, and the TCP length
// prefix. Messages are exactly as long as their bytes, so an over-read shows under ASan.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "shared/dns.hpp"

namespace pspdr {
namespace {

using Msg = std::vector<uint8_t>;

Bytes view(const Msg& m) {
  return Bytes{m.data(), uint32_t(m.size())};
}

Msg cat(std::initializer_list<Msg> parts) {
  Msg out;
  for (const Msg& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Msg header(uint16_t id, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns = 0,
           uint16_t ar = 0) {
  Msg h;
  for (uint16_t v : {id, flags, qd, an, ns, ar}) {
    h.push_back(uint8_t(v >> 8));
    h.push_back(uint8_t(v));
  }
  return h;
}

// "example.com", starting at offset 12 when it follows the header.
const Msg kExampleCom = {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0};
const Msg kTypeAClassIn = {0, 1, 0, 1};
// An A record's type, class, TTL 3600, RDLENGTH 4 and 93.184.216.34.
const Msg kARecord = {0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 93, 184, 216, 34};

Msg query() {
  return cat({header(0x1234, 0x0100, 1, 0), kExampleCom, kTypeAClassIn});
}

// The query's question answered by one A record whose name points back at offset 12.
Msg response() {
  return cat({header(0x1234, 0x8180, 1, 1), kExampleCom, kTypeAClassIn, {0xc0, 12}, kARecord});
}

TEST(Dns, ValidQuery) {
  Msg m = query();
  DnsHeader h;
  ASSERT_TRUE(parse_dns_message(view(m), &h));
  EXPECT_EQ(h.id, 0x1234);
  EXPECT_FALSE(h.response);
  EXPECT_EQ(h.opcode, 0);
  EXPECT_EQ(h.rcode, 0);
  EXPECT_EQ(h.qdcount, 1);
  EXPECT_EQ(h.ancount, 0);
  EXPECT_TRUE(parse_dns_message(view(m)));  // the header out-parameter is optional
}

TEST(Dns, ValidResponseWithCompressedAnswer) {
  Msg m = response();
  DnsHeader h;
  ASSERT_TRUE(parse_dns_message(view(m), &h));
  EXPECT_TRUE(h.response);
  EXPECT_EQ(h.ancount, 1);
  EXPECT_EQ(h.nscount, 0);
  EXPECT_EQ(h.arcount, 0);
}

TEST(Dns, HeaderFlags) {
  // QR, opcode 2 (status), AA, rcode 3 (NXDOMAIN).
  Msg m = header(0xffff, 0x8000 | 2 << 11 | 0x0400 | 3, 0, 0);
  DnsHeader h;
  ASSERT_TRUE(parse_dns_message(view(m), &h));
  EXPECT_EQ(h.id, 0xffff);
  EXPECT_TRUE(h.response);
  EXPECT_EQ(h.opcode, 2);
  EXPECT_EQ(h.rcode, 3);
}

TEST(Dns, AllFourSections) {
  // One question; an answer, an authority and an additional record. The NS record's
  // RDATA is "ns" then a pointer to "example.com"; RDATA is skipped by its length.
  Msg ns_record = {0, 2, 0, 1, 0, 0, 0, 60, 0, 5, 2, 'n', 's', 0xc0, 12};
  Msg m = cat({header(7, 0x8180, 1, 1, 1, 1),
               kExampleCom,
               kTypeAClassIn,
               {0xc0, 12},
               kARecord,
               {0xc0, 12},
               ns_record,
               {0},
               {0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0}});
  DnsHeader h;
  ASSERT_TRUE(parse_dns_message(view(m), &h));
  EXPECT_EQ(h.nscount, 1);
  EXPECT_EQ(h.arcount, 1);
  // One record more than the message holds.
  Msg missing = m;
  missing[11] = 2;
  EXPECT_FALSE(parse_dns_message(view(missing)));
}

TEST(Dns, RootNameQuestion) {
  Msg m = cat({header(1, 0, 1, 0), {0}, {0, 2, 0, 1}});
  EXPECT_TRUE(parse_dns_message(view(m)));
}

TEST(Dns, PointerChainsAreFollowed) {
  // Answer name "www" + pointer to the question's name: a label then a pointer.
  Msg www = cat({header(1, 0x8180, 1, 2),
                 kExampleCom,
                 kTypeAClassIn,  //
                 {3, 'w', 'w', 'w', 0xc0, 12},
                 kARecord,  // offset 29
                 {0xc0, 29},
                 kARecord});  // pointer to a pointer
  EXPECT_TRUE(parse_dns_message(view(www)));
}

TEST(Dns, PointerLoopsAreRejected) {
  Msg self = cat({header(1, 0x8180, 1, 1), kExampleCom, kTypeAClassIn, {0xc0, 29}, kARecord});
  EXPECT_FALSE(parse_dns_message(view(self)));  // the name at 29 points at itself

  // The question's name at 12 points at 14, whose bytes point back at 12.
  Msg pair = cat({header(1, 0x8180, 1, 1), {0xc0, 14}, {0xc0, 12}, kTypeAClassIn, kARecord});
  EXPECT_FALSE(parse_dns_message(view(pair)));
}

TEST(Dns, PointerOutOfRange) {
  Msg past_end = cat({header(1, 0x8180, 1, 1), kExampleCom, kTypeAClassIn, {0xc0, 0xff}, kARecord});
  ASSERT_LT(past_end.size(), 0xffu);
  EXPECT_FALSE(parse_dns_message(view(past_end)));

  Msg high_bits = cat({header(1, 0x8180, 1, 1), kExampleCom, kTypeAClassIn, {0xc1, 12}, kARecord});
  EXPECT_FALSE(parse_dns_message(view(high_bits)));  // offset 0x10c

  Msg half_pointer = cat({header(1, 0, 1, 0), {0xc0}});
  EXPECT_FALSE(parse_dns_message(view(half_pointer)));
}

TEST(Dns, TruncatedHeader) {
  Msg m = query();
  m.resize(11);
  DnsHeader h;
  h.id = 0xabcd;
  EXPECT_FALSE(parse_dns_message(view(m), &h));
  EXPECT_EQ(h.id, 0xabcd);  // left alone on failure
  EXPECT_FALSE(parse_dns_message(Bytes{}));
}

TEST(Dns, TruncatedQuestion) {
  Msg m = query();
  for (size_t len = 12; len < m.size(); ++len) {
    Msg cut(m.begin(), m.begin() + len);
    EXPECT_FALSE(parse_dns_message(view(cut))) << "cut at " << len;
  }
}

TEST(Dns, TruncatedAnswer) {
  Msg m = response();
  size_t answer_start = 12 + kExampleCom.size() + 4;
  for (size_t len = answer_start; len < m.size(); ++len) {
    Msg cut(m.begin(), m.begin() + len);
    EXPECT_FALSE(parse_dns_message(view(cut))) << "cut at " << len;
  }
  Msg long_rdata = m;
  long_rdata[long_rdata.size() - 5] = 5;  // RDLENGTH 5, four bytes follow
  EXPECT_FALSE(parse_dns_message(view(long_rdata)));
}

TEST(Dns, BadLabelTypes) {
  for (uint8_t type : {0x40, 0x80}) {  // extended (RFC 6891) and reserved label types
    Msg m = cat({header(1, 0, 1, 0), {uint8_t(type | 1), 'a', 0}, kTypeAClassIn});
    EXPECT_FALSE(parse_dns_message(view(m))) << std::hex << int(type);
  }
}

TEST(Dns, NameLengthLimit) {
  auto name_of = [](std::initializer_list<uint8_t> label_lengths) {
    Msg n;
    for (uint8_t len : label_lengths) {
      n.push_back(len);
      n.insert(n.end(), len, 'a');
    }
    n.push_back(0);
    return n;
  };
  Msg longest = name_of({63, 63, 63, 61});  // 4 * 64 - 2 + 1 = 255 octets
  ASSERT_EQ(longest.size(), 255u);
  EXPECT_TRUE(parse_dns_message(view(cat({header(1, 0, 1, 0), longest, kTypeAClassIn}))));
  Msg too_long = name_of({63, 63, 63, 62});  // 256 octets
  EXPECT_FALSE(parse_dns_message(view(cat({header(1, 0, 1, 0), too_long, kTypeAClassIn}))));
}

TEST(DnsOverTcp, LengthPrefix) {
  Msg m = response();
  Msg seg = cat({{uint8_t(m.size() >> 8), uint8_t(m.size())}, m});
  DnsHeader h;
  ASSERT_TRUE(parse_dns_over_tcp(view(seg), &h));
  EXPECT_EQ(h.id, 0x1234);
  EXPECT_EQ(h.ancount, 1);

  // Two messages in one segment: the first is read.
  Msg two = cat({seg, seg});
  EXPECT_TRUE(parse_dns_over_tcp(view(two)));
}

TEST(DnsOverTcp, PrefixLongerThanTheSegment) {
  Msg m = query();
  Msg seg = cat({{0, uint8_t(m.size() + 1)}, m});
  EXPECT_FALSE(parse_dns_over_tcp(view(seg)));
  Msg huge = cat({{0xff, 0xff}, m});
  EXPECT_FALSE(parse_dns_over_tcp(view(huge)));
}

TEST(DnsOverTcp, PrefixShorterThanTheMessage) {
  Msg m = query();
  Msg seg = cat({{0, 12}, m});  // only the header is inside the prefix; its question is not
  EXPECT_FALSE(parse_dns_over_tcp(view(seg)));
}

TEST(DnsOverTcp, TooShortForAPrefix) {
  EXPECT_FALSE(parse_dns_over_tcp(Bytes{}));
  Msg one = {0};
  EXPECT_FALSE(parse_dns_over_tcp(view(one)));
  Msg zero = {0, 0};
  EXPECT_FALSE(parse_dns_over_tcp(view(zero)));
}

}  // namespace
}  // namespace pspdr
