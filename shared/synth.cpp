#include "shared/synth.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>

#include "shared/builder.hpp"
#include "shared/icmp.hpp"
#include "shared/tcp.hpp"

namespace pspdr {
namespace {

using build::Buffer;
namespace opt = build::opt;
using Schedule = TraceSynth::Schedule;

constexpr uint64_t kMs = 1000, kSec = 1000000;  // trace time is in microseconds

// ECN codepoints, the low two bits of the TOS / traffic class byte.
constexpr uint8_t kNotEct = 0, kEct1 = 1, kEct0 = 2, kCe = 3;

// The heap's order: std heaps keep the greatest on top, so "greater" is "later".
constexpr auto later = [](const auto& a, const auto& b) {
  return a.us != b.us ? a.us > b.us : a.order > b.order;
};

template <class T, size_t N>
T pick(SplitMix64& rng, const T (&options)[N]) {
  return options[rng.below(N)];
}

// Payload bytes: a fixed random block that segments take slices of, so no payload
// costs a draw per byte.
const Buffer& filler() {
  static const Buffer block = [] {
    Buffer b(4096);
    SplitMix64 rng(0x5eed);
    for (uint8_t& x : b) x = uint8_t(rng.next());
    return b;
  }();
  return block;
}

Buffer payload(SplitMix64& rng, uint32_t len) {
  uint32_t at = rng.below(uint32_t(filler().size()) - len);
  return Buffer(filler().begin() + at, filler().begin() + at + len);
}

template <class... Args>
std::string format(const char* fmt, Args... args) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, args...);
  return buf;
}

void put16(Buffer& b, uint16_t v) {
  b.push_back(uint8_t(v >> 8));
  b.push_back(uint8_t(v));
}
void put32(Buffer& b, uint32_t v) {
  put16(b, uint16_t(v >> 16));
  put16(b, uint16_t(v));
}

// A DNS query for `name` or, with `response`, its answer: 1 to 3 records pointing back
// at the question by compression (none for NXDOMAIN or an HTTPS question), and the
// EDNS0 OPT record when the query had one.
Buffer dns_message(SplitMix64& rng, uint16_t id, std::string_view name, uint16_t qtype, bool edns,
                   bool response, uint8_t rcode) {
  constexpr uint16_t kHttps = 65, kOpt = 41;
  uint16_t answers = response && rcode == 0 && qtype != kHttps ? uint16_t(rng.between(1, 3)) : 0;
  Buffer m;
  put16(m, id);
  put16(m, response ? uint16_t(0x8180 | rcode) : 0x0100);  // QR RD RA, or RD
  put16(m, 1);
  put16(m, answers);
  put16(m, 0);
  put16(m, edns ? 1 : 0);
  for (size_t pos = 0; pos <= name.size();) {
    size_t dot = std::min(name.find('.', pos), name.size());
    m.push_back(uint8_t(dot - pos));
    m.insert(m.end(), name.begin() + pos, name.begin() + dot);
    pos = dot + 1;
  }
  m.push_back(0);
  put16(m, qtype);
  put16(m, 1);  // IN
  for (uint16_t i = 0; i < answers; ++i) {
    put16(m, 0xc00c);  // the question's name, at offset 12
    put16(m, qtype);
    put16(m, 1);
    put32(m, rng.between(60, 3600));
    uint16_t len = qtype == 1 ? 4 : 16;  // A or AAAA
    put16(m, len);
    for (uint16_t j = 0; j < len; ++j) m.push_back(uint8_t(rng.next()));
  }
  if (edns) {
    m.push_back(0);  // root
    put16(m, kOpt);
    put16(m, 1232);  // UDP payload size (DNS flag day 2020)
    put32(m, 0);
    put16(m, 0);
  }
  return m;
}

// Builds one flow's packets and schedules them. The capture point is next to the
// client: what the client sends is seen at once, the server's answers one round trip
// after what triggered them.
class FlowBuilder {
 public:
  FlowBuilder(SplitMix64 rng, uint64_t t0, Schedule& out) : rng_(rng), t0_(t0), out_(out) {}

