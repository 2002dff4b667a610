// The tracer: tracebox's method on the raw forge. It sends a probe with TTL (hop limit)
// 1, 2, ... from one source port (Paris traceroute's pinned flow: a load balancer sends
// every TTL the same way), one TTL at a time (a second probe if the first had no
// answer), and reads through
// the observer's packet source and dissector what comes back: each router's ICMP
// time-exceeded with its quote, the target's own answer. It also captures each probe as
// it leaves: that is what the quotes are compared with (locate/quote.hpp).
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "generators/raw_forge.hpp"
#include "measure/merger.hpp"
#include "observer/packet_source.hpp"
#include "shared/address.hpp"
#include "shared/rate_limiter.hpp"

namespace pspdr {

struct TracerOptions {
  unsigned max_hops = 30;  // the last TTL sent
  double wait = 1;         // seconds for each TTL's answer
  unsigned gap = 3;        // consecutive TTLs without an answer that end a trace
  // Probes per TTL before it counts as silent (scamper's default): a router that rate
  // limits its ICMP errors, or a lost answer, does not make a hop look absent.
  unsigned attempts = 2;
};

struct Hop {
  unsigned ttl = 0;
  uint32_t seq = 0;                      // TCP: the probe's sequence number (it names the TTL)
  double sent_at = 0;                    // realtime
  std::vector<uint8_t> sent;             // the probe as it left, from its IP header
  std::optional<IpAddress> from;         // who answered; none: nobody within the wait
  double rtt = 0;                        // seconds
  uint8_t icmp_type = 0, icmp_code = 0;  // of a router's answer
  std::vector<uint8_t> quote;            // what its answer quoted of the probe
  bool destination = false;              // the target answered (SYN-ACK, RST, a datagram, ICMP)
  std::vector<uint32_t> earlier_seqs;    // the earlier attempts': a late answer still counts

  unsigned attempts() const { return unsigned(earlier_seqs.size()) + 1; }  // with this TTL
  bool sent_seq(uint32_t s) const { return s == seq || std::ranges::count(earlier_seqs, s); }
};

struct Trace {
  ConnectionRequest probe;  // its sport is the trace's
  std::vector<Hop> hops;    // TTL 1 first
  bool reached = false;     // the target answered
  int error = 0;            // errno of a probe the forge could not send
};

class Tracer {
 public:
  // `capture` sees the interface the probes leave by. Throws std::runtime_error (one
  // line) without CAP_NET_RAW.
  Tracer(std::unique_ptr<PacketSource> capture, const TracerOptions& opts);

  using Done = std::function<void(uint64_t id, Trace&& trace)>;

  // Starts tracing `probe` (a forge request, tcpsyn or dnsudp); `id` names it in done.
  void add(uint64_t id, const ConnectionRequest& probe);
  // Sends the TTLs due, each taking one packet of `rate`; reads what came; hands each
  // finished trace to `done`.
  void poll(RateLimiter& rate, const Done& done);
  // Ends every trace now, with what it has (a stop, a signal).
  void finish_all(const Done& done);

  bool idle() const { return traces_.empty(); }
  bool has_due() const { return !due_.empty(); }  // TTLs waiting for the rate limit
  size_t tracing() const { return traces_.size(); }

 private:
  struct Tracing {
    Trace trace;
    unsigned silent = 0;  // TTLs in a row without an answer
    bool again = false;   // the next send repeats the last TTL
    bool done = false;
  };

  void send(uint64_t id, Tracing& t, const Done& done);
  void finish(uint64_t id, const Done& done);
  void read(const Done& done);
  void on_packet(const Packet& p, const Done& done);
  void on_quote(const Packet& p, const Done& done);
  void answered(uint64_t id, Tracing& t, Hop& hop, const Packet& p, const Done& done);
  void advance(uint64_t id, Tracing& t, const Done& done);
  void expire(const Done& done);
  // The trace a packet of `key` (oriented from us to the target) belongs to, and its id.
  Tracing* find(const MergeKey& key, uint64_t& id);

  std::unique_ptr<PacketSource> capture_;
  TracerOptions opts_;
  RawForge forge_;
  std::deque<ConnectionResult> sent_;
  std::unordered_map<uint64_t, Tracing> traces_;
  std::unordered_map<MergeKey, uint64_t, MergeKeyHash> by_key_;
  std::deque<uint64_t> due_;                                  // traces whose next TTL may go
  std::deque<std::tuple<double, uint64_t, unsigned>> waits_;  // (deadline, trace, ttl)
};

}  // namespace pspdr
