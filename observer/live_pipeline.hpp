// The live pipeline: one worker per receive queue of a PacketSource, each pinned to its
// core with its own Observer (flow table, timers, chains); records go through
// ChunkWriter to one writer thread. Workers share only the packet clock -- the newest
// second any of them has seen -- so timeouts follow one clock as in PATHspider.
#pragma once

#include <atomic>
#include <cstdio>
#include <memory>
#include <vector>

#include "chains/chain_set.hpp"
#include "observer/observer.hpp"
#include "observer/packet_source.hpp"
#include "observer/record_writer.hpp"

namespace pspdr {

struct LiveOptions {
  std::vector<int> cores;          // CPU per worker, in queue order; empty: not pinned
  double duration = 0;             // seconds to run; 0: until stopped or the source ends
  bool stats_each_second = false;  // a stats line on stderr every second
  bool report_problems = true;     // say on stderr when the source stops receiving, and resumes
};

struct LiveResult {
  ObserverStats stats;
  uint64_t records = 0;
  bool output_ok = true;
  int output_error = 0;  // errno of the failed write that stopped the run
  long memory_kib = -1;  // anonymous memory at the end, before the flow tables are freed
  std::vector<QueueCounters> queues;
  double seconds = 0;
};

// Where a live run's records go: one sink per worker queue, taken by a thread of the
// output's own (the ndjson writer; the spider of pspdr measure).
class LiveOutput {
 public:
  virtual ~LiveOutput() = default;
  virtual BatchingSink& sink(uint32_t queue) = 0;
  // The errno of a failed write (0: none): records that cannot be written make capturing
  // pointless, so the run stops.
  virtual int error() const { return 0; }
  // After the workers finished: waits until their last records are taken; false if
  // writing failed.
  virtual bool join() { return error() == 0; }
};

// ndjson records through one writer thread (ChunkWriter), as pspdr observe writes them.
class NdjsonOutput final : public LiveOutput {
 public:
  NdjsonOutput(const ChainSet& chains, uint32_t queues, RecordOutput out);
  BatchingSink& sink(uint32_t queue) override { return *sinks_[queue]; }
  int error() const override { return writer_->error(); }
  bool join() override { return writer_->join(); }

 private:
  std::vector<std::unique_ptr<ChunkFlowSink>> sinks_;
  std::unique_ptr<ChunkWriter> writer_;
};

// Runs until `stop` becomes true, the duration ends or a finite source is exhausted,
// then flushes every flow. Live packets carry wall-clock stamps, so the packet clock
// also follows the wall clock while the link is quiet: flows time out without traffic.
LiveResult run_live(PacketSource& source, const ChainSet& chains, const ObserverOptions& opts,
                    const LiveOptions& live, LiveOutput& out, const std::atomic<bool>& stop);

}  // namespace pspdr
