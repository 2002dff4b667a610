// TraceFile: pcap (micro/nanosecond, both byte orders, snap-length cuts), pcapng (every
// packet block kind, timestamp resolutions and offsets, unknown blocks, several sections
// in either byte order), detection by content, and every kind of damage: reading stops
// at the damaged byte, after delivering every frame before it, and says where.
//
// The traces are written byte by byte here, so each field is exactly what the test says.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "chains/chain_set.hpp"
#include "observer/observer.hpp"
#include "observer/trace_file.hpp"
#include "shared/builder.hpp"
#include "tests/support/observe.hpp"
#include "tests/support/temp_dir.hpp"

namespace pspdr {
namespace {

using build::Buffer;
using testing::TempDir;
using testing::write_file;

constexpr uint32_t kPcapMicro = 0xa1b2c3d4;
constexpr uint32_t kPcapNano = 0xa1b23c4d;
constexpr uint32_t kLinkUser0 = 147;  // LINKTYPE_USER0: a link the dissector cannot read

// Appends integers in the byte order of the file being written.
struct Writer {
  bool big = false;
  Buffer out;

  Writer& u8(uint8_t v) {
    out.push_back(v);
    return *this;
  }
  Writer& u16(uint16_t v) {
    return big ? u8(uint8_t(v >> 8)).u8(uint8_t(v)) : u8(uint8_t(v)).u8(uint8_t(v >> 8));
  }
  Writer& u32(uint32_t v) {
    return big ? u16(uint16_t(v >> 16)).u16(uint16_t(v)) : u16(uint16_t(v)).u16(uint16_t(v >> 16));
  }
  Writer& u64(uint64_t v) {
    return big ? u32(uint32_t(v >> 32)).u32(uint32_t(v)) : u32(uint32_t(v)).u32(uint32_t(v >> 32));
  }
  Writer& bytes(const Buffer& b) {
    out.insert(out.end(), b.begin(), b.end());
    return *this;
  }
  Writer& pad4() {
    while (out.size() % 4) out.push_back(0);
    return *this;
  }
};

Buffer cat(std::initializer_list<Buffer> parts) {
  Buffer b;
  for (const Buffer& p : parts) b.insert(b.end(), p.begin(), p.end());
  return b;
}

// Recognisable frame contents: `n` bytes counting up from `first`.
Buffer payload(uint8_t first, size_t n) {
  Buffer b(n);
  for (size_t i = 0; i < n; ++i) b[i] = uint8_t(first + i);
  return b;
}

// --- pcap -----------------------------------------------------------------------------

Buffer pcap_header(bool big, uint32_t magic, uint32_t link = 1) {
  return Writer{big}.u32(magic).u16(2).u16(4).u32(0).u32(0).u32(65535).u32(link).out;
}

Buffer pcap_record(bool big, uint32_t sec, uint32_t frac, const Buffer& data,
                   uint32_t wirelen = 0) {
  return Writer{big}
      .u32(sec)
      .u32(frac)
      .u32(uint32_t(data.size()))
      .u32(wirelen ? wirelen : uint32_t(data.size()))
      .bytes(data)
      .out;
}

// --- pcapng ---------------------------------------------------------------------------

Buffer block(bool big, uint32_t type, const Buffer& body) {
  Writer body_w{big, body};
  body_w.pad4();
  uint32_t len = uint32_t(12 + body_w.out.size());
  return Writer{big}.u32(type).u32(len).bytes(body_w.out).u32(len).out;
}

Buffer option(bool big, uint16_t code, const Buffer& value) {
  return Writer{big}.u16(code).u16(uint16_t(value.size())).bytes(value).pad4().out;
}

Buffer end_of_options(bool big) {
  return Writer{big}.u16(0).u16(0).out;
}

Buffer if_tsresol(bool big, uint8_t r) {
  return option(big, 9, {r});
}

Buffer if_tsoffset(bool big, int64_t seconds) {
  return option(big, 14, Writer{big}.u64(uint64_t(seconds)).out);
}

Buffer shb(bool big) {
  // Byte-order magic, version 1.0, section length unknown (-1).
  return block(big, 0x0a0d0d0a, Writer{big}.u32(0x1a2b3c4d).u16(1).u16(0).u64(~0ull).out);
}

Buffer idb(bool big, uint16_t link, const Buffer& options = {}, uint32_t snaplen = 0) {
  Writer w{big};
  w.u16(link).u16(0).u32(snaplen).bytes(options);
  if (!options.empty()) w.bytes(end_of_options(big));
  return block(big, 1, w.out);
}

Buffer epb(bool big, uint32_t ifid, uint64_t ts, const Buffer& data, uint32_t wirelen = 0) {
  return block(big, 6,
               Writer{big}
                   .u32(ifid)
                   .u32(uint32_t(ts >> 32))
                   .u32(uint32_t(ts))
                   .u32(uint32_t(data.size()))
                   .u32(wirelen ? wirelen : uint32_t(data.size()))
                   .bytes(data)
                   .out);
}

Buffer spb(bool big, const Buffer& data, uint32_t wirelen) {
  return block(big, 3, Writer{big}.u32(wirelen).bytes(data).out);
}

// The obsolete Packet Block (type 2): 16-bit interface id and drop count.
Buffer opb(bool big, uint16_t ifid, uint64_t ts, const Buffer& data) {
  return block(big, 2,
               Writer{big}
                   .u16(ifid)
                   .u16(0)
                   .u32(uint32_t(ts >> 32))
                   .u32(uint32_t(ts))
                   .u32(uint32_t(data.size()))
                   .u32(uint32_t(data.size()))
                   .bytes(data)
                   .out);
}

// --- reading --------------------------------------------------------------------------

struct Read {
  Buffer data;
  uint32_t caplen, wirelen;
  double ts;
  LinkType link;
};

std::vector<Read> read_all(TraceFile& t) {
  std::vector<Read> out;
  Frame f;
  while (t.next(f))
    out.push_back({Buffer(f.data, f.data + f.caplen), f.caplen, f.wirelen, f.ts, f.link});
  return out;
}

class TraceFileTest : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const Buffer& bytes) {
    std::string p = dir_.file(name);
    write_file(p, bytes);
    return p;
  }
  TempDir dir_;
};

