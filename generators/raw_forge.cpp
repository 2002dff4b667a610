#include "generators/raw_forge.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <sodium.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <span>
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

// The address bytes of a socket address (4 or 16 of them).
std::span<const uint8_t> address_bytes(const sockaddr_storage& a) {
  if (a.ss_family == AF_INET)
    return {reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in&>(a).sin_addr), 4};
  return {reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in6&>(a).sin6_addr),
          16};
}

// A SYN as the kernel would open with, as far as the probe needs: its MSS option, and
// what the configuration asks for (ECE|CWR, an empty Fast Open option asking for a
// cookie).
build::Tcp syn(const ConnectionRequest& req, uint16_t sport, uint32_t seq) {
  build::Buffer options;
  if (req.mss) options = build::opt::mss(req.mss);
  if (req.tfo) options = build::opt::cat({options, build::opt::fast_open({})});
  return {.sport = sport,
          .dport = req.dport,
          .seq = seq,
          .flags = uint8_t(0x02 | (req.ecn_setup ? 0xc0 : 0)),
          .window = 65535,
          .options = options};
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
  if (sodium_init() < 0) throw std::runtime_error("raw forge: libsodium cannot initialise");
  crypto_shorthash_keygen(key_);
  next_port_ = uint16_t(1024 + randombytes_uniform(60000));
  next_seq_ = randombytes_random();
}

// SipHash-2-4 (libsodium's crypto_shorthash) of the 4-tuple under this forge's secret
// key, as ZMap validates its probes: an answer acknowledging it answers this probe.
uint32_t RawForge::syn_seq(const sockaddr_storage& from, const sockaddr_storage& to, uint16_t sport,
                           uint16_t dport) const {
  uint8_t tuple[36] = {};
  auto src = address_bytes(from), dst = address_bytes(to);
  std::copy(src.begin(), src.end(), tuple);
  std::copy(dst.begin(), dst.end(), tuple + 16);
  std::memcpy(tuple + 32, &sport, 2);
  std::memcpy(tuple + 34, &dport, 2);
  uint8_t hash[crypto_shorthash_BYTES];
  crypto_shorthash(hash, tuple, sizeof tuple, key_);
  uint32_t seq;
  std::memcpy(&seq, hash, sizeof seq);
  return seq;
}

RawForge::~RawForge() {
  close(raw4_);
  close(raw6_);
}

bool RawForge::build(const ConnectionRequest& req, ConnectionResult& r, Slot& slot) {
  socklen_t len = destination_address(req, slot.to);  // its port is ignored by raw sends
  sockaddr_storage from{};
  socklen_t from_len;
  if (!source_address(req, from, from_len) && !source_for(slot.to, len, from)) {
    r.error = errno;
    return false;
  }
  slot.socket = req.family == 4 ? raw4_ : raw6_;
  r.sport = req.sport ? req.sport : next_port_;
  if (!req.sport) next_port_ = uint16_t(next_port_ >= 65535 ? 1024 : next_port_ + 1);
  build::Ip ip{
      .tos = req.tos, .ttl = uint8_t(req.ttl ? req.ttl : 64), .evil = req.evil && req.family == 4};
  build::Buffer packet;
  if (req.mode == ConnectMode::tcpsyn) {
    SynShape shape{.family = req.family,
                   .tos = req.tos,
                   .ttl = ip.ttl,
                   .evil = ip.evil,
                   .ecn_setup = req.ecn_setup,
                   .tfo = req.tfo,
                   .mss = req.mss};
    std::ranges::copy(address_bytes(from), shape.source);
    if (syn_template_.empty() || !(shape == shape_)) {
      ip.src = text(from);
      ip.dst = text(slot.to);
      syn_template_ = build::tcp_packet(ip, syn(req, 0, 0));
      shape_ = shape;
    }
    r.syn_seq = syn_seq(from, slot.to, r.sport, req.dport) + req.ttl;
    std::ranges::copy(syn_template_, slot.bytes);
    slot.size = syn_template_.size();
    build::retarget({slot.bytes, slot.size}, address_bytes(slot.to), r.sport, r.syn_seq);
    return true;
  }
  build::Buffer query;
  if (req.mode != ConnectMode::dnsudp ||
      (query = build_dns_query(uint16_t(next_seq_++), req.domain)).empty()) {
    r.error = EINVAL;  // the forge only crafts what the kernel will not send
    return false;
  }
  // The options: NOP, NOP, EOL after the option checksum.
  build::Buffer options =
      req.udp_options ? build::udp_options(uint16_t(8 + query.size()), {1, 1, 0}) : build::Buffer{};
  ip.src = text(from);
  ip.dst = text(slot.to);
  packet = build::udp_packet(ip, {.sport = r.sport,
                                  .dport = req.dport,
                                  .payload = query,
                                  .zero_checksum = req.udp_zero_checksum,
                                  .surplus = options});
  if (packet.size() > sizeof slot.bytes) {
    r.error = EMSGSIZE;
    return false;
  }
  std::ranges::copy(packet, slot.bytes);
  slot.size = packet.size();
  return true;
}

void RawForge::queue(const ConnectionRequest& req, std::deque<ConnectionResult>& done) {
  // --probes: copies back to back, as ZMap sends them; one that leaves is enough.
  size_t copies = std::clamp<size_t>(req.probes, 1, kBatch);
  if (used_ + copies > kBatch) flush(done);
  ConnectionResult r{.id = req.id, .family = req.family, .started = realtime_seconds()};
  if (!build(req, r, slots_[used_])) {
    r.finished = realtime_seconds();
    done.push_back(r);
    return;
  }
  pending_.push_back({r, used_, copies});
  for (size_t i = 1; i < copies; ++i) slots_[used_ + i] = slots_[used_];
  used_ += copies;
}

void RawForge::flush(std::deque<ConnectionResult>& done) {
  mmsghdr msgs[kBatch] = {};
  iovec iov[kBatch];
  int error[kBatch] = {};
  for (size_t i = 0; i < used_; ++i) {
    Slot& s = slots_[i];
    iov[i] = {s.bytes, s.size};
    msgs[i].msg_hdr = {.msg_name = &s.to,
                       .msg_namelen = s.to.ss_family == AF_INET ? socklen_t(sizeof(sockaddr_in))
                                                                : socklen_t(sizeof(sockaddr_in6)),
                       .msg_iov = &iov[i],
                       .msg_iovlen = 1};
  }
  // One sendmmsg per run of packets for one socket; a packet refused is skipped, with
  // its error, and the rest of the run still goes.
  for (size_t i = 0; i < used_;) {
    size_t end = i;
    while (end < used_ && slots_[end].socket == slots_[i].socket) ++end;
    int sent = sendmmsg(slots_[i].socket, msgs + i, unsigned(end - i), 0);
    if (sent < 0)
      error[i++] = errno;
    else
      i += size_t(sent);
  }
  double now = realtime_seconds();
  for (Pending& p : pending_) {
    size_t left = 0;
    for (size_t i = p.first; i < p.first + p.count; ++i) {
      left += error[i] == 0;
      if (error[i]) p.result.error = error[i];
    }
    p.result.state = left ? SpdrState::ok : SpdrState::failed;
    p.result.finished = now;
    done.push_back(p.result);
  }
  used_ = 0;
  pending_.clear();
}

}  // namespace pspdr
