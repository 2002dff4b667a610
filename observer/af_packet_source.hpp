// AF_PACKET with TPACKET_V3: any interface the kernel has, no driver support needed.
// Several queues are sockets in one PACKET_FANOUT_HASH group: the kernel spreads
// packets by its flow hash, which it makes symmetric, so both directions of a flow
// reach the same socket and so the same worker. Frames are read in place from the
// memory-mapped ring blocks.
#pragma once

#include <atomic>
#include <deque>
#include <string>

#include "observer/interface.hpp"
#include "observer/packet_source.hpp"

namespace pspdr {

struct AfPacketOptions {
  uint32_t queues = 1;
  uint32_t block_size = 1 << 20;  // a power of two, at least a page
  uint32_t blocks = 32;           // per queue

  // A ring of about `bytes` per queue (tcpdump's -B): 1 MiB blocks, smaller ones (at
  // least 8 of a page or more) when the ring is small.
  void size_ring(uint64_t bytes);
};

class AfPacketSource final : public PacketSource {
 public:
  AfPacketSource(const std::string& ifname, const AfPacketOptions& opts);  // throws SourceError
  ~AfPacketSource() override;

  uint32_t queues() const override { return uint32_t(rings_.size()); }
  uint32_t receive(uint32_t queue, std::span<Frame> frames) override;
  void sleep_until_ready(uint32_t queue, int timeout_ms) override;
  QueueCounters counters(uint32_t queue) const override;
  std::string problem() const override { return interface_problem(ifname_); }
  std::string describe() const override;

 private:
  struct Ring {
    int fd = -1;
    uint8_t* map = nullptr;
    size_t map_size = 0;
    uint32_t block = 0;             // block being read
    const uint8_t* next = nullptr;  // next packet header in it; null: block not yet opened
    uint32_t left = 0;              // packets left in it
    bool release_pending = false;   // the block read last is handed back at the next receive
    // The worker counts what it receives; the stats thread reads that and sums the
    // kernel's drop counts (reset on every read) into `dropped`.
    std::atomic<uint64_t> received{0};
    mutable std::atomic<uint64_t> dropped{0};
  };

  void release_block(Ring& r);

  std::string ifname_;
  AfPacketOptions opts_;
  LinkType link_ = LinkType::ethernet;
  std::deque<Ring> rings_;  // a deque: rings (holding atomics) never move
};

}  // namespace pspdr
