// One connection of a job, as the spider asks a generator for it and as the generator
// reports it back. Both cross a shared-memory ring between processes, so they are
// trivially copyable and hold no pointers.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "shared/address.hpp"

namespace pspdr {

// PATHspider's connection modes.
enum class ConnectMode : uint8_t {
  tcp,     // TCP three-way handshake, then close
  http,    // HTTP GET (libcurl)
  https,   // HTTPS GET (libcurl)
  dnstcp,  // DNS query over TCP
  dnsudp,  // DNS query over UDP
  tcpsyn,  // forged SYN (raw forge), stateless: the answer is the SYN-ACK
};

// PATHspider 2.0.1's spdr_state values (its code's, base.py; its manual swaps 1 and 2).
enum class SpdrState : uint8_t { ok = 0, failed = 1, timeout = 2, skipped = 3 };

struct ConnectionRequest {
  uint64_t id = 0;  // the spider's handle, echoed in the result
  uint8_t family = 4;
  uint8_t addr[16] = {};  // network byte order; IPv4 in the first 4 bytes
  uint16_t dport = 0;
  bool bind_source = false;  // leave from `source` (the capture interface's address)
  uint8_t source[16] = {};
  ConnectMode mode = ConnectMode::tcp;
  uint8_t tos = 0;                 // IP_TOS / IPV6_TCLASS byte for every packet (0: leave alone)
  bool tfo = false;                // TCP Fast Open: MSG_FASTOPEN / CURLOPT_TCP_FASTOPEN; forge: a
                                   // SYN asking for a cookie (an empty option 34)
  bool http2 = false;              // ask for HTTP/2: h2c upgrade over http, ALPN h2 over https
  bool forge = false;              // craft the packet on a raw socket (the forge spider)
  bool evil = false;               // forge: set the IPv4 evil bit
  bool udp_zero_checksum = false;  // forge: UDP checksum 0
  bool udp_options = false;        // forge: a UDP options area after the query (RFC 9868)
  bool ecn_setup = false;          // forge: an ECN-setup SYN (ECE|CWR, RFC 3168)
  uint16_t mss = 0;                // forge: the SYN's MSS option (0: none)
  uint8_t probes = 1;              // forge: copies of the packet sent (--probes)
  uint16_t sport = 0;              // forge: source port to use (0: the generator picks)
  uint8_t ttl = 0;                 // forge: IPv4 TTL / IPv6 hop limit (0: 64); a SYN's
                                   // sequence number grows by it (--locate's hops)
  uint32_t timeout_ms = 5000;
  char domain[254] = {};  // NUL-terminated: Host and SNI, DNS question name
};

struct ConnectionResult {
  uint64_t id = 0;
  SpdrState state = SpdrState::failed;
  uint8_t family = 4;
  uint16_t sport = 0;         // local port used (0 if the socket never got one)
  uint16_t http_status = 0;   // http/https: response code
  uint8_t http_version = 0;   // http/https: 10, 11, 20 (libcurl's negotiated version)
  bool dns_answered = false;  // dnsudp/dnstcp: a response with our id came back
  uint32_t syn_seq = 0;       // tcpsyn: the forged SYN's sequence number (a keyed hash)
  int32_t error = 0;          // errno or libcurl code of a failure, 0 otherwise
  double started = 0;         // CLOCK_REALTIME seconds: connection start
  double finished = 0;        //   and end
  // http/https: the response's header lines as received, NUL-terminated, the first
  // kHttpHeaderBytes - 1 bytes of them.
  static constexpr size_t kHttpHeaderBytes = 1024;
  char http_header[kHttpHeaderBytes] = {};
};

// The modes libcurl makes (a transfer with a response), the rest kernel or raw sockets.
constexpr bool is_http(ConnectMode mode) {
  return mode == ConnectMode::http || mode == ConnectMode::https;
}

inline IpAddress destination(const ConnectionRequest& req) {
  return IpAddress(req.family, req.addr);
}

// The request's destination as a socket address (port included); returns its length.
inline socklen_t destination_address(const ConnectionRequest& req, sockaddr_storage& sa) {
  std::memset(&sa, 0, sizeof sa);
  if (req.family == 4) {
    auto& a = reinterpret_cast<sockaddr_in&>(sa);
    a.sin_family = AF_INET;
    a.sin_port = htons(req.dport);
    std::memcpy(&a.sin_addr, req.addr, 4);
    return sizeof a;
  }
  auto& a = reinterpret_cast<sockaddr_in6&>(sa);
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(req.dport);
  std::memcpy(&a.sin6_addr, req.addr, 16);
  return sizeof a;
}

// Where the request's connection leaves from: its source address, port 0 (the kernel
// picks); false when it names none.
inline bool source_address(const ConnectionRequest& req, sockaddr_storage& sa, socklen_t& len) {
  if (!req.bind_source) return false;
  ConnectionRequest from = req;
  std::memcpy(from.addr, req.source, 16);
  from.dport = 0;
  len = destination_address(from, sa);
  return true;
}

static_assert(std::is_trivially_copyable_v<ConnectionRequest>);
static_assert(std::is_trivially_copyable_v<ConnectionResult>);

}  // namespace pspdr
