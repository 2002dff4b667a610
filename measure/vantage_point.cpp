#include "measure/vantage_point.hpp"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace pspdr {

VantagePoint VantagePoint::of_interface(const std::string& name) {
  VantagePoint v;
  v.interface = name;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return v;
  for (ifaddrs* a = list; a; a = a->ifa_next) {
    if (!a->ifa_addr || name != a->ifa_name) continue;
    if (a->ifa_addr->sa_family == AF_INET && !v.source[0]) {
      auto* in = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
      v.source[0] = IpAddress(4, reinterpret_cast<const uint8_t*>(&in->sin_addr));
    } else if (a->ifa_addr->sa_family == AF_INET6 && !v.source[1]) {
      auto* bytes = reinterpret_cast<const sockaddr_in6*>(a->ifa_addr)->sin6_addr.s6_addr;
      if (bytes[0] != 0xfe) v.source[1] = IpAddress(6, bytes);  // 2.0.1 skips "fe..."
    }
  }
  freeifaddrs(list);
  ifreq req{};
  std::strncpy(req.ifr_name, name.c_str(), IFNAMSIZ - 1);
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s >= 0 && ioctl(s, SIOCGIFMTU, &req) == 0) v.mtu = req.ifr_mtu;
  if (s >= 0) close(s);
  return v;
}

bool VantagePoint::set_public(std::string_view text) {
  std::string s(text);
  uint8_t bytes[16];
  bool v6 = s.find(':') != std::string::npos;
  if (inet_pton(v6 ? AF_INET6 : AF_INET, s.c_str(), bytes) != 1) return false;
  public_address[v6] = IpAddress(v6 ? 6 : 4, bytes);
  return true;
}

void VantagePoint::write(JsonWriter& w, const Job& job) const {
  const IpAddress* sip = source_for(job.family);
  if (!sip) return;
  const IpAddress& pub = public_address[job.family == 6] ? *public_address[job.family == 6] : *sip;
  char sip_text[IpAddress::kMaxText], pub_text[IpAddress::kMaxText];
  std::string_view sip_s = sip->format(sip_text), pub_s = pub.format(pub_text);
  w.field("sip", sip_s);
  w.key("path").begin_array();
  auto hop = [&w](std::string_view h) {
    w.element();
    w.string_value(h);
  };
  hop(sip_s);
  if (pub_s != sip_s) hop(pub_s);
  if (asn) hop("AS" + std::to_string(*asn));
  if (!job.dip_asn.empty()) hop("AS" + job.dip_asn);
  hop(job.dip);
  w.end_array();
  w.field("sip_public", pub_s);
  if (asn) w.field("sip_asn", *asn);
}

ConnectionRequest VantagePoint::request(const Job& job, uint16_t dport) const {
  ConnectionRequest req;
  req.family = job.family;
  std::memcpy(req.addr, job.addr, 16);
  req.dport = dport;
  if (const IpAddress* from = source_for(req.family)) {
    req.bind_source = true;
    std::memcpy(req.source, from->bytes(), 16);
  }
  req.mss = uint16_t(mtu - (req.family == 4 ? 40 : 60));
  std::snprintf(req.domain, sizeof req.domain, "%s", job.domain.c_str());
  return req;
}

}  // namespace pspdr
