// The raw forge: crafted IPv4/IPv6 packets, built by the shared builder, sent on raw
// sockets -- for what the kernel's sockets will not send (the evil bit, a zero UDP
// checksum, a bare SYN). There is no connection state: the observer sees the answer,
// and a SYN's sequence number (a keyed hash of its 4-tuple) tells whose it is.
#pragma once

#include <sodium.h>
#include <sys/socket.h>

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
  // req.domain. The result carries the source port used (the flow's key) and a SYN's
  // sequence number.
  ConnectionResult send(const ConnectionRequest& req);

 private:
  uint32_t syn_seq(const sockaddr_storage& from, const sockaddr_storage& to, uint16_t sport,
                   uint16_t dport) const;

  int raw4_ = -1, raw6_ = -1;
  unsigned char key_[crypto_shorthash_KEYBYTES];
  uint16_t next_port_;
  uint32_t next_seq_;
};

}  // namespace pspdr
