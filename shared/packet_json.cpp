#include "shared/packet_json.hpp"

#include <string_view>

#include "shared/address.hpp"
#include "shared/tcp_option_fields.hpp"

namespace pspdr {
namespace {

void hex_value(JsonWriter& out, Bytes b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  out.raw("\"");
  char buf[64];
  uint32_t n = 0;
  for (uint8_t byte : b) {
    buf[n++] = kDigits[byte >> 4];
    buf[n++] = kDigits[byte & 15];
    if (n == sizeof buf) {
      out.raw({buf, n});
      n = 0;
    }
  }
  out.raw({buf, n});
  out.raw("\"");
}

void hex_field(JsonWriter& out, std::string_view key, Bytes b) {
  out.key(key);
  hex_value(out, b);
}

// An integer printed as the bytes it was on the wire (pcapkit shows echo data and HMACs
// as bytes).
template <class Int>
void hex_field_be(JsonWriter& out, std::string_view key, Int v) {
  uint8_t be[sizeof v];
  for (size_t i = 0; i < sizeof v; ++i) be[i] = uint8_t(v >> (8 * (sizeof v - 1 - i)));
  hex_field(out, key, Bytes{be, uint32_t(sizeof v)});
}

void address_field(JsonWriter& out, std::string_view key, const IpAddress& a) {
  char buf[IpAddress::kMaxText];
  out.field(key, a.format(buf));
}

// The fields each option kind adds to {"kind", "name", "length"}: pcapkit's names.
struct OptionFieldWriter {
  JsonWriter& out;

  void operator()(const tcpopt::Eol&) {}
  void operator()(const tcpopt::Nop&) {}
  void operator()(const tcpopt::Mss& o) { out.field("mss", o.mss); }
  void operator()(const tcpopt::WindowScale& o) { out.field("shift", o.shift_count); }
  void operator()(const tcpopt::SackPermitted&) {}
  void operator()(const tcpopt::Sack& o) {
    out.key("sack");
    out.begin_array();
    for (uint32_t i = 0; i < o.count(); ++i) {
      tcpopt::SackBlock b = o.block(i);
      out.element();
      out.begin_object();
      out.field("left", b.left_edge);
      out.field("right", b.right_edge);
      out.end_object();
    }
    out.end_array();
  }
  void operator()(const tcpopt::Echo& o) { hex_field_be(out, "data", o.info); }
  void operator()(const tcpopt::EchoReply& o) { hex_field_be(out, "data", o.info); }
  void operator()(const tcpopt::Timestamps& o) {
    out.field("timestamp", o.tsval);
    out.field("echo", o.tsecr);
  }
  void operator()(const tcpopt::PocPermitted&) {}
  void operator()(const tcpopt::PocServiceProfile& o) {
    out.field("start", o.start_flag);
    out.field("end", o.end_flag);
  }
  void operator()(const tcpopt::Cc& o) { out.field("cc", o.cc); }
  void operator()(const tcpopt::CcNew& o) { out.field("cc", o.cc); }
  void operator()(const tcpopt::CcEcho& o) { out.field("cc", o.cc); }
  void operator()(const tcpopt::AltChecksumRequest& o) { out.field("chksum", o.algorithm); }
  void operator()(const tcpopt::AltChecksumData& o) { hex_field(out, "data", o.data); }
  void operator()(const tcpopt::Md5Signature& o) { hex_field(out, "digest", o.digest); }
  void operator()(const tcpopt::QuickStart& o) {
    out.field("function", o.function);
    out.field("req_rate", o.rate_request);
    out.field("ttl_diff", o.ttl_diff);
    out.field("nonce", o.nonce);
  }
  void operator()(const tcpopt::UserTimeout& o) {
    out.field("granularity", o.granularity);
    out.field("timeout", o.timeout);
  }
  void operator()(const tcpopt::TcpAo& o) {
    out.field("key_id", o.key_id);
    out.field("next_key_id", o.rnext_key_id);
    hex_field(out, "mac", o.mac);
  }
  void operator()(const tcpopt::FastOpen& o) { hex_field(out, "cookie", o.cookie); }
  void operator()(const tcpopt::Experimental& o) {
    out.field("exid", o.exid);
    hex_field(out, "data", o.data);
  }
  void operator()(const tcpopt::Raw& o) { hex_field(out, "data", o.data); }

