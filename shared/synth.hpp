// A deterministic trace synthesiser: flows of mixed traffic as an Ethernet capture point
// near the clients would see them -- TCP connections (options, ECN, DSCP, Fast Open,
// evil bit, data both ways, FIN/RST or no teardown), DNS over UDP, ICMP errors quoting
// a flow's packets, IPv6 and 802.1Q shares -- with flows overlapping in time. The same
// options and seed give the same packets, byte for byte.
//
// Flows start as a Poisson process; each flow's packets are built when it starts and
// released in timestamp order through a heap of open flows, so memory grows with the
// flows open at once, not with the number of flows.
#pragma once

#include <cstdint>
#include <vector>

#include "shared/pcap_writer.hpp"

namespace pspdr {

// splitmix64 (Steele, Lea and Flood, 2014): one add and a mix per draw, every seed good.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n), by multiply-shift (no division, negligible bias for small n).
  uint32_t below(uint32_t n) { return uint32_t(((next() >> 32) * n) >> 32); }
  uint32_t between(uint32_t lo, uint32_t hi) { return lo + below(hi - lo + 1); }  // inclusive
  double unit() { return double(next() >> 11) * 0x1p-53; }                        // [0, 1)
  bool chance(double p) { return unit() < p; }

 private:
  uint64_t s_;
};

struct SynthOptions {
  uint64_t flows = 1000;
  uint64_t seed = 1;
  double flows_per_second = 5000;  // mean rate of new flows, in trace time
  double start = 1.7e9;            // first flow's start, seconds since the epoch
  // Keep only each flow's first packets (0: all). Short flows make many flows in a
  // small trace: the flow-table sweeps of the benchmarks use them.
  uint32_t max_flow_packets = 0;
};

struct SynthPacket {
  double ts = 0;                  // seconds since the epoch, whole microseconds
  const uint8_t* data = nullptr;  // an Ethernet frame, valid until the next call to next()
  uint32_t size = 0;
};

class TraceSynth {
 public:
  explicit TraceSynth(const SynthOptions& opts);

  // The next packet in timestamp order; false once every flow has ended.
  bool next(SynthPacket& out);
  size_t max_open_flows() const { return max_open_; }  // the most at once so far

  // One flow's packets, built when it starts and sorted by time.
  struct Schedule {
    struct Packet {
      uint64_t us;  // since the trace start
      std::vector<uint8_t> frame;
    };
    std::vector<Packet> packets;
    size_t next = 0;
  };

 private:
  // A flow's next packet; `order` (when the flow started) breaks timestamp ties.
  struct Due {
    uint64_t us;
    uint64_t order;
    uint32_t slot;
  };
  void start_flow();

  SynthOptions opts_;
  SplitMix64 arrivals_;
  uint64_t next_start_us_ = 0;
  uint64_t started_ = 0;
  size_t max_open_ = 0;
  std::vector<Schedule> slots_;  // reused, so their packet lists keep their capacity
  std::vector<uint32_t> free_slots_;
  std::vector<Due> heap_;         // min-heap on (us, order), one entry per open flow
  std::vector<uint8_t> current_;  // the frame next() returned last
};

struct SynthStats {
  uint64_t packets = 0;
  uint64_t bytes = 0;   // frame bytes
  size_t max_open = 0;  // most flows open at once (the memory bound)
};

// Writes the whole trace; PcapWriter's errors propagate as std::runtime_error.
SynthStats write_synth_trace(const SynthOptions& opts, PcapWriter& out);

}  // namespace pspdr
