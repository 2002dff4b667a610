// `pspdr --verbose`: debug lines on standard error, as PATHspider logs at DEBUG.
#pragma once

#include <cstdarg>
#include <cstdio>

namespace pspdr::log {

inline bool verbose = false;

[[gnu::format(printf, 1, 2)]] inline void debug(const char* format, ...) {
  if (!verbose) return;
  std::va_list args;
  va_start(args, format);
  std::fputs("DEBUG:pspdr: ", stderr);
  std::vfprintf(stderr, format, args);
  std::fputc('\n', stderr);
  va_end(args);
}

}  // namespace pspdr::log
