// The wall clock as float seconds, the unit of packet timestamps and flow records.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>

namespace pspdr {

inline double realtime_seconds() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// `seconds` in UTC as Python prints a datetime, and so PATHspider its spdr_start and
// time: "2026-12-01 18:41:59.343194", without the fraction at a whole second.
inline std::string utc_text(double seconds) {
  int64_t us = int64_t(std::floor(seconds * 1e6));
  time_t whole = time_t(us / 1000000);
  tm t;
  gmtime_r(&whole, &t);
  char buf[48];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &t);
  if (int frac = int(us % 1000000)) std::snprintf(buf + n, sizeof buf - n, ".%06d", frac);
  return buf;
}

}  // namespace pspdr