// Reading stopped at `offset`: the damage is named with exactly that byte, the whole
// file counts as consumed and later calls stay at the end.
void expect_damage_at(TraceFile& t, uint64_t offset, const std::string& what) {
  const std::string& d = t.damage();
  std::string tail = " at byte offset " + std::to_string(offset);
  ASSERT_GE(d.size(), tail.size()) << d;
  EXPECT_EQ(d.substr(d.size() - tail.size()), tail) << d;
  EXPECT_NE(d.find(what), std::string::npos) << d;
  EXPECT_EQ(t.offset(), t.size());
  Frame f;
  EXPECT_FALSE(t.next(f));
}

// --- pcap -----------------------------------------------------------------------------

struct PcapCase {
  bool big;
  bool nano;
};

class PcapFormats : public TraceFileTest, public ::testing::WithParamInterface<PcapCase> {};

TEST_P(PcapFormats, FramesTimestampsAndLengths) {
  auto [big, nano] = GetParam();
  uint32_t unit = nano ? 1000000000 : 1000000;
  // The fractions are exact in binary (.25, .5) so the sum is exact; read with the
  // wrong unit they would be off by a factor of 1000.
  Buffer file = cat({pcap_header(big, nano ? kPcapNano : kPcapMicro),
                     pcap_record(big, 1700000000, unit / 4, payload(1, 60)),
                     pcap_record(big, 1700000001, unit / 2, payload(100, 42)),
                     pcap_record(big, 1700000002, unit - 1, payload(7, 54))});
  TraceFile t(write("trace", file));
  EXPECT_STREQ(t.format(), "pcap");
  EXPECT_EQ(t.size(), file.size());
  auto frames = read_all(t);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_DOUBLE_EQ(frames[0].ts, 1700000000.25);
  EXPECT_DOUBLE_EQ(frames[1].ts, 1700000001.5);
  // One unit short of a whole second: within half a microsecond (a double's resolution
  // here is 2.4e-7 s), so a carry into the next second or a unit error would show.
  EXPECT_NEAR(frames[2].ts, nano ? 1700000002.999999999 : 1700000002.999999, 5e-7);
  EXPECT_EQ(frames[0].data, payload(1, 60));
  EXPECT_EQ(frames[1].data, payload(100, 42));
  EXPECT_EQ(frames[2].data, payload(7, 54));
  for (const Read& r : frames) {
    EXPECT_EQ(r.caplen, r.data.size());
    EXPECT_EQ(r.wirelen, r.caplen);
    EXPECT_EQ(r.link, LinkType::ethernet);
  }
  EXPECT_TRUE(t.damage().empty()) << t.damage();
  EXPECT_EQ(t.offset(), t.size());
}