  void run() {
    v6_ = rng_.chance(0.25);
    vlans_ = rng_.chance(0.15) ? (rng_.chance(0.1) ? 2 : 1) : 0;
    rtt_ = uint64_t(2 * kMs * std::exp(rng_.unit() * std::log(150.0)));  // 2 to 300 ms
    // One draw per address: argument evaluation order is unspecified, draws must not be.
    uint64_t a = rng_.next();
    c_.src = v6_ ? format("2001:db8:c:%x:%x::%x", unsigned(a >> 48), unsigned(a >> 32) & 0xffff,
                          1 + unsigned(a & 0xffff) % 0xffff)
                 : format("10.%u.%u.%u", unsigned(a >> 56), unsigned(a >> 48) & 255,
                          1 + unsigned(a & 0xffff) % 254);
    c_.ttl = rng_.chance(0.7) ? 64 : 128;
    c_.id = uint16_t(rng_.next());
    uint8_t dscp = rng_.chance(0.1) ? pick(rng_, {8, 10, 18, 26, 34, 46}) : 0;
    c_.tos = uint8_t(dscp << 2);
    c_.evil = !v6_ && rng_.chance(0.01);
    s_.ttl = pick(rng_, {64, 128, 255});
    s_.ttl -= rng_.between(3, 30);  // hops
    s_.id = uint16_t(rng_.next());
    s_.tos = rng_.chance(0.5) ? c_.tos : 0;  // the path may bleach the mark
    if (rng_.chance(0.3))
      dns();
    else
      tcp();
  }

 private:
  enum class Os { gnu_linux, windows, macos };
  enum class Tfo { none, request, data };

  void set_server(std::string addr) {
    s_.src = c_.dst = std::move(addr);
    s_.dst = c_.src;
  }

  void emit(uint64_t us, const Buffer& ip_packet) {
    out_.packets.push_back({us, build::frame(LinkType::ethernet, ip_packet, vlans_)});
  }

  // A router on the path -- or, for a closed UDP port, the server -- answering a packet
  // the client sent with an ICMP(v6) error that quotes it.
  void icmp_error(uint64_t us, const Buffer& offending, bool unreachable, bool from_server) {
    build::Ip ip{.dst = c_.src, .ttl = uint8_t(s_.ttl + rng_.below(4))};
    uint32_t a = uint32_t(rng_.next());
    ip.src = from_server ? s_.src
             : v6_       ? format("2001:db8:ff:%x::%x", a >> 16, 1 + (a & 0xffff) % 255)
                         : format("100.64.%u.%u", a >> 24, 1 + (a & 0xffff) % 254);
    uint8_t type, code;
    if (v6_) {
      type = unreachable ? icmptype::v6_unreachable : icmptype::v6_time_exceeded;
      code = !unreachable ? 0 : from_server ? 4 : pick(rng_, {1, 3});  // port; admin, address
    } else {
      type = unreachable ? icmptype::v4_unreachable : icmptype::v4_time_exceeded;
      code = !unreachable ? 0 : from_server ? 3 : pick(rng_, {1, 13});  // port; host, admin
    }
    // RFC 792 asks for the header and 8 bytes, RFC 1812 for up to 576 in all; ICMPv6
    // quotes as much as fits the minimum MTU.
    size_t ihl = size_t(offending[0] & 0x0f) * 4;
    size_t keep = v6_ ? 1232 : rng_.chance(0.5) ? ihl + 8 : 548;
    Buffer quoted(offending.begin(), offending.begin() + std::min(keep, offending.size()));
    emit(us, build::icmp_packet(ip, type, code, quoted));
  }

  void dns();
  void tcp();

  // TCP ------------------------------------------------------------------------------
  struct Side {
    build::Ip* ip;
    uint16_t port = 0;
    uint32_t seq = 0;      // next sequence number to send
    uint32_t ts_base = 0;  // timestamp clock (1 kHz) at the flow's start
    uint16_t window = 0;
  };

  uint32_t tsval(const Side& a, uint64_t us) const {
    return a.ts_base + uint32_t((us - t0_) / kMs);
  }

