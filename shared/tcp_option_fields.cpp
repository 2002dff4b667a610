#include "shared/tcp_option_fields.hpp"

namespace pspdr {

using namespace tcpopt;

namespace {

constexpr uint8_t kExperiment1 = 253;  // RFC 4727; tcp.hpp names 254 (and 255) after PATHspider

namespace mpsubtype {
constexpr uint8_t capable = 0, join = 1, dss = 2, add_addr = 3, remove_addr = 4, prio = 5, fail = 6,
                  fastclose = 7;
}

TcpOptionFields malformed(const TcpOption& o, const char* why) {
  return {o.kind, Raw{o.data}, why};
}

// Fixed-length kinds: `make` reads the value only once its length is known to be right.
template <class Make>
TcpOptionFields fixed(const TcpOption& o, uint8_t length, const char* why, Make make) {
  if (o.length != length) return malformed(o, why);
  return {o.kind, make(o.data.data)};
}

// DSS sequence numbers and acks are 4 or 8 octets depending on a flag.
uint64_t load_be(const uint8_t* p, uint32_t n) {
  return n == 8 ? load_be64(p) : load_be32(p);
}

TcpOptionFields decode_dss(const TcpOption& o) {
  Bytes d = o.data;
  if (d.size < 2) return malformed(o, "DSS option without its flags");
  uint8_t flags = d[1];
  uint32_t ack_len = flags & 0x01 ? (flags & 0x02 ? 8 : 4) : 0;
  uint32_t dsn_len = flags & 0x04 ? (flags & 0x08 ? 8 : 4) : 0;
  uint32_t size = 2 + ack_len + (dsn_len ? dsn_len + 6 : 0);
  bool checksum = dsn_len && d.size == size + 2;
  if (d.size != size && !checksum) return malformed(o, "DSS length does not match its flags");
  MpDss f{flags, (flags & 0x10) != 0, std::nullopt, std::nullopt};
  if (ack_len) f.data_ack = load_be(d.data + 2, ack_len);
  if (dsn_len) {
    const uint8_t* m = d.data + 2 + ack_len;
    f.mapping = MpDssMapping{load_be(m, dsn_len), load_be32(m + dsn_len),
                             load_be16(m + dsn_len + 4), std::nullopt};
    if (checksum) f.mapping->checksum = load_be16(m + dsn_len + 6);
  }
  return {o.kind, f};
}

TcpOptionFields decode_mptcp(const TcpOption& o) {
  Bytes d = o.data;
  const uint8_t* p = d.data;
  if (d.empty()) return malformed(o, "MPTCP option without a subtype");
  uint8_t subtype = d[0] >> 4;
  bool backup = (d[0] & 0x01) != 0;
  switch (subtype) {
    case mpsubtype::capable: {
      if (d.size != 2 && d.size != 10 && d.size != 18 && d.size != 20 && d.size != 22)
        return malformed(o, "MP_CAPABLE length is not 4, 12, 20, 22 or 24");
      MpCapable f{uint8_t(d[0] & 0x0f), d[1], {}, {}, {}, {}};
      if (d.size >= 10) f.sender_key = load_be64(p + 2);
      if (d.size >= 18) f.receiver_key = load_be64(p + 10);
      if (d.size >= 20) f.data_level_length = load_be16(p + 18);
      if (d.size >= 22) f.checksum = load_be16(p + 20);
      return {o.kind, f};
    }
    case mpsubtype::join:
      // The length tells which handshake packet carries it.
      if (d.size == 10)
        return {o.kind, MpJoinSyn{backup, d[1], load_be32(p + 2), load_be32(p + 6)}};
      if (d.size == 14)
        return {o.kind, MpJoinSynAck{backup, d[1], load_be64(p + 2), load_be32(p + 10)}};
      if (d.size == 22) return {o.kind, MpJoinAck{d.sub(2, 20)}};
      return malformed(o, "MP_JOIN length is not 12, 16 or 24");
    case mpsubtype::dss:
      return decode_dss(o);
    case mpsubtype::add_addr: {
      uint8_t version = d[0] & 0x0f;
      if (version != 4 && version != 6) return malformed(o, "ADD_ADDR IP version is not 4 or 6");
      uint32_t addr_len = version == 4 ? 4 : 16;
      if (d.size != 2 + addr_len && d.size != 4 + addr_len)
        return malformed(o, version == 4 ? "ADD_ADDR (IPv4) length is not 8 or 10"
                                         : "ADD_ADDR (IPv6) length is not 20 or 22");
      MpAddAddr f{d[1], IpAddress(version, p + 2), std::nullopt};
      if (d.size == 4 + addr_len) f.port = load_be16(p + 2 + addr_len);
      return {o.kind, f};
    }
    case mpsubtype::remove_addr:
      if (d.size < 2) return malformed(o, "REMOVE_ADDR lists no address ID");
      return {o.kind, MpRemoveAddr{d.from(1)}};
    case mpsubtype::prio:
      if (d.size > 2) return malformed(o, "MP_PRIO length is not 3 or 4");
      return {o.kind, MpPrio{backup, d.size == 2 ? std::optional<uint8_t>(d[1]) : std::nullopt}};
    case mpsubtype::fail:
      if (d.size != 10) return malformed(o, "MP_FAIL length is not 12");
      return {o.kind, MpFail{load_be64(p + 2)}};
    case mpsubtype::fastclose:
      if (d.size != 10) return malformed(o, "MP_FASTCLOSE length is not 12");
      return {o.kind, MpFastclose{load_be64(p + 2)}};
    default:
      return {o.kind, MpUnknown{subtype, d}};
  }
}

}  // namespace

TcpOptionFields decode_tcp_option(const TcpOption& o) {
  if (o.kind == eol) return {o.kind, Eol{}};
  if (o.kind == nop) return {o.kind, Nop{}};
  if (o.length < 2) return malformed(o, "option length below 2");
  // The walker clips an option that runs past the list; its declared fields are not there.
  if (o.data.size != o.length - 2u) return malformed(o, "option runs past the end of the list");
  Bytes d = o.data;
  switch (o.kind) {
    case mss:
      return fixed(o, 4, "MSS length is not 4", [](const uint8_t* v) { return Mss{load_be16(v)}; });
    case ws:
      return fixed(o, 3, "window scale length is not 3",
                   [](const uint8_t* v) { return WindowScale{v[0]}; });
    case sack_permitted:
      return fixed(o, 2, "SACK-permitted length is not 2",
                   [](const uint8_t*) { return SackPermitted{}; });
    case sack:
      if (d.size == 0 || d.size % 8 != 0) return malformed(o, "SACK length is not 2 + 8n (n >= 1)");
      return {o.kind, Sack{d}};
    case echo:
      return fixed(o, 6, "echo length is not 6",
                   [](const uint8_t* v) { return Echo{load_be32(v)}; });
    case echo_reply:
      return fixed(o, 6, "echo reply length is not 6",
                   [](const uint8_t* v) { return EchoReply{load_be32(v)}; });
    case timestamps:
      return fixed(o, 10, "timestamps length is not 10", [](const uint8_t* v) {
        return Timestamps{load_be32(v), load_be32(v + 4)};
      });
    case poc_permitted:
      return fixed(o, 2, "POC-permitted length is not 2",
                   [](const uint8_t*) { return PocPermitted{}; });
    case poc_service:
      return fixed(o, 3, "POC service profile length is not 3", [](const uint8_t* v) {
        return PocServiceProfile{(v[0] & 0x80) != 0, (v[0] & 0x40) != 0};
      });
    case cc:
      return fixed(o, 6, "CC length is not 6", [](const uint8_t* v) { return Cc{load_be32(v)}; });
    case cc_new:
      return fixed(o, 6, "CC.NEW length is not 6",
                   [](const uint8_t* v) { return CcNew{load_be32(v)}; });
    case cc_echo:
      return fixed(o, 6, "CC.ECHO length is not 6",
                   [](const uint8_t* v) { return CcEcho{load_be32(v)}; });
    case alt_checksum_request:
      return fixed(o, 3, "alternate checksum request length is not 3",
                   [](const uint8_t* v) { return AltChecksumRequest{v[0]}; });
    case alt_checksum_data:
      return {o.kind, AltChecksumData{d}};
    case md5:
      if (d.size != 16) return malformed(o, "MD5 signature length is not 18");
      return {o.kind, Md5Signature{d}};
    case quick_start:
      return fixed(o, 8, "quick-start length is not 8", [](const uint8_t* v) {
        return QuickStart{uint8_t(v[0] >> 4), uint8_t(v[0] & 0x0f), v[1], load_be32(v + 2) >> 2};
      });
    case user_timeout:
      return fixed(o, 4, "user timeout length is not 4", [](const uint8_t* v) {
        return UserTimeout{(v[0] & 0x80) != 0, uint16_t(load_be16(v) & 0x7fff)};
      });
    case tcp_ao:
      if (d.size < 2) return malformed(o, "TCP-AO length is below 4");
      return {o.kind, TcpAo{d[0], d[1], d.from(2)}};
    case mptcp:
      return decode_mptcp(o);
    case fast_open:
      // RFC 7413: a cookie request (no cookie) or a cookie of 4 to 16 bytes.
      if (d.size != 0 && (d.size < 4 || d.size > 16))
        return malformed(o, "Fast Open cookie is not 0 or 4 to 16 bytes");
      return {o.kind, FastOpen{d}};
    case kExperiment1:
    case exp_a:  // 255 (PATHspider's exp_b) is reserved, not an experiment: raw
      if (d.size < 2) return malformed(o, "experimental option without an ExID");
      return {o.kind, Experimental{load_be16(d.data), d.from(2)}};
    default:
      return {o.kind, Raw{d}};
  }
}

std::string_view tcp_option_name(uint8_t kind) {
  switch (kind) {
    case 0:
      return "End of Option List";
    case 1:
      return "No-Operation";
    case 2:
      return "Maximum Segment Size";
    case 3:
      return "Window Scale";
    case 4:
      return "SACK Permitted";
    case 5:
      return "SACK";
    case 6:
      return "Echo";
    case 7:
      return "Echo Reply";
    case 8:
      return "Timestamps";
    case 9:
      return "Partial Order Connection Permitted";
    case 10:
      return "Partial Order Service Profile";
    case 11:
      return "CC";
    case 12:
      return "CC.NEW";
    case 13:
      return "CC.ECHO";
    case 14:
      return "TCP Alternate Checksum Request";
    case 15:
      return "TCP Alternate Checksum Data";
    case 16:
      return "Skeeter";
    case 17:
      return "Bubba";
    case 18:
      return "Trailer Checksum Option";
    case 19:
      return "MD5 Signature Option";
    case 20:
      return "SCPS Capabilities";
    case 21:
      return "Selective Negative Acknowledgements";
    case 22:
      return "Record Boundaries";
    case 23:
      return "Corruption experienced";
    case 24:
      return "SNAP";
    case 25:
      return "Unassigned";
    case 26:
      return "TCP Compression Filter";
    case 27:
      return "Quick-Start Response";
    case 28:
      return "User Timeout Option";
    case 29:
      return "TCP Authentication Option";
    case 30:
      return "Multipath TCP";
    case 34:
      return "TCP Fast Open Cookie";
    case 69:
      return "Encryption Negotiation";
    case 172:
      return "Accurate ECN Order 0";
    case 174:
      return "Accurate ECN Order 1";
    case 253:
      return "RFC3692-style Experiment 1";
    case 254:
      return "RFC3692-style Experiment 2";
    case 255:
      return "Unknown";  // outside pcapkit's table
    default:
      return "Reserved";
  }
}

}  // namespace pspdr
