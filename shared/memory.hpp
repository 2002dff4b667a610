// Anonymous resident memory of this process (flow tables, buffers): what grows with the
// flows held. Mapped trace files live in the page cache and are not counted.
#pragma once

#include <cstdio>

namespace pspdr {

// Defined in builds with AddressSanitizer, whose quarantine of freed blocks makes
// anonymous memory figures meaningless.
#if defined(__SANITIZE_ADDRESS__)
#define PSPDR_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PSPDR_ASAN 1
#endif
#endif

// RssAnon from /proc/self/status, in KiB; -1 where the kernel does not report it.
inline long anonymous_memory_kib() {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long kib = -1;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "RssAnon: %ld kB", &kib) == 1) break;
  std::fclose(f);
  return kib;
}

}  // namespace pspdr
