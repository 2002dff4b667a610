#include "shared/builder.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>

#include "shared/bytes.hpp"

namespace pspdr::build {
namespace {

struct Addr {
  uint8_t version = 4;
  uint8_t bytes[16] = {};
};

Addr parse(const std::string& text) {
  Addr a;
  if (inet_pton(AF_INET, text.c_str(), a.bytes) == 1) return a;
  a.version = 6;
  if (inet_pton(AF_INET6, text.c_str(), a.bytes) == 1) return a;
  throw std::invalid_argument("not an IP address: " + text);
}

uint32_t sum16(const uint8_t* p, size_t n, uint32_t acc = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) acc += load_be16(p + i);
  if (n & 1) acc += uint32_t(p[n - 1]) << 8;
  return acc;
}

uint16_t fold(uint32_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return uint16_t(~acc);
}

uint32_t pseudo_header(const Addr& s, const Addr& d, uint8_t proto, uint32_t len) {
  size_t n = s.version == 4 ? 4 : 16;
  return sum16(s.bytes, n, sum16(d.bytes, n)) + proto + (len & 0xffff) + (len >> 16);
}

// Wraps a transport segment in an IP header; `csum_at` is the checksum's offset in the
// segment (or -1), computed over the pseudo-header.
// `covered`: the bytes of `seg` its checksum covers (a UDP surplus area is outside it).
Buffer ip_wrap(const Ip& ip, uint8_t proto, Buffer seg, int csum_at, bool zero_csum = false,
               size_t covered = SIZE_MAX) {
  Addr s = parse(ip.src), d = parse(ip.dst);
  if (s.version != d.version) throw std::invalid_argument("address families differ");
  covered = std::min(covered, seg.size());
  if (csum_at >= 0 && !zero_csum) {
    uint16_t c = fold(sum16(seg.data(), covered, pseudo_header(s, d, proto, uint32_t(covered))));
    if (c == 0 && proto == 17) c = 0xffff;  // UDP sends a computed zero as all ones
    store_be16(seg.data() + csum_at, c);
  }
  Buffer out;
  out.reserve(60 + seg.size());  // the longest IPv4 header: one allocation, no regrowth
  if (s.version == 4) {
    Buffer opts = ip.ipv4_options;
    while (opts.size() % 4) opts.push_back(0);
    size_t hl = 20 + opts.size();
    out.resize(hl);
    out[0] = uint8_t(0x40 | (hl / 4));
    out[1] = ip.tos;
    store_be16(&out[2], uint16_t(hl + seg.size()));
    store_be16(&out[4], ip.id);
    uint16_t frag = ip.fragment_offset & 0x1fff;
    if (ip.evil) frag |= 0x8000;
    if (ip.dont_fragment) frag |= 0x4000;
    if (ip.more_fragments) frag |= 0x2000;
    store_be16(&out[6], frag);
    out[8] = ip.ttl;
    out[9] = proto;
    std::copy(s.bytes, s.bytes + 4, &out[12]);
    std::copy(d.bytes, d.bytes + 4, &out[16]);
    std::copy(opts.begin(), opts.end(), &out[20]);
    store_be16(&out[10], fold(sum16(out.data(), hl)));
  } else {
    out.resize(40);
    store_be32(&out[0], 0x60000000u | uint32_t(ip.tos) << 20);
    store_be16(&out[4], uint16_t(seg.size()));
    out[6] = proto;
    out[7] = ip.ttl;
    std::copy(s.bytes, s.bytes + 16, &out[8]);
    std::copy(d.bytes, d.bytes + 16, &out[24]);
  }
  out.insert(out.end(), seg.begin(), seg.end());
  return out;
}

bool is_v6(const Ip& ip) {
  return parse(ip.src).version == 6;
}

}  // namespace

