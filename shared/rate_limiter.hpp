// --rate: at most `rate` packets (or connections) in any one second, and evenly: a token
// bucket holding 50 ms of the rate, filled only while something waits, paces them and
// makes up for a loop that woke late; the times of the last `rate` sends bound every
// one-second window exactly (with a millisecond to spare for the way to the wire),
// whatever the bucket let through.
#pragma once

#include <chrono>
#include <cstddef>
#include <vector>

namespace pspdr {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // `rate` per second (0: no limit); `burst`, what one take() may ask for at most.
  RateLimiter(double rate, size_t burst);

  // Whether `packets` may go at `now`; if so they are counted as sent.
  bool take(size_t packets, Clock::time_point now);
  // Nothing is waiting at `now`: the bucket does not fill meanwhile.
  void idle(Clock::time_point now) { last_refill_ = now; }
  // Milliseconds until `packets` may go (0: now).
  int wait_ms(size_t packets, Clock::time_point now) const;

 private:
  double tokens_at(Clock::time_point now) const;
  // When the window allows `packets` more: the send `packets` places back is a second old.
  Clock::time_point window_free(size_t packets) const;

  double rate_, capacity_;
  double tokens_ = 0;
  Clock::time_point last_refill_{};      // set by the first take() or idle()
  std::vector<Clock::time_point> sent_;  // ring of the last `rate` send times
  size_t next_ = 0;
};

}  // namespace pspdr
