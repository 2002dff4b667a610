#include "shared/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace pspdr {
namespace {

constexpr auto kWindow = std::chrono::milliseconds(1001);
constexpr size_t kMaxWindowRing = 1 << 20;  // above ~1M/s the bucket alone paces

}  // namespace

RateLimiter::RateLimiter(double rate, size_t burst) : rate_(rate), capacity_(rate * 0.05 + burst) {
  if (rate_ > 0 && rate_ <= kMaxWindowRing) sent_.assign(size_t(rate_), Clock::time_point{});
}

double RateLimiter::tokens_at(Clock::time_point now) const {
  if (last_refill_ == Clock::time_point{}) return tokens_;  // the bucket starts empty
  double elapsed = std::max(0.0, std::chrono::duration<double>(now - last_refill_).count());
  return std::min(capacity_, tokens_ + rate_ * elapsed);
}

RateLimiter::Clock::time_point RateLimiter::window_free(size_t packets) const {
  if (sent_.empty()) return {};
  size_t n = std::min(packets, sent_.size());
  // The oldest of the `n` sends the ring must forget for `packets` new ones.
  return sent_[(next_ + n - 1) % sent_.size()] + kWindow;
}

bool RateLimiter::take(size_t packets, Clock::time_point now) {
  if (rate_ <= 0) return true;
  tokens_ = tokens_at(now);
  last_refill_ = now;
  if (tokens_ < double(packets) || window_free(packets) > now) return false;
  tokens_ -= double(packets);
  for (size_t i = 0; i < packets && !sent_.empty(); ++i) {
    sent_[next_] = now;
    next_ = (next_ + 1) % sent_.size();
  }
  return true;
}

int RateLimiter::wait_ms(size_t packets, Clock::time_point now) const {
  if (rate_ <= 0) return 0;
  double missing = double(packets) - tokens_at(now);
  auto ready = std::max(window_free(packets), now);
  double ms = std::max(missing > 0 ? missing / rate_ * 1000 : 0,
                       std::chrono::duration<double, std::milli>(ready - now).count());
  return int(std::ceil(ms));
}

}  // namespace pspdr