namespace opt {
namespace {

void put16(Buffer& b, uint16_t v) {
  b.push_back(uint8_t(v >> 8));
  b.push_back(uint8_t(v));
}
void put32(Buffer& b, uint32_t v) {
  put16(b, uint16_t(v >> 16));
  put16(b, uint16_t(v));
}
void put64(Buffer& b, uint64_t v) {
  put32(b, uint32_t(v >> 32));
  put32(b, uint32_t(v));
}
// DSS acks and sequence numbers: 8 octets when the flag says so, else 4.
void put_4_or_8(Buffer& b, uint64_t v, bool eight) {
  eight ? put64(b, v) : put32(b, uint32_t(v));
}
void put(Buffer& b, Bytes bytes) {
  b.insert(b.end(), bytes.begin(), bytes.end());
}

// The value bytes (after kind and length) of each option, laid out as
// decode_tcp_option reads them.
struct ValueEncoder {
  Buffer& v;

  void operator()(const tcpopt::Eol&) {}
  void operator()(const tcpopt::Nop&) {}
  void operator()(const tcpopt::Mss& o) { put16(v, o.mss); }
  void operator()(const tcpopt::WindowScale& o) { v.push_back(o.shift_count); }
  void operator()(const tcpopt::SackPermitted&) {}
  void operator()(const tcpopt::Sack& o) { put(v, o.edges); }
  void operator()(const tcpopt::Echo& o) { put32(v, o.info); }
  void operator()(const tcpopt::EchoReply& o) { put32(v, o.info); }
  void operator()(const tcpopt::Timestamps& o) {
    put32(v, o.tsval);
    put32(v, o.tsecr);
  }
  void operator()(const tcpopt::PocPermitted&) {}
  void operator()(const tcpopt::PocServiceProfile& o) {
    v.push_back(uint8_t((o.start_flag ? 0x80 : 0) | (o.end_flag ? 0x40 : 0)));
  }
  void operator()(const tcpopt::Cc& o) { put32(v, o.cc); }
  void operator()(const tcpopt::CcNew& o) { put32(v, o.cc); }
  void operator()(const tcpopt::CcEcho& o) { put32(v, o.cc); }
  void operator()(const tcpopt::AltChecksumRequest& o) { v.push_back(o.algorithm); }
  void operator()(const tcpopt::AltChecksumData& o) { put(v, o.data); }
  void operator()(const tcpopt::Md5Signature& o) { put(v, o.digest); }
  void operator()(const tcpopt::QuickStart& o) {
    v.push_back(uint8_t(o.function << 4 | (o.rate_request & 0x0f)));
    v.push_back(o.ttl_diff);
    put32(v, o.nonce << 2);  // the low two bits are reserved
  }
  void operator()(const tcpopt::UserTimeout& o) {
    put16(v, uint16_t((o.granularity ? 0x8000 : 0) | (o.timeout & 0x7fff)));
  }
  void operator()(const tcpopt::TcpAo& o) {
    v.push_back(o.key_id);
    v.push_back(o.rnext_key_id);
    put(v, o.mac);
  }
  void operator()(const tcpopt::FastOpen& o) { put(v, o.cookie); }
  void operator()(const tcpopt::Experimental& o) {
    put16(v, o.exid);
    put(v, o.data);
  }
  void operator()(const tcpopt::Raw& o) { put(v, o.data); }

