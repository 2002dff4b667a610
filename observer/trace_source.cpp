#include "observer/trace_source.hpp"

#include <algorithm>
#include <cmath>

#include "shared/flow_key.hpp"

namespace pspdr {
namespace {

constexpr size_t kBurst = 64;

}  // namespace

TraceSource::TraceSource(TraceFile& trace, uint32_t queues) : trace_(trace) {
  for (uint32_t q = 0; q < std::max(queues, 1u); ++q) queues_.push_back(std::make_unique<Queue>());
  if (queues > 1) reader_ = std::thread([this] { spread(); });
}

TraceSource::~TraceSource() {
  stopping_.store(true);
  if (reader_.joinable()) reader_.join();
}

uint32_t TraceSource::receive(uint32_t queue, std::span<Frame> frames) {
  Queue& q = *queues_[queue];
  uint32_t n = 0;
  if (reader_.joinable()) {
    n = uint32_t(q.ring.pop(frames));
  } else {
    while (n < frames.size() && trace_.next(frames[n])) ++n;
    offset_.store(trace_.offset(), std::memory_order_relaxed);
    if (n < frames.size()) finished_.store(true, std::memory_order_release);
  }
  q.received.store(q.received.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  return n;
}

void TraceSource::spread() {
  std::vector<std::vector<Frame>> bursts(queues_.size());
  auto send = [&](size_t w) {
    std::span<const Frame> items(bursts[w]);
    while (!items.empty() && !stopping_.load(std::memory_order_relaxed)) {
      items = items.subspan(queues_[w]->ring.push(items));
      if (!items.empty()) std::this_thread::yield();
    }
    bursts[w].clear();
  };
  Packet p;
  FlowKey key;
  Frame f;
  double clock = 0;  // the newest stamp so far: the packet clock every worker follows
  for (uint64_t n = 1; trace_.next(f); ++n) {
    clock = std::max(clock, f.ts);
    f.clock = clock;
    dissect_headers(f, p);
    // The hash's high half picks the worker: its flow table takes slots from the low
    // bits, which a modulo would make alike for all of one worker's flows.
    size_t w =
        flow_key_of(p, key) ? size_t(((key.symmetric_hash() >> 32) * queues_.size()) >> 32) : 0;
    bursts[w].push_back(f);
    if (bursts[w].size() == kBurst) send(w);
    if ((n & 0xfff) == 0) offset_.store(trace_.offset(), std::memory_order_relaxed);
  }
  for (size_t w = 0; w < bursts.size(); ++w) send(w);
  offset_.store(trace_.offset(), std::memory_order_relaxed);
  finished_.store(true, std::memory_order_release);
}

QueueCounters TraceSource::counters(uint32_t queue) const {
  return {queues_[queue]->received.load(std::memory_order_relaxed), 0};
}

std::string TraceSource::describe() const {
  return trace_.path() + " (" + trace_.format() + ", " + std::to_string(queues_.size()) +
         (queues_.size() == 1 ? " worker)" : " workers)");
}

}  // namespace pspdr