INSTANTIATE_TEST_SUITE_P(ByteOrderAndResolution, PcapFormats,
                         ::testing::Values(PcapCase{false, false}, PcapCase{false, true},
                                           PcapCase{true, false}, PcapCase{true, true}),
                         [](const auto& p) {
                           return std::string(p.param.big ? "BigEndian" : "LittleEndian") +
                                  (p.param.nano ? "Nano" : "Micro");
                         });

TEST_F(TraceFileTest, PcapSnapLengthCut) {
  // A frame captured to 60 of its 1514 bytes: the next record starts right after the
  // 60 captured bytes, not after 1514.
  Buffer file =
      cat({pcap_header(false, kPcapMicro), pcap_record(false, 10, 0, payload(0, 60), 1514),
           pcap_record(false, 11, 0, payload(50, 20))});
  TraceFile t(write("cut.pcap", file));
  auto frames = read_all(t);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].caplen, 60u);
  EXPECT_EQ(frames[0].wirelen, 1514u);
  EXPECT_EQ(frames[1].data, payload(50, 20));
  EXPECT_EQ(frames[1].wirelen, 20u);
  EXPECT_TRUE(t.damage().empty());
}

TEST_F(TraceFileTest, PcapLinkTypeCarried) {
  Buffer ip = build::tcp_packet({}, {});
  Buffer file = cat({pcap_header(true, kPcapMicro, 101), pcap_record(true, 1, 0, ip)});
  TraceFile t(write("raw.pcap", file));
  auto frames = read_all(t);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].link, LinkType::raw);
  EXPECT_TRUE(t.unsupported_links().empty());
}

// --- pcapng ---------------------------------------------------------------------------

class PcapngByteOrder : public TraceFileTest, public ::testing::WithParamInterface<bool> {};

TEST_P(PcapngByteOrder, ResolutionsOffsetsAndPacketBlocks) {
  bool big = GetParam();
  Buffer file = cat({
      shb(big), idb(big, 1),                    // 0: Ethernet, default 10^-6
      idb(big, 1, if_tsresol(big, 9)),          // 1: 10^-9
      idb(big, 1, if_tsresol(big, 0x80 | 10)),  // 2: 2^-10
      idb(big, 101,
          cat({if_tsresol(big, 3),  // 3: raw IP, 10^-3, 10^9 s offset
               if_tsoffset(big, 1000000000)})),
      epb(big, 0, 1700000000ull * 1000000 + 250000, payload(1, 60)),
      epb(big, 1, 1700000001ull * 1000000000 + 500000000, payload(2, 61), 1500),
      epb(big, 2, 1500ull * 1024 + 256, payload(3, 62)), epb(big, 3, 5500, payload(4, 40)),
      opb(big, 1, 1700000002ull * 1000000000 + 750000000, payload(5, 63)),
      spb(big, payload(6, 42), 42),  // interface 0; padding is not packet data
  });
  TraceFile t(write("trace.pcapng", file));
  EXPECT_STREQ(t.format(), "pcapng");
  auto frames = read_all(t);
  ASSERT_EQ(frames.size(), 6u);
  EXPECT_DOUBLE_EQ(frames[0].ts, 1700000000.25);
  EXPECT_DOUBLE_EQ(frames[1].ts, 1700000001.5);
  EXPECT_DOUBLE_EQ(frames[2].ts, 1500.25);
  EXPECT_DOUBLE_EQ(frames[3].ts, 1000000005.5);  // 5.5 s after the offset
  EXPECT_DOUBLE_EQ(frames[4].ts, 1700000002.75);
  EXPECT_DOUBLE_EQ(frames[5].ts, 0.0);  // SPBs carry no timestamp
  EXPECT_EQ(frames[1].caplen, 61u);
  EXPECT_EQ(frames[1].wirelen, 1500u);
  EXPECT_EQ(frames[3].link, LinkType::raw);
  for (int i : {0, 1, 2, 4, 5}) EXPECT_EQ(frames[i].link, LinkType::ethernet) << i;
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(frames[i].data, payload(uint8_t(i + 1), frames[i].data.size())) << i;
  EXPECT_EQ(frames[5].caplen, 42u);
  EXPECT_EQ(frames[5].wirelen, 42u);
  EXPECT_TRUE(t.damage().empty()) << t.damage();
}

