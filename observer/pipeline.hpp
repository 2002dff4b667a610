// The one pipeline, for traces and live capture alike: one worker per receive queue of a
// PacketSource, each pinned to its core with its own Observer (flow table, timers,
// chains) built there, so its memory is first touched on that core's node; records go
// to one taker thread (ChunkWriter for ndjson). Workers share only the packet clock, so
// timeouts follow one clock as in PATHspider: a trace stamps it on each frame
// (Frame::clock), live workers share the newest second any of them has seen.
#pragma once

#include <atomic>
#include <cstdio>
#include <functional>
#include <memory>
#include <vector>

#include "chains/chain_set.hpp"
#include "observer/observer.hpp"
#include "observer/packet_source.hpp"
#include "observer/record_writer.hpp"

namespace pspdr {

struct PipelineOptions {
  std::vector<int> cores;          // CPU per worker, in queue order; empty: not pinned
  double duration = 0;             // seconds to run; 0: until stopped or the source ends
  bool stats_each_second = false;  // a stats line on stderr every second
  bool report_problems = true;     // say on stderr when the source stops receiving, and resumes
  // Called about every 20 ms with the packets observed so far (from the calling thread).
  std::function<void(uint64_t packets)> progress;
};

struct PipelineResult {
  ObserverStats stats;
  uint64_t records = 0;
  bool output_ok = true;
  int output_error = 0;  // errno of the failed write that stopped the run
  long memory_kib = -1;  // anonymous memory at the end, before the flow tables are freed
  std::vector<QueueCounters> queues;
  double seconds = 0;
};

// Where a run's records go: one sink per worker queue, taken by a thread of the
// output's own (the ndjson writer; the spider of pspdr measure).
class PipelineOutput {
 public:
  virtual ~PipelineOutput() = default;
  virtual BatchingSink& sink(uint32_t queue) = 0;
  // The errno of a failed write (0: none): records that cannot be written make capturing
  // pointless, so the run stops.
  virtual int error() const { return 0; }
  // After the workers finished: waits until their last records are taken; false if
  // writing failed.
  virtual bool join() { return error() == 0; }
};

// ndjson records through one writer thread (ChunkWriter), as pspdr observe writes them.
class NdjsonOutput final : public PipelineOutput {
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
// then flushes every flow. Live packets carry wall-clock stamps, so there the packet
// clock also follows the wall clock while the link is quiet: flows time out without
// traffic.
PipelineResult run_pipeline(PacketSource& source, const ChainSet& chains,
                            const ObserverOptions& opts, const PipelineOptions& pipeline,
                            PipelineOutput& out, const std::atomic<bool>& stop);

}  // namespace pspdr
