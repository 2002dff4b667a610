#include "observer/pipeline.hpp"

#include <pthread.h>
#include <sched.h>

#include <cmath>
#include <memory>
#include <string>
#include <thread>

#include "observer/record_writer.hpp"
#include "shared/flow_key.hpp"
#include "shared/memory.hpp"
#include "shared/spsc_ring.hpp"

namespace pspdr {
namespace {

constexpr size_t kRingSize = 1 << 14;
constexpr size_t kBurst = 64;

// A frame for a worker, a clock advance (the frame's ts), or the end of input.
struct WorkItem {
  Frame frame;
  enum Kind : uint8_t { packet, clock, end } kind = packet;
};

void pin(std::thread& t, int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(t.native_handle(), sizeof set, &set);
}

struct Worker {
  Worker(const ChainSet& chains, const ObserverOptions& opts)
      : in(kRingSize), sink(chains), observer(chains, opts, sink) {}
  SpscRing<WorkItem> in;
  ChunkFlowSink sink;
  Observer observer;

  void run() {
    WorkItem items[kBurst];
    Frame frames[kBurst];
    for (;;) {
      size_t n = in.pop(items);
      if (n == 0) {
        std::this_thread::yield();
        continue;
      }
      // Runs of packets go through the observer's burst path; clock advances and the
      // end keep their place between them.
      size_t pending = 0;
      for (size_t i = 0; i < n; ++i) {
        const WorkItem& it = items[i];
        if (it.kind == WorkItem::packet) {
          frames[pending++] = it.frame;
          continue;
        }
        observer.on_frames({frames, pending});
        pending = 0;
        if (it.kind == WorkItem::clock) {
          observer.advance_clock(it.frame.ts);
          continue;
        }
        observer.flush();
        sink.finish();
        return;
      }
      observer.on_frames({frames, pending});
    }
  }
};

PipelineResult run_single(TraceFile& trace, const ChainSet& chains, const ObserverOptions& opts,
                          FILE* out, const ProgressFn& progress) {
  NdjsonFlowWriter writer(chains, out);
  Observer observer(chains, opts, writer);
  Frame frames[kBurst];
  uint64_t n = 0;
  for (;;) {
    size_t got = 0;
    while (got < kBurst && trace.next(frames[got])) ++got;
    if (got == 0) break;
    observer.on_frames({frames, got});
    if (progress && (n >> 16) != ((n + got) >> 16)) progress(n + got, trace.offset());
    n += got;
  }
  observer.flush();
  return {observer.stats(), writer.records(), writer.flush(), anonymous_memory_kib()};
}

}  // namespace

PipelineResult run_pipeline(TraceFile& trace, const ChainSet& chains, const ObserverOptions& opts,
                            const PipelineOptions& pipeline, FILE* out,
                            const ProgressFn& progress) {
  if (pipeline.workers <= 1) return run_single(trace, chains, opts, out, progress);

  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < pipeline.workers; ++i)
    workers.push_back(std::make_unique<Worker>(chains, opts));
  for (unsigned i = 0; i < pipeline.workers; ++i) {
    threads.emplace_back([w = workers[i].get()] { w->run(); });
    if (i < pipeline.cores.size()) pin(threads.back(), pipeline.cores[i]);
  }

  std::vector<ChunkFlowSink*> sinks;
  for (auto& w : workers) sinks.push_back(&w->sink);
  ChunkWriter writer(file_output(out), sinks);

  // The dispatcher (this thread): one burst per worker at a time.
  std::vector<std::vector<WorkItem>> bursts(workers.size());
  auto send = [&](size_t w) {
    std::span<const WorkItem> items(bursts[w]);
    while (!items.empty()) {
      items = items.subspan(workers[w]->in.push(items));
      if (!items.empty()) std::this_thread::yield();
    }
    bursts[w].clear();
  };
  auto queue = [&](size_t w, const WorkItem& item) {
    bursts[w].push_back(item);
    if (bursts[w].size() == kBurst) send(w);
  };

  Packet p;
  Frame f;
  int64_t clock = 0;  // ceil of the newest timestamp, as every Observer quantises it
  uint64_t n = 0;
  while (trace.next(f)) {
    int64_t second = int64_t(std::ceil(f.ts));
    if (second > clock) {
      clock = second;
      for (size_t w = 0; w < workers.size(); ++w) queue(w, WorkItem{f, WorkItem::clock});
    }
    dissect(f, p);
    FlowKey key;
    // The hash's high half picks the worker: its flow table takes slots from the low
    // bits, which a modulo would make alike for all of one worker's flows.
    size_t target =
        flow_key_of(p, key) ? size_t(((key.symmetric_hash() >> 32) * workers.size()) >> 32) : 0;
    queue(target, WorkItem{f, WorkItem::packet});
    if (progress && (++n & 0xffff) == 0) progress(n, trace.offset());
  }
  for (size_t w = 0; w < workers.size(); ++w) {
    queue(w, WorkItem{Frame{}, WorkItem::end});
    send(w);
  }
  for (auto& t : threads) t.join();
  bool output_ok = writer.join();

  PipelineResult r;
  for (auto& w : workers) {
    r.stats += w->observer.stats();
    r.records += w->sink.records();
  }
  r.output_ok = output_ok;
  r.memory_kib = anonymous_memory_kib();
  return r;
}

}  // namespace pspdr