INSTANTIATE_TEST_SUITE_P(Sections, PcapngByteOrder, ::testing::Bool(), [](const auto& p) {
  return std::string(p.param ? "BigEndian" : "LittleEndian");
});

TEST_F(TraceFileTest, PcapngSimplePacketCutBySnapLength) {
  // An SPB has no captured length: it is the original length cut to the interface's
  // snap length (pcapng spec 4.4, as libpcap reads it). The block's padding to 4
  // bytes is not packet data.
  Buffer file = cat({shb(false), idb(false, 1, {}, 30), spb(false, payload(9, 30), 100)});
  TraceFile t(write("spb.pcapng", file));
  auto frames = read_all(t);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].caplen, 30u);
  EXPECT_EQ(frames[0].wirelen, 100u);
  EXPECT_EQ(frames[0].data, payload(9, 30));
}

TEST_F(TraceFileTest, PcapngUnknownBlocksSkipped) {
  Buffer file = cat({
      shb(false),
      block(false, 4, payload(0, 16)),  // name resolution
      idb(false, 1),
      epb(false, 0, 1000000, payload(1, 60)),
      block(false, 5, payload(0, 24)),           // interface statistics
      block(false, 0x00000bad, payload(0, 13)),  // custom block, padded
      block(false, 0x12345678, {}),              // a type nobody defined, empty body
      epb(false, 0, 2000000, payload(2, 60)),
  });
  TraceFile t(write("blocks.pcapng", file));
  auto frames = read_all(t);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_DOUBLE_EQ(frames[0].ts, 1.0);
  EXPECT_DOUBLE_EQ(frames[1].ts, 2.0);
  EXPECT_EQ(frames[1].data, payload(2, 60));
  EXPECT_TRUE(t.damage().empty()) << t.damage();
}

TEST_F(TraceFileTest, PcapngTwoSectionsEachWithItsOwnByteOrderAndInterfaces) {
  // The second section redeclares its interfaces: its interface 0 is raw IP in
  // nanoseconds, whatever the first section's interface 0 was.
  Buffer file = cat({
      shb(false),
      idb(false, 1),
      epb(false, 0, 3000000, payload(1, 60)),
      shb(true),
      idb(true, 101, if_tsresol(true, 9)),
      epb(true, 0, 4500000000ull, payload(2, 40)),
  });
  TraceFile t(write("sections.pcapng", file));
  auto frames = read_all(t);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].link, LinkType::ethernet);
  EXPECT_DOUBLE_EQ(frames[0].ts, 3.0);
  EXPECT_EQ(frames[1].link, LinkType::raw);
  EXPECT_DOUBLE_EQ(frames[1].ts, 4.5);
  EXPECT_EQ(frames[1].data, payload(2, 40));
  EXPECT_TRUE(t.damage().empty()) << t.damage();
}

TEST_F(TraceFileTest, DetectedByContentWhateverTheName) {
  Buffer pcap = cat({pcap_header(false, kPcapMicro), pcap_record(false, 1, 0, payload(0, 60))});
  Buffer ng = cat({shb(false), idb(false, 1), epb(false, 0, 1000000, payload(0, 60))});
  for (const char* name : {"a.pcapng", "a.txt", "noext"}) {
    TraceFile t(write(name, pcap));
    EXPECT_STREQ(t.format(), "pcap") << name;
    EXPECT_EQ(read_all(t).size(), 1u) << name;
  }
  for (const char* name : {"b.pcap", "b.cap", "b"}) {
    TraceFile t(write(name, ng));
    EXPECT_STREQ(t.format(), "pcapng") << name;
    EXPECT_EQ(read_all(t).size(), 1u) << name;
  }
}

