// The per-core pipeline for a single stream of packets (a trace file): a dispatcher
// spreads packets over worker cores by the symmetric flow hash, so both directions of a
// flow meet on one core, through lock-free SPSC rings; each worker owns an Observer
// (flow table, timers, chains) and formats its records; one writer thread writes them.
//
// PATHspider has one packet clock. Each worker therefore receives, in order with its
// packets, every advance of the global clock, so timeouts fire exactly as with one core.
#pragma once

#include <cstdio>
#include <functional>
#include <vector>

#include "chains/chain_set.hpp"
#include "observer/observer.hpp"
#include "observer/trace_file.hpp"

namespace pspdr {

struct PipelineOptions {
  unsigned workers = 1;    // 1: everything on the calling thread, no rings
  std::vector<int> cores;  // CPUs to pin workers to, in order; empty: not pinned
};

struct PipelineResult {
  ObserverStats stats;
  uint64_t records = 0;
  bool output_ok = true;
  long memory_kib = -1;  // anonymous memory at the end, before the flow tables are freed
};

// Called every 65536 packets read (from the reading thread).
using ProgressFn = std::function<void(uint64_t packets, uint64_t offset)>;

PipelineResult run_pipeline(TraceFile& trace, const ChainSet& chains, const ObserverOptions& opts,
                            const PipelineOptions& pipeline, FILE* out,
                            const ProgressFn& progress = {});

}  // namespace pspdr
