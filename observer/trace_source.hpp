// A trace file as a packet source, so pspdr observe reads traces through the one poll
// loop live sources use (observer/live_pipeline.hpp). One queue: its worker reads the
// file itself. Several: a reading thread spreads frames over the workers' rings by the
// symmetric flow hash -- software RSS -- computing only the flow key, never a full
// dissection, and stamps each frame with the trace's packet clock (Frame::clock), so
// every worker's timeouts follow the one clock PATHspider has.
#pragma once

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "observer/packet_source.hpp"
#include "observer/trace_file.hpp"
#include "shared/spsc_ring.hpp"

namespace pspdr {

class TraceSource final : public PacketSource {
 public:
  TraceSource(TraceFile& trace, uint32_t queues);
  ~TraceSource() override;

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
  // One worker's ring, and what it took from it.
  struct alignas(64) Queue {
    Queue() : ring(1 << 14) {}
    SpscRing<Frame> ring;
    std::atomic<uint64_t> received{0};
  };
  void spread();  // the reading thread

  TraceFile& trace_;
  std::vector<std::unique_ptr<Queue>> queues_;
  std::atomic<bool> finished_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> offset_{0};
  std::thread reader_;
};

}  // namespace pspdr
