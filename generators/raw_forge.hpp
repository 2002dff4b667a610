// The raw forge: crafted IPv4/IPv6 packets, built by the shared builder, sent on raw
// sockets -- for what the kernel's sockets will not send (the evil bit, a zero UDP
// checksum, a bare SYN). There is no connection state: the observer sees the answer,
// and a SYN's sequence number (a keyed hash of its 4-tuple) tells whose it is.
// Packets go out in batches, one sendmmsg() for up to kBatch of them.
#pragma once

#include <sodium.h>
#include <sys/socket.h>

#include <cstdint>
#include <deque>
#include <vector>

#include "generators/connection.hpp"
#include "shared/builder.hpp"

namespace pspdr {

class RawForge {
 public:
  RawForge();  // throws std::runtime_error (one line, with the fix) without CAP_NET_RAW
  ~RawForge();
  RawForge(const RawForge&) = delete;
  RawForge& operator=(const RawForge&) = delete;

  static constexpr size_t kBatch = 64;  // packets

  // Builds the packet `req` describes (tcpsyn, a SYN to dport; dnsudp, a DNS query for
  // req.domain; req.probes copies) into the batch, sending the batch first when it has
  // no room. Results (with the source port used, the flow's key, and a SYN's sequence
  // number) go to `done` as their packets leave.
  void queue(const ConnectionRequest& req, std::deque<ConnectionResult>& done);
  // Sends what the batch holds.
  void flush(std::deque<ConnectionResult>& done);

 private:
  // What makes two SYNs differ other than their destination, port and sequence number.
  struct SynShape {
    uint8_t family = 0, tos = 0, ttl = 0;
    bool evil = false, ecn_setup = false, tfo = false;
    uint16_t mss = 0;
    uint8_t source[16] = {};
    bool operator==(const SynShape&) const = default;
  };
  struct Slot {
    uint8_t bytes[512];  // the longest forged packet: a DNS query for a 253-byte name
    size_t size;
    sockaddr_storage to;
    int socket;
  };
  // A queued request: its result, and which slots hold its copies.
  struct Pending {
    ConnectionResult result;
    size_t first, count;
  };

  // The packet `req` describes into `slot`; false (with r.error set) when there is none.
  bool build(const ConnectionRequest& req, ConnectionResult& r, Slot& slot);
  uint32_t syn_seq(const sockaddr_storage& from, const sockaddr_storage& to, uint16_t sport,
                   uint16_t dport) const;

  int raw4_ = -1, raw6_ = -1;
  unsigned char key_[crypto_shorthash_KEYBYTES];
  uint16_t next_port_;
  uint32_t next_seq_;
  SynShape shape_;              // of the last SYN built from scratch
  build::Buffer syn_template_;  // that SYN, retargeted for the next of the same shape
  Slot slots_[kBatch];
  size_t used_ = 0;
  std::vector<Pending> pending_;
};

}  // namespace pspdr
