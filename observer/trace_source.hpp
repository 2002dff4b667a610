// A trace file as a packet source, so pspdr observe reads traces through the one poll
// loop live sources use (observer/pipeline.hpp). One queue: its worker reads the file
// itself. Several: worker 0 reads, keeping a smaller share of the flows for itself, and
// spreads the rest over the other workers' rings by the symmetric flow hash -- software
// RSS -- computing only the flow key, never a full dissection. It stamps each frame with
// the trace's packet clock (Frame::clock), so every worker's timeouts follow the one
// clock PATHspider has. No thread of its own: on two cores, two workers, not three
// threads, share them.
#pragma once

#include <atomic>
#include <memory>
#include <span>
#include <thread>
#include <vector>

#include "observer/packet_source.hpp"
#include "observer/trace_file.hpp"
#include "shared/spsc_ring.hpp"

namespace pspdr {

class TraceSource final : public PacketSource {
 public:
  TraceSource(TraceFile& trace, uint32_t queues);

  uint32_t queues() const override { return uint32_t(queues_.size()); }
  uint32_t receive(uint32_t queue, std::span<Frame> frames) override;
  void sleep_until_ready(uint32_t, int) override { std::this_thread::yield(); }
  bool exhausted() const override { return finished_.load(std::memory_order_acquire); }
  bool follows_wall_clock() const override { return false; }
  QueueCounters counters(uint32_t queue) const override;
  std::string describe() const override;
  // Bytes of the file read so far, for progress lines (any thread).
  uint64_t offset() const { return offset_.load(std::memory_order_relaxed); }

 private:
  // One worker's ring, what it took from it, and what worker 0 holds for it.
  struct alignas(64) Queue {
    Queue() : ring(1 << 14) {}
    SpscRing<Frame> ring;
    std::atomic<uint64_t> received{0};
    std::vector<Frame> pending;  // worker 0's side: a burst not yet pushed
  };
  uint32_t read(std::span<Frame> frames);    // one queue: straight from the file
  uint32_t spread(std::span<Frame> frames);  // worker 0 of several
  uint32_t worker_of(const Frame& f);
  bool push_pending(Queue& q);  // false: its ring is full

  TraceFile& trace_;
  std::vector<std::unique_ptr<Queue>> queues_;
  std::atomic<bool> finished_{false};
  std::atomic<uint64_t> offset_{0};
  // Worker 0's only.
  bool file_done_ = false;
  double clock_ = 0;  // the newest stamp so far: the packet clock every worker follows
  Packet headers_;
  uint64_t read_ = 0;
};

}  // namespace pspdr
