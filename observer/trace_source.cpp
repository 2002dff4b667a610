#include "observer/trace_source.hpp"

#include <algorithm>

#include "shared/flow_key.hpp"

namespace pspdr {
namespace {

constexpr size_t kBurst = 64;

}  // namespace

TraceSource::TraceSource(TraceFile& trace, uint32_t queues) : trace_(trace) {
  for (uint32_t q = 0; q < std::max(queues, 1u); ++q) queues_.push_back(std::make_unique<Queue>());
}

uint32_t TraceSource::receive(uint32_t queue, std::span<Frame> frames) {
  Queue& q = *queues_[queue];
  uint32_t n = queues_.size() == 1 ? read(frames)
               : queue == 0        ? spread(frames)
                                   : uint32_t(q.ring.pop(frames));
  q.received.store(q.received.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  return n;
}

uint32_t TraceSource::read(std::span<Frame> frames) {
  uint32_t n = 0;
  while (n < frames.size() && trace_.next(frames[n])) ++n;
  offset_.store(trace_.offset(), std::memory_order_relaxed);
  if (n < frames.size()) finished_.store(true, std::memory_order_release);
  return n;
}

// Reads up to a burst, keeping worker 0's frames in `frames` and queueing the others'.
// A full ring holds reading up until its worker catches up: frames stay in order.
uint32_t TraceSource::spread(std::span<Frame> frames) {
  for (size_t w = 1; w < queues_.size(); ++w)
    if (!push_pending(*queues_[w])) return 0;
  uint32_t n = 0;
  Frame f;
  while (!file_done_ && n < frames.size()) {
    if (!trace_.next(f)) {
      file_done_ = true;
      break;
    }
    clock_ = std::max(clock_, f.ts);
    f.clock = clock_;
    uint32_t w = worker_of(f);
    if (w == 0) {
      frames[n++] = f;
      continue;
    }
    Queue& q = *queues_[w];
    q.pending.push_back(f);
    if (q.pending.size() >= kBurst && !push_pending(q)) break;
  }
  if ((++read_ & 63) == 0 || file_done_) offset_.store(trace_.offset(), std::memory_order_relaxed);
  if (file_done_ && n == 0) {
    for (size_t w = 1; w < queues_.size(); ++w)
      if (!push_pending(*queues_[w])) return 0;
    finished_.store(true, std::memory_order_release);
  }
  return n;
}

// Worker 0 takes a half share (it reads too), the others a whole one each: with two
// workers, a third of the flows and two thirds. The hash's high half picks: a worker's
// flow table takes its slots from the low bits, which a modulo would make alike.
uint32_t TraceSource::worker_of(const Frame& f) {
  FlowKey key;
  dissect_headers(f, headers_);
  if (!flow_key_of(headers_, key)) return 0;
  uint64_t shares = 2 * queues_.size() - 1;
  uint64_t x = ((key.symmetric_hash() >> 32) * shares) >> 32;
  return x == 0 ? 0 : uint32_t(1 + (x - 1) / 2);
}

bool TraceSource::push_pending(Queue& q) {
  std::span<const Frame> items(q.pending);
  size_t pushed = q.ring.push(items);
  q.pending.erase(q.pending.begin(), q.pending.begin() + ptrdiff_t(pushed));
  return q.pending.empty();
}

QueueCounters TraceSource::counters(uint32_t queue) const {
  return {queues_[queue]->received.load(std::memory_order_relaxed), 0};
}

std::string TraceSource::describe() const {
  return trace_.path() + " (" + trace_.format() + ", " + std::to_string(queues_.size()) +
         (queues_.size() == 1 ? " worker)" : " workers)");
}

}  // namespace pspdr