  // MPTCP: the subtype in the first byte's high nibble.
  void subtype(uint8_t number, uint8_t low_nibble) {
    v.push_back(uint8_t(number << 4 | (low_nibble & 0x0f)));
  }
  void operator()(const tcpopt::MpCapable& o) {
    subtype(0, o.version);
    v.push_back(o.flags);
    if (o.sender_key) put64(v, *o.sender_key);
    if (o.receiver_key) put64(v, *o.receiver_key);
    if (o.data_level_length) put16(v, *o.data_level_length);
    if (o.checksum) put16(v, *o.checksum);
  }
  void operator()(const tcpopt::MpJoinSyn& o) {
    subtype(1, o.backup);
    v.push_back(o.addr_id);
    put32(v, o.receiver_token);
    put32(v, o.sender_random);
  }
  void operator()(const tcpopt::MpJoinSynAck& o) {
    subtype(1, o.backup);
    v.push_back(o.addr_id);
    put64(v, o.sender_truncated_hmac);
    put32(v, o.sender_random);
  }
  void operator()(const tcpopt::MpJoinAck& o) {
    subtype(1, 0);
    v.push_back(0);
    put(v, o.sender_hmac);
  }
  void operator()(const tcpopt::MpDss& o) {
    subtype(2, 0);
    v.push_back(o.flags);
    if (o.data_ack) put_4_or_8(v, *o.data_ack, o.flags & 0x02);
    if (o.mapping) {
      put_4_or_8(v, o.mapping->dsn, o.flags & 0x08);
      put32(v, o.mapping->ssn);
      put16(v, o.mapping->data_level_length);
      if (o.mapping->checksum) put16(v, *o.mapping->checksum);
    }
  }
  void operator()(const tcpopt::MpAddAddr& o) {
    subtype(3, o.address.version());
    v.push_back(o.addr_id);
    put(v, Bytes{o.address.bytes(), o.address.version() == 4 ? 4u : 16u});
    if (o.port) put16(v, *o.port);
  }
  void operator()(const tcpopt::MpRemoveAddr& o) {
    subtype(4, 0);
    put(v, o.addr_ids);
  }
  void operator()(const tcpopt::MpPrio& o) {
    subtype(5, o.backup);
    if (o.addr_id) v.push_back(*o.addr_id);
  }
  void operator()(const tcpopt::MpFail& o) {
    subtype(6, 0);
    v.push_back(0);
    put64(v, o.dsn);
  }
  void operator()(const tcpopt::MpFastclose& o) {
    subtype(7, 0);
    v.push_back(0);
    put64(v, o.receiver_key);
  }
  void operator()(const tcpopt::MpUnknown& o) { put(v, o.data); }
};

}  // namespace

Buffer encode(const TcpOptionFields& option) {
  if (option.kind == tcpopt::eol || option.kind == tcpopt::nop) return {option.kind};
  Buffer value;
  std::visit(ValueEncoder{value}, option.fields);
  return raw(option.kind, value);
}
Buffer raw(uint8_t kind, const Buffer& value) {
  Buffer b(2 + value.size());
  b[0] = kind;
  b[1] = uint8_t(2 + value.size());
  std::copy(value.begin(), value.end(), b.begin() + 2);
  return b;
}
Buffer nop() {
  return {tcpopt::nop};
}
Buffer mss(uint16_t v) {
  return encode({tcpopt::mss, tcpopt::Mss{v}});
}
Buffer window_scale(uint8_t shift) {
  return encode({tcpopt::ws, tcpopt::WindowScale{shift}});
}
Buffer sack_permitted() {
  return encode({tcpopt::sack_permitted, tcpopt::SackPermitted{}});
}
Buffer timestamps(uint32_t tsval, uint32_t tsecr) {
  return encode({tcpopt::timestamps, tcpopt::Timestamps{tsval, tsecr}});
}
Buffer fast_open(const Buffer& cookie) {
  return encode({tcpopt::fast_open, tcpopt::FastOpen{{cookie.data(), uint32_t(cookie.size())}}});
}
Buffer experimental(uint8_t kind, uint16_t exid, const Buffer& data) {
  return encode({kind, tcpopt::Experimental{exid, {data.data(), uint32_t(data.size())}}});
}
Buffer cat(std::initializer_list<Buffer> parts) {
  Buffer b;
  for (const Buffer& p : parts) b.insert(b.end(), p.begin(), p.end());
  return b;
}
}  // namespace opt

Buffer tcp_packet(const Ip& ip, const Tcp& t) {
  Buffer opts = t.options;
  while (opts.size() % 4) opts.push_back(0);
  size_t hl = 20 + opts.size();
  Buffer seg;
  seg.reserve(hl + t.payload.size());
  seg.resize(hl);
  store_be16(&seg[0], t.sport);
  store_be16(&seg[2], t.dport);
  store_be32(&seg[4], t.seq);
  store_be32(&seg[8], t.ack);
  uint8_t doff = t.doff_override >= 0 ? uint8_t(t.doff_override) : uint8_t(hl / 4);
  seg[12] = uint8_t(doff << 4 | (t.ns ? 1 : 0));
  seg[13] = t.flags;
  store_be16(&seg[14], t.window);
  store_be16(&seg[18], t.urgent);
  std::copy(opts.begin(), opts.end(), &seg[20]);
  seg.insert(seg.end(), t.payload.begin(), t.payload.end());
  return ip_wrap(ip, 6, std::move(seg), 16);
}

