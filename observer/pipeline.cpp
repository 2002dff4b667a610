#include "observer/pipeline.hpp"

#include <pthread.h>
#include <sched.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <thread>

#include "observer/record_writer.hpp"
#include "shared/memory.hpp"

namespace pspdr {
namespace {

using Clock = std::chrono::steady_clock;
constexpr uint32_t kBurst = 64;
// The longest an idle worker sleeps: it still sees `done` and hands its records over
// about on time.
constexpr int kIdleSleepMs = 50;
constexpr uint32_t kDrainBursts = 4096;  // at most this many bursts read after the stop

// What a worker publishes for the stats line; written only by its worker.
struct alignas(64) Published {
  std::atomic<uint64_t> packets{0};
  std::atomic<uint64_t> active{0};
  std::atomic<uint64_t> records{0};
};

// A worker's state, the observer built on the worker's own thread (see run_pipeline).
struct Worker {
  explicit Worker(BatchingSink& out) : sink(out) {}
  BatchingSink& sink;
  std::unique_ptr<Observer> observer;
  Published published;
};

int64_t wall_clock_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void advance_shared_clock(std::atomic<int64_t>& clock, int64_t second) {
  int64_t seen = clock.load(std::memory_order_relaxed);
  while (second > seen && !clock.compare_exchange_weak(seen, second, std::memory_order_relaxed)) {
  }
}

void poll_queue(PacketSource& source, uint32_t queue, Worker& w, std::atomic<int64_t>& clock,
                const std::atomic<bool>& done) {
  Observer& observer = *w.observer;
  const bool wall_clock = source.follows_wall_clock();
  source.worker_started(queue);
  Frame frames[kBurst];
  auto next_handover = Clock::now() + std::chrono::seconds(1);
  auto observe = [&](uint32_t n) {
    if (wall_clock) {
      double newest = frames[0].ts;
      for (uint32_t i = 1; i < n; ++i) newest = std::max(newest, frames[i].ts);
      advance_shared_clock(clock, int64_t(std::ceil(newest)));
      observer.advance_clock(double(clock.load(std::memory_order_relaxed)));
    }
    observer.on_frames({frames, n});
    w.published.packets.store(observer.stats().packets, std::memory_order_relaxed);
  };
  uint32_t idle = 0, polls = 0;
  while (!done.load(std::memory_order_relaxed)) {
    uint32_t n = source.receive(queue, frames);
    if (n == 0) {
      if (source.exhausted()) break;
      if (++idle > 1024) {  // nothing arriving: sleep until something does
        source.sleep_until_ready(queue, kIdleSleepMs);
        idle = 0;
        if (wall_clock) {  // whatever arrives later is stamped after now minus a second
          advance_shared_clock(clock, wall_clock_seconds() - 1);
          observer.advance_clock(double(clock.load(std::memory_order_relaxed)));
        }
      }
    } else {
      idle = 0;
      observe(n);
    }
    // Live output is written at least once a second. The clock is read every 64 polls
    // only: a worker spinning on an empty queue would spend its time there.
    if ((++polls & 63) == 0 && Clock::now() >= next_handover) {
      next_handover += std::chrono::seconds(1);
      w.sink.hand_over();
      w.published.active.store(observer.active_flows(), std::memory_order_relaxed);
      w.published.records.store(w.sink.records(), std::memory_order_relaxed);
    }
  }
  // What the ring holds at the stop or the end came before it: observed too, so that a
  // campaign's last packets count however far behind the worker was (bounded: a flood
  // cannot hold the stop off).
  for (uint32_t burst = 0; burst < kDrainBursts; ++burst) {
    uint32_t n = source.receive(queue, frames);
    if (n == 0) break;
    observe(n);
  }
  source.worker_stopped(queue);
  observer.flush();
  w.published.records.store(w.sink.records(), std::memory_order_relaxed);
  w.sink.finish();
}

void pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

uint64_t packets_published(const std::vector<std::unique_ptr<Worker>>& workers) {
  uint64_t n = 0;
  for (auto& w : workers) n += w->published.packets.load(std::memory_order_relaxed);
  return n;
}

void print_live_stats(PacketSource& source, std::vector<std::unique_ptr<Worker>>& workers,
                      std::vector<uint64_t>& last, double interval) {
  std::string line = "pspdr-observe:";
  uint64_t active = 0, records = 0, dropped = 0;
  for (size_t q = 0; q < workers.size(); ++q) {
    uint64_t p = workers[q]->published.packets.load(std::memory_order_relaxed);
    char buf[64];
    std::snprintf(buf, sizeof buf, " core%zu %.2f Mpps", q, double(p - last[q]) / interval / 1e6);
    line += buf;
    last[q] = p;
    active += workers[q]->published.active.load(std::memory_order_relaxed);
    records += workers[q]->published.records.load(std::memory_order_relaxed);
    dropped += source.counters(uint32_t(q)).dropped;
  }
  std::fprintf(stderr, "%s | %llu dropped | %llu flows active | %llu records\n", line.c_str(),
               (unsigned long long)dropped, (unsigned long long)active,
               (unsigned long long)records);
}

}  // namespace

NdjsonOutput::NdjsonOutput(const ChainSet& chains, uint32_t queues, RecordOutput out) {
  std::vector<ChunkFlowSink*> sinks;
  for (uint32_t q = 0; q < queues; ++q) {
    sinks_.push_back(std::make_unique<ChunkFlowSink>(chains));
    sinks.push_back(sinks_.back().get());
  }
  writer_ = std::make_unique<ChunkWriter>(std::move(out), std::move(sinks));
}

PipelineResult run_pipeline(PacketSource& source, const ChainSet& chains,
                            const ObserverOptions& opts, const PipelineOptions& pipeline,
                            PipelineOutput& out, const std::atomic<bool>& stop) {
  uint32_t queues = source.queues();
  std::vector<std::unique_ptr<Worker>> workers;
  for (uint32_t q = 0; q < queues; ++q) workers.push_back(std::make_unique<Worker>(out.sink(q)));

  std::atomic<int64_t> clock{0};
  std::atomic<bool> done{false};
  std::atomic<uint32_t> running{queues};
  std::vector<std::thread> threads;
  auto start = Clock::now();
  for (uint32_t q = 0; q < queues; ++q) {
    threads.emplace_back([&, q] {
      if (q < pipeline.cores.size()) pin_to(pipeline.cores[q]);
      // Built here, once pinned: the flow table's pages are first touched on this core.
      workers[q]->observer = std::make_unique<Observer>(chains, opts, workers[q]->sink);
      poll_queue(source, q, *workers[q], clock, done);
      running.fetch_sub(1);
    });
  }

  std::vector<uint64_t> last(queues, 0);
  auto next_stats = start + std::chrono::seconds(1), next_check = next_stats;
  std::string problem;  // said once when it starts, and when it is over
  while (running.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto now = Clock::now();
    if (pipeline.report_problems && now >= next_check) {
      next_check = now + std::chrono::seconds(1);
      std::string p = source.problem();
      if (p != problem)
        std::fprintf(stderr, "pspdr-observe: %s\n",
                     p.empty() ? (source.describe() + " receives again").c_str()
                               : (p + "; nothing arrives until then").c_str());
      problem = std::move(p);
    }
    bool timed_out = pipeline.duration > 0 &&
                     std::chrono::duration<double>(now - start).count() >= pipeline.duration;
    // Records that cannot be written make capturing pointless: stop, and say why.
    if (stop.load() || timed_out || out.error()) done.store(true);
    if (pipeline.stats_each_second && now >= next_stats) {
      print_live_stats(source, workers, last, 1.0);
      next_stats += std::chrono::seconds(1);
    }
    if (pipeline.progress) pipeline.progress(packets_published(workers));
  }
  for (auto& t : threads) t.join();

  PipelineResult r;
  r.memory_kib = anonymous_memory_kib();
  r.output_ok = out.join();
  r.output_error = out.error();
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (uint32_t q = 0; q < queues; ++q) {
    r.stats += workers[q]->observer->stats();
    r.records += workers[q]->sink.records();
    r.queues.push_back(source.counters(q));
  }
  return r;
}

}  // namespace pspdr
