#include "generators/raw_forge.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>

#include "shared/builder.hpp"
#include "shared/clock.hpp"
#include "shared/dns_query.hpp"

namespace pspdr {
namespace {

// The address the kernel would send from to reach `to` (a connected UDP socket sends
// nothing, it only asks the routing table).
bool source_for(const sockaddr_storage& to, socklen_t len, sockaddr_storage& from) {
  int s = socket(to.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return false;
  socklen_t from_len = sizeof from;
  bool ok = connect(s, reinterpret_cast<const sockaddr*>(&to), len) == 0 &&
            getsockname(s, reinterpret_cast<sockaddr*>(&from), &from_len) == 0;
  close(s);
  return ok;
}

std::string text(const sockaddr_storage& a) {
  char buf[INET6_ADDRSTRLEN];
  const void* addr =
      a.ss_family == AF_INET
          ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in&>(a).sin_addr)
          : &reinterpret_cast<const sockaddr_in6&>(a).sin6_addr;
  return inet_ntop(a.ss_family, addr, buf, sizeof buf);
}

}  // namespace

RawForge::RawForge() {
  // IPPROTO_RAW: we write the IP header ourselves (IP_HDRINCL is implied, IPv6 too).
  raw4_ = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
  raw6_ = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
  if (raw4_ < 0 || raw6_ < 0) {
    int err = errno;
    if (raw4_ >= 0) close(raw4_);
    if (raw6_ >= 0) close(raw6_);
    throw std::runtime_error(std::string("raw forge: cannot open raw sockets: ") +
                             std::strerror(err) +
                             (err == EPERM ? " (needs CAP_NET_RAW: run as root)" : ""));
  }
  std::random_device rd;
  next_port_ = uint16_t(1024 + rd() % 60000);
  next_seq_ = rd();
}

RawForge::~RawForge() {
  close(raw4_);
  close(raw6_);
}

ConnectionResult RawForge::send(const ConnectionRequest& req) {
  ConnectionResult r{.id = req.id, .family = req.family, .started = realtime_seconds()};
  sockaddr_storage to, from{};
  socklen_t len = destination_address(req, to);  // its port is ignored by raw sends
  socklen_t from_len;
  if (!source_address(req, from, from_len) && !source_for(to, len, from)) {
    r.error = errno;
    r.finished = realtime_seconds();
    return r;
  }
  r.sport = req.sport ? req.sport : next_port_;
  if (!req.sport) next_port_ = uint16_t(next_port_ >= 65535 ? 1024 : next_port_ + 1);
  build::Ip ip{.src = text(from), .dst = text(to), .evil = req.evil && req.family == 4};
  build::Buffer packet;
  if (req.mode == ConnectMode::tcpsyn) {
    packet = build::tcp_packet(
        ip,
        {.sport = r.sport, .dport = req.dport, .seq = next_seq_++, .flags = 0x02, .window = 8192});
  } else if (req.mode == ConnectMode::dnsudp) {
    build::Buffer query = build_dns_query(uint16_t(next_seq_++), req.domain);
    if (query.empty()) {
      r.error = EINVAL;
      r.finished = realtime_seconds();
      return r;
    }
    // The options: NOP, NOP, EOL after the option checksum.
    build::Buffer options = req.udp_options
                                ? build::udp_options(uint16_t(8 + query.size()), {1, 1, 0})
                                : build::Buffer{};
    packet = build::udp_packet(ip, {.sport = r.sport,
                                    .dport = req.dport,
                                    .payload = query,
                                    .zero_checksum = req.udp_zero_checksum,
                                    .surplus = options});
  } else {
    r.error = EINVAL;  // the forge only crafts what the kernel will not send
    r.finished = realtime_seconds();
    return r;
  }
  int s = req.family == 4 ? raw4_ : raw6_;
  if (sendto(s, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&to), len) < 0)
    r.error = errno;
  else
    r.state = SpdrState::ok;
  r.finished = realtime_seconds();
  return r;
}

}  // namespace pspdr
