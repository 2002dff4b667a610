#include "shared/packet.hpp"

namespace pspdr {
namespace {

void note(Anomaly& slot, Anomaly a) {
  if (slot == Anomaly::none) slot = a;
}

}  // namespace

Anomaly dissect_transport(const IpView& ip, TcpView& tcp, UdpView& udp, IcmpView& icmp) {
  Bytes l4 = ip.l4();
  if (!ip.has_l4) return Anomaly::none;
  switch (ip.proto) {
    case ipproto::tcp:
      if (l4.size < 20) return Anomaly::truncated_l4;
      if ((l4[12] >> 4) < 5) return Anomaly::bad_tcp_doff;
      tcp = TcpView{l4.data, l4.size};
      // A data offset beyond the capture is a snap-length cut, not a broken header.
      return tcp.hdr_len() > l4.size ? Anomaly::truncated_l4 : Anomaly::none;
    case ipproto::udp:
      if (l4.size < 8) return Anomaly::truncated_l4;
      udp = UdpView{l4.data, l4.size};
      return Anomaly::none;
    case ipproto::icmp:
    case ipproto::icmpv6: {
      uint8_t v = ip.proto == ipproto::icmp ? 4 : 6;
      if (v != ip.version) return Anomaly::none;  // ICMP of the other family: not ours
      if (l4.size < 8) return Anomaly::truncated_l4;
      icmp = IcmpView{l4.data, l4.size, v, {}};
      if (!icmp.is_error()) return Anomaly::none;
      // PATHspider only trusts a quotation holding at least a full fixed IP header.
      Bytes quoted = icmp.body();
      if (quoted.size < (v == 4 ? 20u : 40u)) return Anomaly::none;
      if (dissect_ip(quoted, v, icmp.quote) != Anomaly::none && !icmp.quote)
        return Anomaly::truncated_icmp_quote;
      return Anomaly::none;
    }
    default:
      return Anomaly::none;
  }
}

void dissect_headers(const Frame& frame, Packet& p) {
  p.frame = frame;
  p.ip = IpView{};
  p.tcp = TcpView{};
  p.udp = UdpView{};
  p.icmp = IcmpView{};
  p.tcp_options.clear();
  p.anomaly = Anomaly::none;

  Bytes bytes{frame.data, frame.caplen};
  LinkResult link = dissect_link(frame.link, bytes);
  if (link.anomaly != Anomaly::none) {
    p.anomaly = link.anomaly;
    return;
  }
  if (link.net == NetProto::other) return;
  uint8_t version = link.net == NetProto::ipv4 ? 4 : link.net == NetProto::ipv6 ? 6 : 0;
  note(p.anomaly, dissect_ip(bytes.from(link.offset), version, p.ip));
  if (!p.ip) return;
  note(p.anomaly, dissect_transport(p.ip, p.tcp, p.udp, p.icmp));
}

void dissect(const Frame& frame, Packet& p) {
  dissect_headers(frame, p);
  if (p.tcp && p.tcp.hdr_len() > 20) {
    summarize_tcp_options(p.tcp.options(), p.tcp_options);
    note(p.anomaly, p.tcp_options.problem);
  }
}

}  // namespace pspdr
