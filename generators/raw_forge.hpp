// The raw forge: crafted IPv4/IPv6 packets, built by the shared builder, sent on raw
// sockets -- for what the kernel's sockets will not send (the evil bit, a zero UDP
// checksum, a bare SYN). There is no connection state: the observer sees the answer.
#pragma once

#include <cstdint>

#include "generators/connection.hpp"

namespace pspdr {

class RawForge {
 public:
  RawForge();  // throws std::runtime_error (one line, with the fix) without CAP_NET_RAW
  ~RawForge();
  RawForge(const RawForge&) = delete;
  RawForge& operator=(const RawForge&) = delete;

  // Sends the packet `req` describes: tcpsyn, a SYN to dport; dnsudp, a DNS query for
  // req.domain. The result carries the source port used (the flow's key).
  ConnectionResult send(const ConnectionRequest& req);

 private:
  int raw4_ = -1, raw6_ = -1;
  uint16_t next_port_;
  uint32_t next_seq_;
};

}  // namespace pspdr
