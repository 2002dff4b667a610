// A trace file as a packet source, so pspdr observe reads traces through the one poll
// loop live sources use (observer/pipeline.hpp). Each queue's worker reads the whole
// trace with a reader of its own over the one mapping, and keeps the frames whose
// symmetric flow hash is its share -- software RSS without a reading core or rings:
// each worker pays only for the other frames' headers and flow key, never a hand-over.
// Every reader sees every frame, so each stamps its frames with the trace's one packet
// clock (Frame::clock), the newest time so far, and every worker's timeouts follow the
// one clock PATHspider has.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <span>
#include <thread>
#include <vector>

#include "observer/packet_source.hpp"
#include "observer/trace_file.hpp"

namespace pspdr {

class TraceSource final : public PacketSource {
 public:
  // `trace` is queue 0's reader (its damage() and unsupported_links() tell of the whole
  // file once it is read); the other queues read copies of it.
  TraceSource(TraceFile& trace, uint32_t queues);

  uint32_t queues() const override { return uint32_t(queues_.size()); }
  uint32_t receive(uint32_t queue, std::span<Frame> frames) override;
  // A worker waits only once its reader is done, for the others to finish theirs.
  void sleep_until_ready(uint32_t, int) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  bool exhausted() const override;
  bool follows_wall_clock() const override { return false; }
  QueueCounters counters(uint32_t queue) const override;
  std::string describe() const override;
  // Bytes of the file every worker has read, for progress lines (any thread).
  uint64_t offset() const;

 private:
  // One worker's reader and what it has taken; only its worker writes it.
  struct alignas(64) Queue {
    TraceFile* trace = nullptr;
    std::unique_ptr<TraceFile> copy;  // queues after the first: their own reader
    Packet headers;                   // the frame whose share is being decided
    double clock = 0;                 // the newest stamp so far
    std::atomic<uint64_t> received{0};
    std::atomic<uint64_t> offset{0};
    std::atomic<bool> finished{false};
  };
  bool ours(Queue& q, uint32_t queue, const Frame& f) const;

  TraceFile& trace_;
  std::vector<std::unique_ptr<Queue>> queues_;
};

}  // namespace pspdr
