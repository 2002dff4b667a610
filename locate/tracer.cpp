#include "locate/tracer.hpp"

#include <array>
#include <cerrno>
#include <tuple>

#include "shared/clock.hpp"
#include "shared/icmp.hpp"
#include "shared/packet.hpp"

namespace pspdr {
namespace {

MergeKey key_of(const ConnectionRequest& probe) {
  return merge_key(probe.family, probe.addr, probe.sport, probe.dport,
                   probe.mode == ConnectMode::dnsudp ? 17 : 6);
}

bool time_exceeded(const Hop& hop) {
  return hop.icmp_type == icmptype::v4_time_exceeded || hop.icmp_type == icmptype::v6_time_exceeded;
}

}  // namespace

Tracer::Tracer(std::unique_ptr<PacketSource> capture, const TracerOptions& opts)
    : capture_(std::move(capture)), opts_(opts) {}

void Tracer::add(uint64_t id, const ConnectionRequest& probe) {
  Tracing& t = traces_[id];
  t.trace.probe = probe;
  t.trace.probe.sport = 0;  // the forge picks it for TTL 1; every later TTL keeps it
  t.trace.probe.probes = 1;
  due_.push_back(id);
}

void Tracer::poll(RateLimiter& rate, const Done& done) {
  read(done);
  expire(done);
  auto now = RateLimiter::Clock::now();
  while (!due_.empty() && rate.take(1, now)) {
    uint64_t id = due_.front();
    due_.pop_front();
    if (auto it = traces_.find(id); it != traces_.end()) send(id, it->second, done);
  }
}

void Tracer::send(uint64_t id, Tracing& t, const Done& done) {
  bool again = std::exchange(t.again, false);
  ConnectionRequest req = t.trace.probe;
  req.ttl = uint8_t(t.trace.hops.size() + (again ? 0 : 1));
  forge_.queue(req, sent_);
  forge_.flush(sent_);
  ConnectionResult r = sent_.back();
  sent_.clear();
  if (r.state != SpdrState::ok) {
    t.trace.error = r.error ? r.error : EIO;
    finish(id, done);
    return;
  }
  if (!t.trace.probe.sport) {
    t.trace.probe.sport = r.sport;
    by_key_[key_of(t.trace.probe)] = id;
  }
  Hop hop{.ttl = req.ttl, .seq = r.syn_seq, .sent_at = r.started};
  if (again) {  // the new probe's capture and seq replace the last one's; its seq is kept
    Hop& last = t.trace.hops.back();
    hop.earlier_seqs = std::move(last.earlier_seqs);
    hop.earlier_seqs.push_back(last.seq);
    last = std::move(hop);
  } else {
    t.trace.hops.push_back(std::move(hop));
  }
  waits_.emplace_back(r.finished + opts_.wait, id, req.ttl);
}

void Tracer::read(const Done& done) {
  // Everything captured so far, every block of it: a wait judged over while its answer
  // sits in the ring behind a busy pass would make an answering hop look silent.
  std::array<Frame, 64> frames;
  while (uint32_t n = capture_->receive(0, frames)) {
    for (uint32_t i = 0; i < n; ++i) {
      Packet p;
      dissect(frames[i], p);
      if (p.ip) on_packet(p, done);
    }
  }
}

Tracer::Tracing* Tracer::find(const MergeKey& key, uint64_t& id) {
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return nullptr;
  id = it->second;
  auto t = traces_.find(id);
  return t == traces_.end() ? nullptr : &t->second;
}

void Tracer::on_packet(const Packet& p, const Done& done) {
  if (p.icmp) {
    if (p.icmp.is_error() && p.icmp.quote) on_quote(p, done);
    return;
  }
  if (!p.tcp && !p.udp) return;
  uint8_t proto = p.tcp ? 6 : 17;
  uint16_t sport = p.tcp ? p.tcp.sport() : p.udp.sport();
  uint16_t dport = p.tcp ? p.tcp.dport() : p.udp.dport();
  uint64_t id;
  // One of the probes, leaving: what its quotes are compared with.
  if (Tracing* t = find(merge_key(p.ip.version, p.ip.dst(), sport, dport, proto), id)) {
    unsigned ttl = p.ip.ttl();
    if (ttl >= 1 && ttl <= t->trace.hops.size() && t->trace.hops[ttl - 1].sent.empty())
      t->trace.hops[ttl - 1].sent.assign(p.ip.hdr, p.ip.hdr + p.ip.caplen);
    return;
  }
  // The target's answer: to TCP, a SYN-ACK or RST acknowledging one TTL's sequence number.
  Tracing* t = find(merge_key(p.ip.version, p.ip.src(), dport, sport, proto), id);
  if (!t || t->trace.hops.empty()) return;
  Hop* hop = &t->trace.hops.back();
  if (p.tcp) {
    hop = nullptr;
    for (Hop& h : t->trace.hops)
      if (h.sent_seq(p.tcp.ack_nbr() - 1)) hop = &h;
    if (!hop) return;
  }
  hop->destination = true;
  answered(id, *t, *hop, p, done);
}

void Tracer::on_quote(const Packet& p, const Done& done) {
  const IpView& q = p.icmp.quote;
  if (q.caplen < q.hdr_len + 8) return;  // not even the ports
  const uint8_t* l4 = q.hdr + q.hdr_len;
  uint64_t id;
  Tracing* t = find(merge_key(q.version, q.dst(), load_be16(l4), load_be16(l4 + 2), q.proto), id);
  if (!t || t->trace.hops.empty()) return;
  Hop* hop = &t->trace.hops.back();
  if (q.proto == 6) {  // the quoted sequence number names the TTL
    hop = nullptr;
    for (Hop& h : t->trace.hops)
      if (h.sent_seq(load_be32(l4 + 4))) hop = &h;
    if (!hop || hop->from) return;
  }
  if (hop->from) return;
  hop->icmp_type = p.icmp.type();
  hop->icmp_code = p.icmp.code();
  hop->quote.assign(q.hdr, q.hdr + q.caplen);
  hop->destination = IpAddress(q.version, q.dst()) == IpAddress(p.ip.version, p.ip.src());
  answered(id, *t, *hop, p, done);
}

void Tracer::answered(uint64_t id, Tracing& t, Hop& hop, const Packet& p, const Done& done) {
  if (hop.from && !hop.destination) return;  // a second answer to one TTL
  hop.from = IpAddress(p.ip.version, p.ip.src());
  hop.rtt = p.frame.ts - hop.sent_at;
  if (hop.destination) t.trace.reached = true;
  if (&hop == &t.trace.hops.back()) advance(id, t, done);
}

// The last TTL sent has its answer or its wait is over: the next TTL, or the end.
void Tracer::advance(uint64_t id, Tracing& t, const Done& done) {
  const Hop& last = t.trace.hops.back();
  t.silent = last.from ? 0 : t.silent + 1;
  // A router's other errors (unreachable, prohibited) end the way too.
  if (last.destination || (last.from && !time_exceeded(last)) ||
      t.trace.hops.size() >= opts_.max_hops || t.silent >= opts_.gap)
    finish(id, done);
  else
    due_.push_back(id);
}

void Tracer::expire(const Done& done) {
  double now = realtime_seconds();
  while (!waits_.empty() && std::get<0>(waits_.front()) <= now) {
    auto [deadline, id, ttl] = waits_.front();
    waits_.pop_front();
    auto it = traces_.find(id);
    if (it == traces_.end() || it->second.trace.hops.size() != ttl ||
        it->second.trace.hops.back().from)
      continue;
    Tracing& t = it->second;
    if (t.trace.hops.back().attempts() < opts_.attempts) {
      t.again = true;
      due_.push_back(id);
      continue;
    }
    advance(id, t, done);
  }
}

void Tracer::finish(uint64_t id, const Done& done) {
  auto it = traces_.find(id);
  Trace trace = std::move(it->second.trace);
  traces_.erase(it);
  if (trace.probe.sport) by_key_.erase(key_of(trace.probe));
  done(id, std::move(trace));
}

void Tracer::finish_all(const Done& done) {
  std::vector<uint64_t> ids;
  for (const auto& [id, t] : traces_) ids.push_back(id);
  for (uint64_t id : ids) finish(id, done);
  due_.clear();
  waits_.clear();
}

}  // namespace pspdr
