// The observer core for one stream of packets: flows, PATHspider's packet-clock timers
// and the chains. Sources push frames in, a FlowSink receives completed flow records.
//
// Timer semantics (PATHspider's Observer, kept exactly): the packet clock advances in
// 1 s bins on every packet read; a flow idle for `idle_timeout` completes; a completed
// flow (idle, or a chain returned false) is emitted `expiry_timeout` later; packets of
// a completed flow still update it until it is emitted; at end of input all flows are
// flushed.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "chains/chain_set.hpp"
#include "observer/flow_table.hpp"
#include "shared/packet.hpp"

namespace pspdr {

struct ObserverOptions {
  double idle_timeout = 30;
  double expiry_timeout = 5;
  uint32_t initial_flows = 1 << 16;
  // Most flows held at once (0: unbounded). At the limit the flow idle longest is
  // emitted early -- completed flows waiting for expiry first -- so memory stays
  // bounded under a flood of new flows.
  uint32_t max_flows = 0;
};

struct ObserverStats {
  uint64_t packets = 0;
  uint64_t non_ip = 0;     // frames without an IP header (ARP, unknown links, ...)
  uint64_t malformed = 0;  // packets with any anomaly (see `anomalies`)
  uint64_t skipped = 0;    // malformed packets no flow could be found for
  uint64_t flows = 0;      // flows created
  uint64_t emitted = 0;    // flow records handed to the sink
  uint64_t evicted = 0;    // of those, emitted early because the table was full
  std::array<uint64_t, size_t(Anomaly::count_)> anomalies{};

  ObserverStats& operator+=(const ObserverStats& o) {
    packets += o.packets;
    non_ip += o.non_ip;
    malformed += o.malformed;
    skipped += o.skipped;
    flows += o.flows;
    emitted += o.emitted;
    evicted += o.evicted;
    for (size_t i = 0; i < anomalies.size(); ++i) anomalies[i] += o.anomalies[i];
    return *this;
  }
};

class FlowSink {
 public:
  virtual ~FlowSink() = default;
  virtual void emit(const Flow& flow) = 0;
};

class Observer {
 public:
  Observer(const ChainSet& chains, const ObserverOptions& opts, FlowSink& sink);

  void on_frame(const Frame& f) {
    dissect(f, packet_);
    on_packet(packet_);
  }
  // The same as on_frame on each frame in turn, with fewer cache misses: a burst is
  // dissected first, so each packet's flow is prefetched while earlier ones are handled.
  void on_frames(std::span<const Frame> frames);
  void on_packet(const Packet& p) {
    FlowKey key;
    handle(p, key, flow_key_of(p, key) ? key.symmetric_hash() : 0);
  }
  // Advances the packet clock to `ts` without a packet of this core's: with several
  // workers, every one must see the clock every packet sets (PATHspider has one clock).
  void advance_clock(double ts) { tick(ts); }
  // End of input: emit every flow still held, completed ones first.
  void flush();

  const ObserverStats& stats() const { return stats_; }
  size_t active_flows() const { return table_.size(); }

 private:
  struct Wheel {
    std::vector<uint32_t> heads;
  };

  static constexpr size_t kBurst = 16;
  static constexpr size_t kFlowPrefetchAhead = 4;  // packets; enough for a slot to arrive
  struct Keyed {
    Packet packet;
    FlowKey key;
    uint64_t hash = 0;
  };

  // `key` and `hash` are the packet's flow key and its hash (unused for non-IP packets).
  void handle(const Packet& p, const FlowKey& key, uint64_t hash);
  void tick(double ts);
  void set_idle_bin(uint32_t id, int64_t bin);
  void complete(uint32_t id, int64_t expiry_bin);
  void emit(uint32_t id);
  void evict_one();
  void wheel_add(Wheel& w, uint32_t id, int64_t bin);
  void wheel_remove(Wheel& w, uint32_t id);

  const ChainSet& chains_;
  ObserverOptions opts_;
  FlowSink& sink_;
  FlowTable table_;
  Packet packet_;
  std::array<Keyed, kBurst> burst_;
  ObserverStats stats_;
  int64_t ptq_ = 0;  // the packet clock, quantised to whole seconds
  Wheel idle_, expiry_;
  uint64_t wheel_mask_ = 0;
};

}  // namespace pspdr
