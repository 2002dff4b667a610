#include "cli/trace_input.hpp"

#include <time.h>

#include <cstdio>

namespace pspdr::trace_input {

std::unique_ptr<TraceFile> open(const char* program, const std::string& path) {
  try {
    return std::make_unique<TraceFile>(path);
  } catch (const TraceOpenError& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return nullptr;
  }
}

void report_problems(const char* program, const TraceFile& trace, const char* done) {
  for (uint32_t link : trace.unsupported_links())
    std::fprintf(stderr, "%s: %s: link type %u is not supported; its frames count as non-IP\n",
                 program, trace.path().c_str(), link);
  if (!trace.damage().empty())
    std::fprintf(stderr, "%s: %s: damaged %s trace: %s; everything before it was %s\n", program,
                 trace.path().c_str(), trace.format(), trace.damage().c_str(), done);
}

Progress::Progress(const char* program, const TraceFile& trace, bool enabled)
    : program_(program),
      trace_(trace),
      enabled_(enabled),
      start_(std::chrono::steady_clock::now()),
      next_(seconds() + 1) {}

int64_t Progress::seconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return ts.tv_sec;
}

void Progress::print(uint64_t packets, uint64_t offset, bool last) {
  next_ = seconds() + 1;
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::fprintf(stderr, "\r%s: %llu packets, %.0f%% of %s, %.2f M packets/s   %s", program_,
               (unsigned long long)packets,
               trace_.size() ? 100.0 * double(offset) / double(trace_.size()) : 100.0,
               trace_.path().c_str(), secs > 0 ? double(packets) / secs / 1e6 : 0.0,
               last ? "\n" : "");
}

}  // namespace pspdr::trace_input
