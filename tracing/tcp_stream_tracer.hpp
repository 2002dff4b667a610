// Follow TCP streams: groups a trace's TCP packets into streams by 4-tuple, both
// directions together, numbered and split exactly as tshark's `tcp.stream` (pcapkit's
// TraceFlow gives the labels). docs/trace.md states the rules.
#pragma once

#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>
#include <vector>

#include "shared/address.hpp"
#include "shared/flow_key.hpp"
#include "shared/packet.hpp"

namespace pspdr {

struct TcpStream {
  uint64_t number = 0;  // tshark's tcp.stream: streams counted in order of first packet
  // The first packet's addresses and ports, and its time: the flow label's parts.
  IpAddress src, dst;
  uint16_t srcport = 0, dstport = 0;
  double first_ts = 0, last_ts = 0;
  std::vector<uint64_t> frames;  // frame numbers (1-based), in trace order

  // pcapkit's flow label: {src}_{srcport}-{dst}_{dstport}-{timestamp}.
  std::string label() const;
};

// What happens to streams: each packet is handed over with its stream, and each stream
// once when it can get no more packets.
class TcpStreamSink {
 public:
  virtual ~TcpStreamSink() = default;
  virtual void packet(const TcpStream& stream, const Frame& frame) = 0;
  virtual void finished(const TcpStream& stream) = 0;
};

class TcpStreamTracer {
 public:
  // A stream idle for `idle_seconds` of trace time is finished: memory stays bounded by
  // the streams active at once, whatever the trace's size.
  TcpStreamTracer(TcpStreamSink& sink, double idle_seconds) : sink_(sink), idle_(idle_seconds) {}

  // Frame `number`, dissected as `p`: added to its stream if it carries TCP (or quotes
  // a TCP header in an ICMP error, as tshark counts it). Returns whether it did.
  bool add(uint64_t number, const Frame& frame, const Packet& p);
  // Finishes every stream still open, in stream-number order.
  void finish_all();

  uint64_t streams() const { return next_number_; }
  size_t open_streams() const { return by_key_.size(); }

 private:
  // One tshark conversation: the stream and, per direction, the base sequence number
  // tshark's sequence analysis records (a SYN with another one starts a new stream).
  struct Conversation {
    FlowKey key;  // ends in canonical order: direction 0 is key.src -> key.dst
    TcpStream stream;
    uint32_t base_seq[2] = {};
    bool base_set[2] = {};
  };
  using Lru = std::list<Conversation>;  // least recently active first
  struct KeyHash {
    size_t operator()(const FlowKey& k) const { return k.symmetric_hash(); }
  };

  Conversation& open(const FlowKey& key, const IpView& ip, uint16_t sport, uint16_t dport,
                     double ts);
  void finish(Lru::iterator it);
  void expire(double now);

  TcpStreamSink& sink_;
  double idle_;
  uint64_t next_number_ = 0;
  Lru lru_;
  std::unordered_map<FlowKey, Lru::iterator, KeyHash> by_key_;
};

}  // namespace pspdr
