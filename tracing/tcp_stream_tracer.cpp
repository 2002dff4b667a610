#include "tracing/tcp_stream_tracer.hpp"

#include <algorithm>
#include <cstring>

#include "shared/json_writer.hpp"
#include "shared/tcp.hpp"

namespace pspdr {
namespace {

// tshark reads a TCP header up to its window field before it looks up the stream; a
// header cut shorter gets none.
constexpr uint32_t kBytesForStream = 16;

// The 4-tuple with its ends in a fixed order, so both directions share one key;
// `forward` says whether the packet goes from key.src to key.dst.
FlowKey canonical_key(const IpView& ip, uint16_t sport, uint16_t dport, bool& forward) {
  FlowKey k;
  k.version = ip.version;
  k.proto = ipproto::tcp;
  std::memcpy(k.src, ip.src(), ip.addr_len());
  std::memcpy(k.dst, ip.dst(), ip.addr_len());
  k.sport = sport;
  k.dport = dport;
  int order = std::memcmp(k.src, k.dst, 16);
  forward = order < 0 || (order == 0 && sport <= dport);
  return forward ? k : k.reversed();
}

}  // namespace

std::string TcpStream::label() const {
  char a[IpAddress::kMaxText], b[IpAddress::kMaxText], ts[32];
  std::string out(src.format(a));
  out += '_' + std::to_string(srcport) + '-';
  out += dst.format(b);
  out += '_' + std::to_string(dstport) + '-';
  out += python_float(first_ts, ts);
  return out;
}

TcpStreamTracer::Conversation& TcpStreamTracer::open(const FlowKey& key, const IpView& ip,
                                                     uint16_t sport, uint16_t dport, double ts) {
  Conversation& c = lru_.emplace_back();
  c.key = key;
  c.stream.number = next_number_++;
  c.stream.src = IpAddress(ip.version, ip.src());
  c.stream.dst = IpAddress(ip.version, ip.dst());
  c.stream.srcport = sport;
  c.stream.dstport = dport;
  c.stream.first_ts = ts;
  by_key_[key] = std::prev(lru_.end());
  return c;
}

void TcpStreamTracer::finish(Lru::iterator it) {
  sink_.finished(it->stream);
  by_key_.erase(it->key);
  lru_.erase(it);
}

void TcpStreamTracer::expire(double now) {
  while (!lru_.empty() && now - lru_.front().stream.last_ts > idle_) finish(lru_.begin());
}

bool TcpStreamTracer::add(uint64_t number, const Frame& frame, const Packet& p) {
  expire(frame.ts);
  if (!p.ip || p.ip.fragment) return false;  // tshark follows fragments once reassembled
  // The TCP header this frame is counted by: its own, or the one an ICMP error quotes.
  const IpView* ip = &p.ip;
  bool quoted = false;
  if (p.icmp && p.icmp.quote) {
    ip = &p.icmp.quote;
    quoted = true;
  }
  if (ip->proto != ipproto::tcp || !ip->has_l4) return false;
  Bytes l4 = ip->l4();
  if (l4.size < kBytesForStream) return false;
  uint16_t sport = load_be16(l4.data), dport = load_be16(l4.data + 2);
  uint32_t seq = load_be32(l4.data + 4), ack = load_be32(l4.data + 8);
  uint8_t flags = l4[13];

  bool forward;
  FlowKey key = canonical_key(*ip, sport, dport, forward);
  int dir = forward ? 0 : 1;
  auto found = by_key_.find(key);
  Conversation* c;
  if (found == by_key_.end()) {
    c = &open(key, *ip, sport, dport, frame.ts);
  } else if ((flags & (tcpflag::syn | tcpflag::ack)) == tcpflag::syn &&
             found->second->base_set[dir] && seq != found->second->base_seq[dir]) {
    // A new SYN on the 4-tuple (port reuse): tshark starts a new conversation, and the
    // old one can get no more packets.
    finish(found->second);
    c = &open(key, *ip, sport, dport, frame.ts);
  } else {
    c = &*found->second;
    lru_.splice(lru_.end(), lru_, found->second);
  }

  // tshark's sequence analysis, which records the base sequence numbers, runs on whole
  // segments only: not on quoted headers, and not where the IP length is shorter than
  // the TCP header.
  uint32_t tcp_length = ip->length() > ip->hdr_len ? ip->length() - ip->hdr_len : 0;
  if (!quoted && tcp_length >= uint32_t(l4[12] >> 4) * 4) {
    if (!c->base_set[dir]) {
      c->base_seq[dir] = flags & tcpflag::syn ? seq : seq - 1;
      c->base_set[dir] = true;
    }
    if (!c->base_set[1 - dir] && (flags & tcpflag::ack)) {
      c->base_seq[1 - dir] = ack - 1;
      c->base_set[1 - dir] = true;
    }
  }
  c->stream.frames.push_back(number);
  c->stream.last_ts = frame.ts;
  sink_.packet(c->stream, frame);
  return true;
}

void TcpStreamTracer::finish_all() {
  std::vector<Lru::iterator> open;
  for (auto it = lru_.begin(); it != lru_.end(); ++it) open.push_back(it);
  std::sort(open.begin(), open.end(),
            [](Lru::iterator a, Lru::iterator b) { return a->stream.number < b->stream.number; });
  for (Lru::iterator it : open) finish(it);
}

}  // namespace pspdr
