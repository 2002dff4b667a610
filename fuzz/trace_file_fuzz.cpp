// libFuzzer: a pcap or pcapng file, read to its end (or its damage) and every frame
// dissected. The reader maps files, so the input becomes one in memory (memfd).
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "observer/trace_file.hpp"
#include "shared/packet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int fd = memfd_create("trace", 0);
  if (fd < 0 || write(fd, data, size) != ssize_t(size)) __builtin_trap();
  try {
    pspdr::TraceFile trace("/proc/self/fd/" + std::to_string(fd));
    pspdr::Frame frame;
    pspdr::Packet packet;
    while (trace.next(frame)) pspdr::dissect(frame, packet);
  } catch (const pspdr::TraceOpenError&) {
    // Not a trace at all: reported to the user, nothing to read.
  }
  close(fd);
  return 0;
}
