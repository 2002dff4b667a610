// A lock-free single-producer single-consumer ring. The producer and consumer indices
// live on their own cache lines and each side caches the other's index, so an
// uncontended push or pop touches no shared line (the DPDK rte_ring / Seastar pattern).
// With an inline capacity the slots live inside the object, which can then be placed in
// memory shared between processes (trivially copyable items only): the generators and
// the spider of `pspdr measure` talk through such rings.
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <type_traits>

namespace pspdr {

template <class T, size_t InlineCapacity = 0>
class SpscRing {
  static_assert(InlineCapacity == 0 || std::has_single_bit(InlineCapacity));
  static_assert(InlineCapacity == 0 || std::is_trivially_copyable_v<T>);
  static_assert(std::atomic<uint64_t>::is_always_lock_free);  // also across processes

 public:
  explicit SpscRing(size_t capacity) requires(InlineCapacity == 0)
      : mask_(std::bit_ceil(capacity) - 1), slots_(std::make_unique<T[]>(mask_ + 1)) {}
  SpscRing() requires(InlineCapacity > 0) : mask_(InlineCapacity - 1) {}

  // Producer side: copies as many of `items` as fit; returns how many.
  size_t push(std::span<const T> items) {
    uint64_t head = head_.load(std::memory_order_relaxed);
    if (head - tail_cache_ + items.size() > mask_ + 1)
      tail_cache_ = tail_.load(std::memory_order_acquire);
    size_t n = std::min<size_t>(items.size(), mask_ + 1 - (head - tail_cache_));
    for (size_t i = 0; i < n; ++i) slots_[(head + i) & mask_] = items[i];
    head_.store(head + n, std::memory_order_release);
    return n;
  }
  bool push(const T& item) { return push(std::span<const T>(&item, 1)) == 1; }

  // Consumer side: moves up to out.size() items into `out`; returns how many.
  size_t pop(std::span<T> out) {
    uint64_t tail = tail_.load(std::memory_order_relaxed);
    if (head_cache_ - tail < out.size()) head_cache_ = head_.load(std::memory_order_acquire);
    size_t n = std::min<size_t>(out.size(), head_cache_ - tail);
    for (size_t i = 0; i < n; ++i) out[i] = std::move(slots_[(tail + i) & mask_]);
    tail_.store(tail + n, std::memory_order_release);
    return n;
  }

  size_t capacity() const { return mask_ + 1; }
  // Items waiting (exact only when neither side is running).
  size_t size() const {
    return head_.load(std::memory_order_acquire) - tail_.load(std::memory_order_acquire);
  }

 private:
  const uint64_t mask_;
  std::conditional_t<InlineCapacity == 0, std::unique_ptr<T[]>, std::array<T, InlineCapacity>>
      slots_;
  alignas(64) std::atomic<uint64_t> head_{0};  // written by the producer
  uint64_t tail_cache_ = 0;                    // producer's view of tail_
  alignas(64) std::atomic<uint64_t> tail_{0};  // written by the consumer
  uint64_t head_cache_ = 0;                    // consumer's view of head_
};

}  // namespace pspdr