  // MPTCP: "subtype" and "subtype_name" first, then the subtype's own fields.
  void subtype(uint8_t number, std::string_view name) {
    out.field("subtype", number);
    out.field("subtype_name", name);
  }
  void operator()(const tcpopt::MpCapable& o) {
    subtype(0, "MP_CAPABLE");
    out.field("version", o.version);
    out.field("flags", o.flags);
    out.field("skey", o.sender_key);
    out.field("rkey", o.receiver_key);
    out.field("dl_len", o.data_level_length);
    out.field("checksum", o.checksum);
  }
  void operator()(const tcpopt::MpJoinSyn& o) {
    subtype(1, "MP_JOIN");
    out.field("connection", "SYN");
    out.field("backup", o.backup);
    out.field("addr_id", o.addr_id);
    out.field("token", o.receiver_token);
    out.field("nonce", o.sender_random);
  }
  void operator()(const tcpopt::MpJoinSynAck& o) {
    subtype(1, "MP_JOIN");
    out.field("connection", "SYN/ACK");
    out.field("backup", o.backup);
    out.field("addr_id", o.addr_id);
    hex_field_be(out, "hmac", o.sender_truncated_hmac);
    out.field("nonce", o.sender_random);
  }
  void operator()(const tcpopt::MpJoinAck& o) {
    subtype(1, "MP_JOIN");
    out.field("connection", "ACK");
    hex_field(out, "hmac", o.sender_hmac);
  }
  void operator()(const tcpopt::MpDss& o) {
    subtype(2, "DSS");
    out.field("flags", o.flags);
    out.field("data_fin", o.data_fin);
    out.field("ack", o.data_ack);
    std::optional<uint64_t> dsn;
    std::optional<uint32_t> ssn;
    std::optional<uint16_t> dl_len, checksum;
    if (o.mapping) {
      dsn = o.mapping->dsn;
      ssn = o.mapping->ssn;
      dl_len = o.mapping->data_level_length;
      checksum = o.mapping->checksum;
    }
    out.field("dsn", dsn);
    out.field("ssn", ssn);
    out.field("dl_len", dl_len);
    out.field("checksum", checksum);
  }
  void operator()(const tcpopt::MpAddAddr& o) {
    subtype(3, "ADD_ADDR");
    out.field("version", o.address.version());
    out.field("addr_id", o.addr_id);
    address_field(out, "addr", o.address);
    out.field("port", o.port);
  }
  void operator()(const tcpopt::MpRemoveAddr& o) {
    subtype(4, "REMOVE_ADDR");
    out.key("addr_id");
    out.begin_array();
    for (uint8_t id : o.addr_ids) {
      out.element();
      out.integer(id);
    }
    out.end_array();
  }
  void operator()(const tcpopt::MpPrio& o) {
    subtype(5, "MP_PRIO");
    out.field("backup", o.backup);
    out.field("addr_id", o.addr_id);
  }
  void operator()(const tcpopt::MpFail& o) {
    subtype(6, "MP_FAIL");
    out.field("dsn", o.dsn);
  }
  void operator()(const tcpopt::MpFastclose& o) {
    subtype(7, "MP_FASTCLOSE");
    out.field("rkey", o.receiver_key);
  }
  void operator()(const tcpopt::MpUnknown& o) {
    subtype(o.subtype, "Unknown");
    hex_field(out, "data", o.data);
  }
};

void write_options(JsonWriter& out, Bytes list) {
  out.key("options");
  out.begin_array();
  TcpOptionWalker walker(list);
  TcpOption option;
  Anomaly seen = Anomaly::none;
  while (walker.next(option)) {
    TcpOptionFields fields = decode_tcp_option(option);
    // The walker's reason (length 0, past the header...) is the more precise one.
    const char* malformed = fields.malformed;
    if (walker.problem() != seen) {
      seen = walker.problem();
      malformed = walker.problem_detail();
    }
    out.element();
    out.begin_object();
    out.field("kind", option.kind);
    out.field("name", tcp_option_name(option.kind));
    out.field("length", option.length);
    if (malformed) {
      out.field("malformed", std::string_view(malformed));
      hex_field(out, "data", option.data);
    } else {
      std::visit(OptionFieldWriter{out}, fields.fields);
    }
    out.end_object();
  }
  out.end_array();
}

void write_tcp(JsonWriter& out, const TcpView& tcp) {
  out.key("tcp");
  out.begin_object();
  out.field("srcport", tcp.sport());
  out.field("dstport", tcp.dport());
  out.field("seq", tcp.seq());
  out.field("ack", tcp.ack_nbr());
  out.field("hdr_len", tcp.hdr_len());
  out.key("flags");
  out.begin_object();
  uint8_t f = tcp.flags();
  out.field("ns", tcp.ns());
  out.field("cwr", (f & tcpflag::cwr) != 0);
  out.field("ece", (f & tcpflag::ece) != 0);
  out.field("urg", (f & tcpflag::urg) != 0);
  out.field("ack", (f & tcpflag::ack) != 0);
  out.field("psh", (f & tcpflag::psh) != 0);
  out.field("rst", (f & tcpflag::rst) != 0);
  out.field("syn", (f & tcpflag::syn) != 0);
  out.field("fin", (f & tcpflag::fin) != 0);
  out.end_object();
  out.field("window_size", tcp.window());
  out.field("checksum", tcp.checksum());
  out.field("urgent_pointer", tcp.urgent_pointer());
  out.field("payload_len", tcp.has_payload() ? uint32_t(tcp.payload_caplen()) : 0u);
  write_options(out, tcp.options());
  out.end_object();
}

void write_udp(JsonWriter& out, const UdpView& udp) {
  out.key("udp");
  out.begin_object();
  out.field("srcport", udp.sport());
  out.field("dstport", udp.dport());
  out.field("length", udp.length());
  out.field("checksum", udp.checksum());
  out.end_object();
}

Anomaly write_headers(JsonWriter& out, const IpView& ip);

void write_icmp(JsonWriter& out, const IcmpView& icmp) {
  out.key("icmp");
  out.begin_object();
  out.field("version", icmp.version);
  out.field("type", icmp.type());
  out.field("code", icmp.code());
  out.field("checksum", icmp.checksum());
  if (icmp.quote) {  // the offending packet's headers, as far as they were quoted
    out.key("quote");
    out.begin_object();
    Anomaly a = write_headers(out, icmp.quote);
    if (a != Anomaly::none) out.field("anomaly", anomaly_name(a));
    out.end_object();
  }
  out.end_object();
}

void write_ip(JsonWriter& out, const IpView& ip) {
  const uint8_t* h = ip.hdr;
  out.key("ip");
  out.begin_object();
  out.field("version", ip.version);
  uint8_t tc = ip.traffic_class();
  if (ip.v4()) {
    out.field("hdr_len", (h[0] & 0x0f) * 4);
    out.field("tos", tc);
  } else {
    out.field("tclass", tc);
  }
  out.field("dscp", tc >> 2);
  out.field("ecn", tc & 3);
  if (ip.v4()) {
    out.field("len", load_be16(h + 2));
    out.field("id", ip.ipv4_id());
    out.key("flags");
    out.begin_object();
    out.field("rb", ip.evil());
    out.field("df", ip.dont_fragment());
    out.field("mf", (h[6] & 0x20) != 0);
    out.end_object();
    out.field("frag_offset", load_be16(h + 6) & 0x1fff);
    out.field("ttl", ip.ttl());
    out.field("proto", ip.proto);
    out.field("checksum", load_be16(h + 10));
  } else {
    out.field("flow_label", ip.flow_label());
    out.field("plen", load_be16(h + 4));
    out.field("nxt", h[6]);
    out.field("hlim", ip.ttl());
    out.field("proto", ip.proto);
  }
  address_field(out, "src", IpAddress(ip.version, ip.src()));
  address_field(out, "dst", IpAddress(ip.version, ip.dst()));
  out.end_object();
}

// The IP header and what it carries; returns the transport's anomaly, if any.
Anomaly write_headers(JsonWriter& out, const IpView& ip) {
  write_ip(out, ip);
  TcpView tcp;
  UdpView udp;
  IcmpView icmp;
  Anomaly a = dissect_transport(ip, tcp, udp, icmp);
  if (tcp) write_tcp(out, tcp);
  if (udp) write_udp(out, udp);
  if (icmp) write_icmp(out, icmp);
  return a;
}

}  // namespace

void write_packet_json(JsonWriter& out, uint64_t number, const Frame& frame) {
  out.begin_object();
  out.key("frame");
  out.begin_object();
  out.field("number", number);
  out.field("time_epoch", frame.ts);
  out.field("len", frame.wirelen);
  out.field("cap_len", frame.caplen);
  out.field("link", link_type_name(frame.link));
  out.end_object();

  Packet p;
  dissect(frame, p);
  if (p.ip) write_headers(out, p.ip);
  if (p.anomaly != Anomaly::none) out.field("anomaly", anomaly_name(p.anomaly));
  out.end_object();
}

}  // namespace pspdr