  Buffer syn_options(Os os, uint16_t mss, uint8_t ws, const Buffer& ts, const Buffer& tfo) {
    bool sack = !sack_off_;
    switch (os) {
      case Os::gnu_linux:
        return opt::cat({opt::mss(mss), sack ? opt::sack_permitted() : Buffer{}, ts, opt::nop(),
                         opt::window_scale(ws), tfo});
      case Os::windows:
        return opt::cat({opt::mss(mss), opt::nop(), opt::window_scale(ws),
                         sack ? opt::sack_permitted() : Buffer{}, ts, tfo});
      case Os::macos:
        return opt::cat({opt::mss(mss), opt::nop(), opt::window_scale(ws), opt::nop(), opt::nop(),
                         ts, sack ? opt::sack_permitted() : Buffer{}, tfo});
    }
    return {};
  }

  // Sends a segment from `a` to `b` at `us` and returns its IP packet.
  Buffer segment(Side& a, Side& b, uint64_t us, uint8_t flags, uint32_t len, uint8_t ecn,
                 Buffer options = {}) {
    if (ts_ok_ && !(flags & tcpflag::syn))
      options =
          opt::cat({opt::nop(), opt::nop(),
                    opt::timestamps(tsval(a, us), tsval(b, us > t0_ + rtt_ ? us - rtt_ : t0_))});
    build::Tcp t{.sport = a.port,
                 .dport = b.port,
                 .seq = a.seq,
                 .ack = (flags & tcpflag::ack) ? b.seq : 0,
                 .flags = flags,
                 .window = a.window,
                 .options = std::move(options),
                 .payload = payload(rng_, len)};
    a.ip->tos = uint8_t((a.ip->tos & 0xfc) | ecn);
    Buffer pkt = build::tcp_packet(*a.ip, t);
    a.ip->id++;
    a.seq += len + ((flags & (tcpflag::syn | tcpflag::fin)) ? 1 : 0);
    emit(us, pkt);
    return pkt;
  }

  // Data from `a` with ECN marks once negotiated; the server's may meet congestion (CE),
  // which the client echoes (ECE) until the server reduces its window (CWR).
  void data(Side& a, Side& b, uint64_t us, uint32_t len) {
    bool from_server = &a == &srv_;
    uint8_t flags = tcpflag::ack | tcpflag::psh;
    uint8_t mark = ecn_ok_ ? ect_ : kNotEct;
    if (ecn_ok_ && from_server) {
      if (cwr_due_) flags |= tcpflag::cwr;
      if (rng_.chance(0.01)) {
        mark = kCe;
        echo_ce_ = true;
      }
      cwr_due_ = false;
    }
    segment(a, b, us, flags, len, mark);
  }

  void client_ack(uint64_t us) {
    uint8_t flags = tcpflag::ack;
    if (echo_ce_) {
      flags |= tcpflag::ece;
      cwr_due_ = true;
      echo_ce_ = false;
    }
    segment(cli_, srv_, us, flags, 0, kNotEct);
  }

  // One request/response exchange starting at `t`; returns when the last packet went.
  uint64_t exchange(uint64_t t, bool request_sent) {
    if (!request_sent)
      for (int i = 0, n = rng_.chance(0.2) ? 2 : 1; i < n; ++i, t += rng_.between(10, 200))
        data(cli_, srv_, t, rng_.between(80, mss_ - 40));
    t += rtt_ + rng_.below(20 * kMs);  // server think time
    uint32_t segments = 1;
    if (rng_.chance(0.7)) {
      segments += 1 + rng_.below(12);
      segments *= 1 + rng_.below(4);
    }
    uint64_t gap = rng_.between(12, 200);  // serialisation at the bottleneck
    uint32_t window = 10;
    for (uint32_t i = 0, in_round = 0; i < segments; ++i) {
      if (in_round == window) {  // slow start: wait a round trip for the ACKs
        t += rtt_;
        window *= 2;
        in_round = 0;
      }
      bool last = i + 1 == segments;
      data(srv_, cli_, t, last ? rng_.between(1, mss_) : mss_);
      if (i % 2 == 1 || last) client_ack(t + rng_.between(20, 400));
      t += gap;
      ++in_round;
    }
    return t + 500;
  }