void retarget(std::span<uint8_t> p, std::span<const uint8_t> dst, uint16_t sport, uint32_t seq) {
  bool v4 = (p[0] >> 4) == 4;
  size_t hl = v4 ? 20 : 40, addr = v4 ? 12 : 8, n = dst.size();
  std::copy(dst.begin(), dst.end(), &p[addr + n]);
  uint8_t* tcp = &p[hl];
  store_be16(tcp, sport);
  store_be32(tcp + 4, seq);
  store_be16(tcp + 16, 0);
  size_t len = p.size() - hl;
  uint32_t pseudo = sum16(&p[addr], 2 * n) + 6 + uint32_t(len);
  store_be16(tcp + 16, fold(sum16(tcp, len, pseudo)));
  if (!v4) return;
  store_be16(&p[10], 0);
  store_be16(&p[10], fold(sum16(p.data(), 20)));
}

Buffer udp_packet(const Ip& ip, const Udp& u) {
  Buffer seg(8);
  store_be16(&seg[0], u.sport);
  store_be16(&seg[2], u.dport);
  store_be16(&seg[4], uint16_t(8 + u.payload.size()));
  seg.insert(seg.end(), u.payload.begin(), u.payload.end());
  size_t udp_length = seg.size();
  seg.insert(seg.end(), u.surplus.begin(), u.surplus.end());
  return ip_wrap(ip, 17, std::move(seg), 6, u.zero_checksum, udp_length);
}

Buffer udp_options(uint16_t udp_length, const Buffer& options) {
  Buffer area(udp_length % 2 ? 1 : 0, 0);
  size_t ocs_at = area.size();
  area.insert(area.end(), {0, 0});
  area.insert(area.end(), options.begin(), options.end());
  uint8_t length[2] = {uint8_t((area.size() - ocs_at) >> 8), uint8_t(area.size() - ocs_at)};
  uint32_t sum = sum16(length, 2, 0);
  // The options start at an even offset from the OCS: summing from there keeps 16-bit words.
  store_be16(&area[ocs_at], fold(sum16(area.data() + ocs_at, area.size() - ocs_at, sum)));
  return area;
}

Buffer icmp_packet(const Ip& ip, uint8_t type, uint8_t code, const Buffer& quoted) {
  bool v6 = is_v6(ip);
  Buffer seg(8);
  seg[0] = type;
  seg[1] = code;
  seg.insert(seg.end(), quoted.begin(), quoted.end());
  if (v6) return ip_wrap(ip, 58, std::move(seg), 2);
  store_be16(&seg[2], fold(sum16(seg.data(), seg.size())));  // ICMPv4: no pseudo-header
  return ip_wrap(ip, 1, std::move(seg), -1);
}

Buffer frame(LinkType link, const Buffer& pkt, int vlans) {
  bool v6 = !pkt.empty() && (pkt[0] >> 4) == 6;
  uint16_t ethertype = v6 ? 0x86dd : 0x0800;
  Buffer out;
  out.reserve(64 + pkt.size());  // room for any link header short of many VLAN tags
  switch (link) {
    case LinkType::ethernet: {
      out = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1};
      for (int i = 0; i < vlans; ++i) {
        uint16_t tpid = (i == 0 && vlans > 1) ? 0x88a8 : 0x8100;
        out.insert(out.end(), {uint8_t(tpid >> 8), uint8_t(tpid), 0, uint8_t(10 + i)});
      }
      out.insert(out.end(), {uint8_t(ethertype >> 8), uint8_t(ethertype)});
      break;
    }
    case LinkType::linux_sll:
      out.assign(16, 0);
      store_be16(&out[2], 1);  // ARPHRD_ETHER
      store_be16(&out[14], ethertype);
      break;
    case LinkType::linux_sll2:
      out.assign(20, 0);
      store_be16(&out[0], ethertype);
      store_be16(&out[8], 1);
      break;
    case LinkType::null_bsd:
      out = {uint8_t(v6 ? 30 : 2), 0, 0, 0};  // little-endian host, BSD AF_INET6 = 30
      break;
    case LinkType::loop:
      out = {0, 0, 0, uint8_t(v6 ? 24 : 2)};
      break;
    default:  // raw IP link types
      break;
  }
  out.insert(out.end(), pkt.begin(), pkt.end());
  return out;
}

}  // namespace pspdr::build
