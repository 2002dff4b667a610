// The wall clock as float seconds, the unit of packet timestamps and flow records.
#pragma once

#include <ctime>

namespace pspdr {

inline double realtime_seconds() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

}  // namespace pspdr