  bool sack_off_ = false, ts_ok_ = false, ecn_ok_ = false, echo_ce_ = false, cwr_due_ = false;
  uint8_t ect_ = kEct0;
  uint32_t mss_ = 0;  // payload per full segment
  Side cli_{&c_}, srv_{&s_};

  SplitMix64 rng_;
  uint64_t t0_;
  Schedule& out_;
  bool v6_ = false;
  int vlans_ = 0;
  uint64_t rtt_ = 0;
  build::Ip c_, s_;  // headers of client-to-server and server-to-client packets
};

void FlowBuilder::dns() {
  set_server(v6_ ? format("2001:db8:53::%x", rng_.between(1, 4))
                 : format("198.18.53.%u", rng_.between(1, 4)));
  build::Udp q{.sport = uint16_t(rng_.between(1024, 65535)), .dport = 53};
  build::Udp r{.sport = 53, .dport = q.sport};
  q.zero_checksum = !v6_ && rng_.chance(0.1);  // IPv6 forbids a zero UDP checksum
  r.zero_checksum = q.zero_checksum && rng_.chance(0.5);
  static constexpr const char* kNames[] = {"example.com",     "example.net",
                                           "example.org",     "cdn.example.net",
                                           "api.example.com", "mail.example.org"};
  static constexpr const char* kHosts[] = {"www.", "", "img.", "static.", "s%u."};
  std::string name = format(pick(rng_, kHosts), rng_.below(1000));
  name += pick(rng_, kNames);
  bool edns = rng_.chance(0.6);
  double outcome = rng_.unit();  // answered, lost (and retried), port unreachable
  uint64_t t = t0_;
  // A stub resolver asks for A, often AAAA too, from one socket; some ask HTTPS.
  uint16_t qtypes[2] = {uint16_t(rng_.chance(0.15) ? 65 : 1), 28};
  for (int i = 0, n = rng_.chance(0.4) ? 2 : 1; i < n; ++i, t += rng_.between(50, 500)) {
    uint16_t id = uint16_t(rng_.next());
    q.payload = dns_message(rng_, id, name, qtypes[i], edns, false, 0);
    Buffer query = build::udp_packet(c_, q);
    c_.id++;
    emit(t, query);
    uint64_t answer_at = t + rtt_ + rng_.below(30 * kMs);
    if (outcome < 0.05) {
      icmp_error(answer_at, query, true, true);
      continue;
    }
    if (outcome < 0.12) {  // lost: one retry a second later, answered or not
      emit(t + kSec, query);
      if (rng_.chance(0.5)) continue;
      answer_at += kSec;
    }
    r.payload = dns_message(rng_, id, name, qtypes[i], edns, true, rng_.chance(0.08) ? 3 : 0);
    emit(answer_at, build::udp_packet(s_, r));
    s_.id++;
  }
}