// Compressed by the system's own tools, whatever the name: the same frames.
TEST_F(TraceFileTest, CompressedTracesAreRead) {
  Buffer pcap = cat({pcap_header(false, kPcapMicro), pcap_record(false, 1, 0, payload(0, 60)),
                     pcap_record(false, 2, 0, payload(1, 90))});
  std::string plain = write("plain.pcap", pcap);
  TraceFile reference(plain);
  auto want = read_all(reference);
  ASSERT_EQ(want.size(), 2u);
  for (const char* tool : {"gzip", "bzip2", "xz", "zstd -q"}) {
    std::string packed = dir_.file(std::string("packed-") + tool[0] + tool[1]);
    ASSERT_EQ(std::system((std::string(tool) + " -c " + plain + " > " + packed).c_str()), 0);
    TraceFile t(packed);
    auto got = read_all(t);
    ASSERT_EQ(got.size(), want.size()) << tool;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].data, want[i].data) << tool;
      EXPECT_EQ(got[i].ts, want[i].ts) << tool;
    }
  }
  // A compressed stream cut short is one clear error naming the file.
  std::string cut = dir_.file("cut.gz");
  ASSERT_EQ(std::system(("gzip -c " + plain + " | head -c 30 > " + cut).c_str()), 0);
  try {
    TraceFile t(cut);
    ADD_FAILURE() << "a cut gzip stream was accepted";
  } catch (const TraceOpenError& e) {
    EXPECT_NE(std::string(e.what()).find(cut + ": cannot decompress"), std::string::npos)
        << e.what();
  }
}

// --- damage ---------------------------------------------------------------------------

TEST_F(TraceFileTest, PcapRecordHeaderCutShort) {
  Buffer file = cat({pcap_header(false, kPcapMicro), pcap_record(false, 1, 0, payload(1, 60)),
                     pcap_record(false, 2, 0, payload(2, 60))});
  uint64_t cut = file.size();  // 24 + 2 * (16 + 60) = 176
  Buffer next = pcap_record(false, 3, 0, payload(3, 60));
  file.insert(file.end(), next.begin(), next.begin() + 10);
  TraceFile t(write("hdr.pcap", file));
  auto frames = read_all(t);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1].data, payload(2, 60));
  EXPECT_EQ(cut, 176u);
  expect_damage_at(t, 176, "record header cut short");
}

TEST_F(TraceFileTest, PcapRecordDataCutShort) {
  Buffer file = cat({pcap_header(true, kPcapNano), pcap_record(true, 1, 0, payload(1, 60))});
  Buffer next = pcap_record(true, 2, 0, payload(2, 60));
  file.insert(file.end(), next.begin(), next.begin() + 16 + 30);  // header, half the data
  TraceFile t(write("data.pcap", file));
  auto frames = read_all(t);
  ASSERT_EQ(frames.size(), 1u);
  expect_damage_at(t, 24 + 16 + 60, "record of 60 bytes cut short (30 left)");
}

TEST_F(TraceFileTest, PcapImplausibleRecordLength) {
  // A captured length beyond any snap length and beyond the wire length is garbage:
  // trusting it would swallow the rest of the file as one frame.
  Buffer file = cat({pcap_header(false, kPcapMicro), pcap_record(false, 1, 0, payload(1, 60)),
                     Writer{false}.u32(2).u32(0).u32(0x7fffffff).u32(60).out, payload(0, 100)});
  TraceFile t(write("huge.pcap", file));
  EXPECT_EQ(read_all(t).size(), 1u);
  expect_damage_at(t, 24 + 16 + 60, "implausible record length");
}

TEST_F(TraceFileTest, PcapngBadBlockLength) {
  Buffer head = cat({shb(false), idb(false, 1), epb(false, 0, 1000000, payload(1, 60))});
  for (uint32_t bad : {13u, 8u, 0u}) {
    Buffer file = cat({head, Writer{false}.u32(6).u32(bad).u32(0).u32(0).out});
    TraceFile t(write("len.pcapng", file));
    EXPECT_EQ(read_all(t).size(), 1u) << bad;
    expect_damage_at(t, head.size(), "bad block length " + std::to_string(bad));
  }
}

