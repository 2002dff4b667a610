#include "cli/packet_filter.hpp"

namespace pspdr {
namespace {

// libpcap compiles for DLT_* values; they equal the LINKTYPE_* numbers a trace carries
// except for raw IP, which DLT numbers per OS.
int dlt_for(LinkType link) {
  switch (link) {
    case LinkType::raw:
    case LinkType::raw_bsd12:
    case LinkType::raw_bsd14:
      return DLT_RAW;
    default:
      return int(link);
  }
}

}  // namespace

PacketFilter::~PacketFilter() {
  for (auto& [link, c] : by_link_)
    if (c.ok) pcap_freecode(&c.program);
}

PacketFilter::Compiled& PacketFilter::compiled(LinkType link) {
  auto [it, added] = by_link_.try_emplace(link);
  Compiled& c = it->second;
  if (!added) return c;
  pcap_t* dead = pcap_open_dead(dlt_for(link), 262144);
  if (!dead) {
    c.error = "libpcap cannot open a handle";
    return c;
  }
  c.ok = pcap_compile(dead, &c.program, expression_.c_str(), 1, PCAP_NETMASK_UNKNOWN) == 0;
  if (!c.ok) c.error = pcap_geterr(dead);
  pcap_close(dead);
  return c;
}

bool PacketFilter::check(LinkType link, std::string& error) {
  if (expression_.empty()) return true;
  Compiled& c = compiled(link);
  error = c.error;
  return c.ok;
}

bool PacketFilter::matches(const Frame& frame) {
  if (expression_.empty()) return true;
  Compiled& c = compiled(frame.link);
  if (!c.ok) return false;
  pcap_pkthdr hdr{};
  hdr.caplen = frame.caplen;
  hdr.len = frame.wirelen;
  return pcap_offline_filter(&c.program, &hdr, frame.data) != 0;
}

}  // namespace pspdr