void FlowBuilder::tcp() {
  uint32_t server = rng_.below(1 << 17);
  set_server(v6_ ? format("2001:db8:5:%x::%x", server >> 8, rng_.between(1, 255))
                 : format("198.%u.%u.%u", 18 + (server >> 16), (server >> 8) & 255,
                          std::max(1u, server & 255)));
  Os os = pick(rng_, {Os::gnu_linux, Os::gnu_linux, Os::windows, Os::macos});
  cli_.port = uint16_t(rng_.between(32768, 60999));
  srv_.port = 443;  // payloads are random bytes: TLS, as far as a dissector can tell
  cli_.seq = uint32_t(rng_.next());
  srv_.seq = uint32_t(rng_.next());
  cli_.ts_base = uint32_t(rng_.next());
  srv_.ts_base = uint32_t(rng_.next());
  uint16_t mss_c = v6_ ? 1440 : pick(rng_, {1460, 1460, 1460, 1400, 1380});
  uint16_t mss_s = v6_ ? 1440 : pick(rng_, {1460, 1460, 1380});
  sack_off_ = rng_.chance(0.05);
  bool ts_c = os != Os::windows || rng_.chance(0.1);
  ts_ok_ = ts_c && rng_.chance(0.9);
  mss_ = std::min(mss_c, mss_s) - (ts_ok_ ? 12u : 0u);
  bool ecn = rng_.chance(0.3);
  ecn_ok_ = ecn && rng_.chance(0.7);
  ect_ = rng_.chance(0.1) ? kEct1 : kEct0;                        // ECT(1): L4S senders
  uint8_t syn_mark = ecn && rng_.chance(0.05) ? kEct0 : kNotEct;  // ECN++ marks SYNs too
  Tfo tfo = rng_.chance(0.06) ? pick(rng_, {Tfo::request, Tfo::data}) : Tfo::none;
  uint8_t tfo_kind = rng_.chance(0.5) ? tcpopt::fast_open : tcpopt::exp_a;
  auto tfo_option = [&](const Buffer& cookie) {
    return tfo_kind == tcpopt::fast_open
               ? opt::fast_open(cookie)
               : opt::experimental(tfo_kind, tcpopt::exid_fast_open, cookie);
  };
  Buffer cookie(8);
  for (uint8_t& b : cookie) b = uint8_t(rng_.next());

  // SYN, with the request on it when Fast Open has a cookie.
  uint64_t t = t0_;
  cli_.window = pick(rng_, {64240, 65535, 8192});
  Buffer ts = ts_c ? opt::timestamps(tsval(cli_, t), 0) : Buffer{};
  Buffer syn_tfo = tfo == Tfo::none ? Buffer{} : tfo_option(tfo == Tfo::data ? cookie : Buffer{});
  uint8_t ws_c = os == Os::windows ? 8 : os == Os::macos ? 6 : 7;
  Buffer syn_opts = syn_options(os, mss_c, ws_c, ts, syn_tfo);
  uint8_t syn_flags = tcpflag::syn | (ecn ? tcpflag::ece | tcpflag::cwr : 0);
  uint32_t syn_data = tfo == Tfo::data ? rng_.between(80, 500) : 0;
  uint32_t isn = cli_.seq;
  Buffer syn = segment(cli_, srv_, t, syn_flags, syn_data, syn_mark, syn_opts);

  double open = rng_.unit();
  if (open < 0.12) {  // refused, silent or stopped on the path
    if (open < 0.04) {
      srv_.seq = 0;
      srv_.window = 0;
      segment(srv_, cli_, t + rtt_, tcpflag::rst | tcpflag::ack, 0, kNotEct);
      return;
    }
    if (open < 0.08) icmp_error(t + rtt_ / 2, syn, rng_.chance(0.7), false);
    // Retransmissions, without ECN after the first loss (Linux's fallback).
    for (uint64_t backoff = kSec, n = open < 0.08 ? 1 : 2; n > 0; --n, backoff *= 2) {
      t += backoff;
      cli_.seq = isn;
      segment(cli_, srv_, t, tcpflag::syn, syn_data, kNotEct, syn_opts);
    }
    return;
  }

  // SYN-ACK: a cookie for a request; data on the SYN accepted or not.
  t += rtt_;
  bool syn_data_taken = syn_data && rng_.chance(0.85);
  if (syn_data && !syn_data_taken) cli_.seq = isn + 1;
  srv_.window = pick(rng_, {65160, 28960, 65535});
  Buffer ack_ts = ts_ok_ ? opt::timestamps(tsval(srv_, t), tsval(cli_, t0_)) : Buffer{};
  Buffer ack_tfo = tfo == Tfo::request ? tfo_option(cookie) : Buffer{};
  Buffer synack_opts = syn_options(Os::gnu_linux, mss_s, 9, ack_ts, ack_tfo);
  segment(srv_, cli_, t, tcpflag::syn_ack | (ecn_ok_ ? tcpflag::ece : 0), 0, kNotEct, synack_opts);
  t += rng_.between(20, 400);
  cli_.window = uint16_t(rng_.between(500, 3000));  // scaled from now on
  srv_.window = uint16_t(rng_.between(200, 2000));
  client_ack(t);
  if (syn_data && !syn_data_taken) data(cli_, srv_, t += 10, syn_data);

  for (int i = 0, n = rng_.chance(0.3) ? int(rng_.between(2, 4)) : 1; i < n; ++i) {
    t = exchange(t, i == 0 && syn_data != 0);
    if (i + 1 < n)
      t += rng_.chance(0.5) ? rng_.between(1, 50) * kMs : rng_.between(100, 2000) * kMs;
  }

  double close = rng_.unit();
  t += rng_.below(kSec);
  uint8_t fin = tcpflag::fin | tcpflag::ack, rst = tcpflag::rst | tcpflag::ack;
  if (close < 0.6) {  // the client closes
    segment(cli_, srv_, t, fin, 0, kNotEct);
    segment(srv_, cli_, t + rtt_, fin, 0, kNotEct);
    segment(cli_, srv_, t + rtt_ + rng_.between(20, 400), tcpflag::ack, 0, kNotEct);
  } else if (close < 0.75) {  // the server closes
    segment(srv_, cli_, t, fin, 0, kNotEct);
    segment(cli_, srv_, t + 100, fin, 0, kNotEct);
    segment(srv_, cli_, t + 100 + rtt_, tcpflag::ack, 0, kNotEct);
  } else if (close < 0.85) {  // the client aborts
    segment(cli_, srv_, t, rst, 0, kNotEct);
  } else if (close < 0.9) {
    segment(srv_, cli_, t, rst, 0, kNotEct);
  }
  // Otherwise the connection is left open: the observer times it out.
}

}  // namespace