TEST_F(TraceFileTest, PcapngBlockCutShort) {
  Buffer head = cat({shb(false), idb(false, 1), epb(false, 0, 1000000, payload(1, 60))});
  Buffer last = epb(false, 0, 2000000, payload(2, 60));
  Buffer file = cat({head, Buffer(last.begin(), last.end() - 20)});
  TraceFile t(write("cut.pcapng", file));
  EXPECT_EQ(read_all(t).size(), 1u);
  expect_damage_at(t, head.size(), "cut short");
}

TEST_F(TraceFileTest, PcapngTrailerMismatch) {
  Buffer head = cat({shb(true), idb(true, 1), epb(true, 0, 1000000, payload(1, 60))});
  Buffer bad = epb(true, 0, 2000000, payload(2, 60));
  bad[bad.size() - 1] ^= 4;  // the trailing copy of the length no longer agrees
  Buffer file = cat({head, bad, epb(true, 0, 3000000, payload(3, 60))});
  TraceFile t(write("trailer.pcapng", file));
  EXPECT_EQ(read_all(t).size(), 1u);
  expect_damage_at(t, head.size(), "trailer length mismatch");
}

TEST_F(TraceFileTest, PcapngPacketForUndeclaredInterface) {
  Buffer head = cat({shb(false), idb(false, 1), epb(false, 0, 1000000, payload(1, 60))});
  Buffer file = cat({head, epb(false, 1, 2000000, payload(2, 60))});
  TraceFile t(write("ifid.pcapng", file));
  EXPECT_EQ(read_all(t).size(), 1u);
  expect_damage_at(t, head.size(), "undeclared interface 1");
}

TEST_F(TraceFileTest, PcapngInterfacesDoNotOutliveTheirSection) {
  Buffer head = cat({shb(false), idb(false, 1), idb(false, 1), epb(false, 1, 0, payload(1, 60)),
                     shb(false), idb(false, 1)});
  Buffer file = cat({head, epb(false, 1, 0, payload(2, 60))});
  TraceFile t(write("sections.pcapng", file));
  EXPECT_EQ(read_all(t).size(), 1u);
  expect_damage_at(t, head.size(), "undeclared interface 1");
}

TEST_F(TraceFileTest, PcapngSimplePacketBeforeAnyInterface) {
  Buffer head = shb(false);
  TraceFile t(write("spb.pcapng", cat({head, spb(false, payload(0, 40), 40)})));
  EXPECT_EQ(read_all(t).size(), 0u);
  expect_damage_at(t, head.size(), "undeclared interface 0");
}

TEST_F(TraceFileTest, PcapngDamagedSecondSection) {
  Buffer head = cat({shb(false), idb(false, 1), epb(false, 0, 1000000, payload(1, 60))});
  Buffer second = shb(false);
  second[8] = 0x99;  // byte-order magic destroyed
  TraceFile t(write("shb.pcapng", cat({head, second})));
  EXPECT_EQ(read_all(t).size(), 1u);
  expect_damage_at(t, head.size(), "bad byte-order magic");
}

// --- files that are not traces --------------------------------------------------------

// Opening `path` fails with a message naming the file and containing `why`.
void expect_open_error(const std::string& path, const std::string& why) {
  try {
    TraceFile t(path);
    ADD_FAILURE() << path << " opened";
  } catch (const TraceOpenError& e) {
    std::string msg = e.what();
    EXPECT_EQ(msg.rfind(path + ": ", 0), 0u) << msg;
    EXPECT_NE(msg.find(why), std::string::npos) << msg;
  }
}

TEST_F(TraceFileTest, NotATrace) {
  Buffer text = {'h', 'e', 'l', 'l', 'o', ',', ' ', 'w', 'o', 'r', 'l', 'd', '\n'};
  expect_open_error(write("notes.pcap", text), "not a pcap or pcapng file (starts with 0x");
}

TEST_F(TraceFileTest, EmptyFile) {
  expect_open_error(write("empty.pcap", {}), "not a pcap or pcapng file (only 0 bytes)");
}

TEST_F(TraceFileTest, Directory) {
  expect_open_error(dir_.path().string(), "not a regular file");
}

TEST_F(TraceFileTest, MissingFile) {
  expect_open_error(dir_.file("absent.pcap"), "No such file or directory");
}

