#include "shared/anomaly.hpp"

namespace pspdr {

std::string_view anomaly_name(Anomaly a) {
  switch (a) {
    case Anomaly::none:
      return "none";
    case Anomaly::truncated_link:
      return "truncated link header";
    case Anomaly::bad_ip_version:
      return "bad IP version";
    case Anomaly::truncated_ip:
      return "truncated IP header";
    case Anomaly::bad_ihl:
      return "bad IPv4 header length";
    case Anomaly::bad_ip_length:
      return "bad IPv4 total length";
    case Anomaly::truncated_ext_header:
      return "truncated IPv6 extension header";
    case Anomaly::truncated_l4:
      return "truncated transport header";
    case Anomaly::bad_tcp_doff:
      return "bad TCP data offset";
    case Anomaly::bad_tcp_options:
      return "malformed TCP option list";
    case Anomaly::truncated_icmp_quote:
      return "truncated ICMP quotation";
    case Anomaly::count_:
      break;
  }
  return "unknown";
}

}  // namespace pspdr
