#include "observer/trace_source.hpp"

#include <algorithm>

#include "shared/flow_key.hpp"

namespace pspdr {

TraceSource::TraceSource(TraceFile& trace, uint32_t queues) : trace_(trace) {
  for (uint32_t i = 0; i < std::max(queues, 1u); ++i) {
    auto q = std::make_unique<Queue>();
    if (i > 0) q->copy = std::make_unique<TraceFile>(trace);
    q->trace = i > 0 ? q->copy.get() : &trace;
    queues_.push_back(std::move(q));
  }
}

uint32_t TraceSource::receive(uint32_t queue, std::span<Frame> frames) {
  Queue& q = *queues_[queue];
  uint32_t n = 0;
  Frame f;
  while (n < frames.size() && q.trace->next(f)) {
    q.clock = std::max(q.clock, f.ts);
    if (!ours(q, queue, f)) continue;
    f.clock = q.clock;
    frames[n++] = f;
  }
  q.received.store(q.received.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  q.offset.store(q.trace->offset(), std::memory_order_relaxed);
  if (n < frames.size()) q.finished.store(true, std::memory_order_release);
  return n;
}

// A flow's share by the high half of its hash: a worker's flow table takes its slots
// from the low bits, which a modulo would make alike.
bool TraceSource::ours(Queue& q, uint32_t queue, const Frame& f) const {
  if (queues_.size() == 1) return true;
  FlowKey key;
  dissect_headers(f, q.headers);
  if (!flow_key_of(q.headers, key)) return queue == 0;
  return ((key.symmetric_hash() >> 32) * queues_.size()) >> 32 == queue;
}

bool TraceSource::exhausted() const {
  return std::all_of(queues_.begin(), queues_.end(),
                     [](auto& q) { return q->finished.load(std::memory_order_acquire); });
}

uint64_t TraceSource::offset() const {
  uint64_t least = UINT64_MAX;
  for (auto& q : queues_) least = std::min(least, q->offset.load(std::memory_order_relaxed));
  return least;
}

QueueCounters TraceSource::counters(uint32_t queue) const {
  return {queues_[queue]->received.load(std::memory_order_relaxed), 0};
}

std::string TraceSource::describe() const {
  return trace_.path() + " (" + trace_.format() + ", " + std::to_string(queues_.size()) +
         (queues_.size() == 1 ? " worker)" : " workers)");
}

}  // namespace pspdr