TEST_F(TraceFileTest, FileHeaderCutShort) {
  // Without a whole file header there is no link type or section to read frames in:
  // nothing can be observed, so the file cannot be opened (exit status 1), rather
  // than being an empty trace damaged at byte 0.
  Buffer pcap = pcap_header(false, kPcapMicro);
  expect_open_error(write("short.pcap", Buffer(pcap.begin(), pcap.begin() + 20)),
                    "pcap file header cut short (20 bytes)");
  Buffer ng = shb(false);
  expect_open_error(write("short.pcapng", Buffer(ng.begin(), ng.begin() + 20)),
                    "section header block cut short at byte offset 0");
}

// --- link types -----------------------------------------------------------------------

TEST_F(TraceFileTest, UnsupportedLinkTypeFramesCountAsNonIp) {
  // An IP packet on a link the dissector cannot read is still delivered (the observer
  // counts it) but no flow is made of it.
  Buffer ip = build::tcp_packet({}, {});
  Buffer file = cat({pcap_header(false, kPcapMicro, kLinkUser0), pcap_record(false, 1, 0, ip),
                     pcap_record(false, 2, 0, ip)});
  std::string path = write("user0.pcap", file);
  TraceFile t(path);
  auto frames = read_all(t);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].link, LinkType::unknown);
  EXPECT_EQ(t.unsupported_links(), std::vector<uint32_t>{kLinkUser0});

  ChainSet chains = ChainSet::from_names(std::vector<std::string>{"basic"});
  testing::StringFlowSink sink(chains);
  Observer obs(chains, {}, sink);
  TraceFile again(path);
  Frame f;
  while (again.next(f)) obs.on_frame(f);
  obs.flush();
  EXPECT_EQ(obs.stats().packets, 2u);
  EXPECT_EQ(obs.stats().non_ip, 2u);
  EXPECT_EQ(obs.stats().malformed, 0u);
  EXPECT_EQ(obs.stats().flows, 0u);
  EXPECT_TRUE(sink.text().empty());
}

TEST_F(TraceFileTest, UnsupportedLinkReportedOncePerType) {
  Buffer file = cat({shb(false), idb(false, uint16_t(kLinkUser0)), idb(false, 1),
                     idb(false, uint16_t(kLinkUser0)), epb(false, 2, 0, payload(0, 20)),
                     epb(false, 1, 0, payload(0, 60))});
  TraceFile t(write("mixed.pcapng", file));
  auto frames = read_all(t);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].link, LinkType::unknown);
  EXPECT_EQ(frames[1].link, LinkType::ethernet);
  EXPECT_EQ(t.unsupported_links(), std::vector<uint32_t>{kLinkUser0});
}

// --- a real capture -------------------------------------------------------------------

TEST(TraceFileConformance, IcmpTtlPcapng) {
  const char* dir = std::getenv("PSPDR_CONFORMANCE_DIR");
  std::string path = dir ? std::string(dir) + "/pcaps/icmp_ttl.pcap" : "";
  if (path.empty() || !std::filesystem::exists(path))
    GTEST_SKIP() << "PATHspider conformance trace not found at '" << path
                 << "' (set PSPDR_CONFORMANCE_DIR to ../shared/conformance/pathspider)";
  TraceFile t(path);
  EXPECT_STREQ(t.format(), "pcapng");  // despite its .pcap name
  Frame f;
  ASSERT_TRUE(t.next(f));
  // `tshark -r icmp_ttl.pcap -c 1 -T fields -e frame.time_epoch` prints
  // 1476824617.995002000 (its EPB holds 0x00053f2a:06c04afa microseconds). Within half
  // a microsecond, so a unit error or an off-by-one tick would show.
  EXPECT_NEAR(f.ts, 1476824617.995002, 5e-7);
  EXPECT_EQ(f.link, LinkType::raw);
  EXPECT_EQ(f.caplen, 40u);
  uint64_t n = 1;
  while (t.next(f)) ++n;
  EXPECT_EQ(n, 9009u);  // capinfos: "Number of packets: 9009"
  EXPECT_TRUE(t.damage().empty()) << t.damage();
}

}  // namespace
}  // namespace pspdr