TraceSynth::TraceSynth(const SynthOptions& opts) : opts_(opts), arrivals_(opts.seed) {}

void TraceSynth::start_flow() {
  uint32_t slot;
  if (free_slots_.empty()) {
    slot = uint32_t(slots_.size());
    slots_.emplace_back();
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
  }
  Schedule& s = slots_[slot];
  s.packets.clear();
  s.next = 0;
  FlowBuilder(SplitMix64(arrivals_.next()), next_start_us_, s).run();
  // Stable: packets of one instant keep the order they were built in.
  std::stable_sort(s.packets.begin(), s.packets.end(),
                   [](const auto& a, const auto& b) { return a.us < b.us; });
  if (opts_.max_flow_packets && s.packets.size() > opts_.max_flow_packets)
    s.packets.resize(opts_.max_flow_packets);
  heap_.push_back({s.packets[0].us, started_++, slot});
  std::push_heap(heap_.begin(), heap_.end(), later);
  max_open_ = std::max(max_open_, heap_.size());
  next_start_us_ += uint64_t(-std::log1p(-arrivals_.unit()) * 1e6 / opts_.flows_per_second);
}

bool TraceSynth::next(SynthPacket& out) {
  // A flow's packets are never earlier than its start, so every flow starting before
  // the earliest pending packet must be built before that packet is released.
  while (started_ < opts_.flows && (heap_.empty() || heap_.front().us >= next_start_us_))
    start_flow();
  if (heap_.empty()) return false;
  std::pop_heap(heap_.begin(), heap_.end(), later);
  Due& due = heap_.back();
  Schedule& s = slots_[due.slot];
  Schedule::Packet& p = s.packets[s.next++];
  current_ = std::move(p.frame);
  out = {opts_.start + double(p.us) * 1e-6, current_.data(), uint32_t(current_.size())};
  if (s.next < s.packets.size()) {
    due.us = s.packets[s.next].us;
    std::push_heap(heap_.begin(), heap_.end(), later);
  } else {
    free_slots_.push_back(due.slot);
    heap_.pop_back();
  }
  return true;
}

SynthStats write_synth_trace(const SynthOptions& opts, PcapWriter& out) {
  TraceSynth synth(opts);
  SynthStats stats;
  SynthPacket p;
  while (synth.next(p)) {
    out.write(p.ts, p.data, p.size);
    ++stats.packets;
    stats.bytes += p.size;
  }
  stats.max_open = synth.max_open_flows();
  return stats;
}

}  // namespace pspdr
