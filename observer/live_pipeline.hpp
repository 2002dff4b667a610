// The live pipeline: one worker per receive queue of a PacketSource, each pinned to its
// core with its own Observer (flow table, timers, chains); records go through
// ChunkWriter to one writer thread. Workers share only the packet clock -- the newest
// second any of them has seen -- so timeouts follow one clock as in PATHspider.
#pragma once

#include <atomic>
#include <cstdio>
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

// Runs until `stop` becomes true, the duration ends or a finite source is exhausted,
// then flushes every flow. Live packets carry wall-clock stamps, so the packet clock
// also follows the wall clock while the link is quiet: flows time out without traffic.
LiveResult run_live(PacketSource& source, const ChainSet& chains, const ObserverOptions& opts,
                    const LiveOptions& live, const RecordOutput& out,
                    const std::atomic<bool>& stop);

}  // namespace pspdr
