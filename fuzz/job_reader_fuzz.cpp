// libFuzzer: a job list, read as ndjson and as CSV (PATHspider's input formats). Every
// line must yield a job, accepted or rejected with its reason.
#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "measure/job_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (pspdr::JobFormat format : {pspdr::JobFormat::ndjson, pspdr::JobFormat::csv}) {
    FILE* in = fmemopen(const_cast<uint8_t*>(data), size, "r");
    if (!in) return 0;  // fmemopen refuses empty buffers on some libcs
    pspdr::JobReader reader(in, format);
    pspdr::Job job;
    uint64_t lines = 0;
    while (reader.next(job)) ++lines;
    if (lines != reader.accepted() + reader.rejected()) __builtin_trap();
    std::fclose(in);
  }
  return 0;
}
