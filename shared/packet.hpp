// The one dissector: link layer to transport, zero-copy and bounds-checked. Every
// consumer (observer, forge, tracing, tests) reads packets through `dissect()`.
#pragma once

#include <cstdint>

#include "shared/anomaly.hpp"
#include "shared/bytes.hpp"
#include "shared/icmp.hpp"
#include "shared/ip.hpp"
#include "shared/link.hpp"
#include "shared/tcp.hpp"
#include "shared/udp.hpp"

namespace pspdr {

// A captured frame as a packet source delivers it.
struct Frame {
  const uint8_t* data = nullptr;
  uint32_t caplen = 0;
  uint32_t wirelen = 0;
  double ts = 0;  // seconds since the epoch (PATHspider's packet clock is a float)
  LinkType link = LinkType::ethernet;
  // The packet clock when this frame arrives, if a source spreading one stream over
  // several workers knows it to be ahead of ts (0: ts is the clock).
  double clock = 0;
};

struct Packet {
  Frame frame;
  IpView ip;    // outer IP header; empty for non-IP frames
  TcpView tcp;  // at most one of tcp/udp/icmp is set, per ip.proto
  UdpView udp;
  IcmpView icmp;
  TcpOptionSummary tcp_options;     // filled for every TCP segment carrying options
  Anomaly anomaly = Anomaly::none;  // the first problem found, if any

  bool is_ip() const { return bool(ip); }
};

// Fills `p` from `frame`. Never reads outside [frame.data, frame.data + caplen).
void dissect(const Frame& frame, Packet& p);
// The same but for the TCP option summary (left empty): enough for the flow key.
void dissect_headers(const Frame& frame, Packet& p);

// Fills the transport view of `ip` (used for outer packets and ICMP quotations).
// Returns the anomaly found, if any.
Anomaly dissect_transport(const IpView& ip, TcpView& tcp, UdpView& udp, IcmpView& icmp);

}  // namespace pspdr
