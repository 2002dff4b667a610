// What every command reading a trace file does around the reading: open it with a
// one-line error, show progress on a terminal, report unsupported links and damage.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "observer/trace_file.hpp"

namespace pspdr::trace_input {

// The trace at `path`; nullptr, after a one-line error naming `program`, if unusable.
std::unique_ptr<TraceFile> open(const char* program, const std::string& path);

// After reading: link types the dissector skipped, and where a damaged trace stopped
// (everything before the damage was `done`: "observed", "dissected", ...).
void report_problems(const char* program, const TraceFile& trace, const char* done);

// "PROGRAM: N packets, P% of TRACE, R M packets/s" on standard error, at most once a
// second and only when `enabled` (callers pass: standard error is a terminal). Cheap
// enough to call per packet: the clock read is the coarse one.
class Progress {
 public:
  Progress(const char* program, const TraceFile& trace, bool enabled);
  // `offset`: how far into the file the reader is (TraceFile::offset, or the reading
  // thread's TraceSource::offset while it runs).
  void update(uint64_t packets, uint64_t offset) {
    if (enabled_ && seconds() >= next_) print(packets, offset, false);
  }
  void finish(uint64_t packets) {
    if (enabled_) print(packets, trace_.offset(), true);
  }

 private:
  static int64_t seconds();  // CLOCK_MONOTONIC_COARSE, whole seconds
  void print(uint64_t packets, uint64_t offset, bool last);

  const char* program_;
  const TraceFile& trace_;
  bool enabled_;
  std::chrono::steady_clock::time_point start_;
  int64_t next_;
};

}  // namespace pspdr::trace_input
