// Anonymous resident memory of this process (flow tables, buffers): what grows with the
// flows held. Mapped trace files live in the page cache and are not counted.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <new>

namespace pspdr {

// Defined in builds with AddressSanitizer: it checks bounds only on memory from its own
// allocator (so HugePageAllocator maps nothing there), and its quarantine of freed blocks
// makes anonymous memory figures meaningless (so the flood test's bound is not checked).
#if defined(__SANITIZE_ADDRESS__)
#define PSPDR_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PSPDR_ASAN 1
#endif
#endif

// An allocator for large tables probed at random (the flow table): blocks of 2 MiB and
// more are mapped 2 MiB-aligned and offered to the kernel for transparent huge pages,
// so a lookup costs a TLB miss per 2 MiB instead of per 4 KiB -- most of a lookup's time
// once the table outgrows the TLB's reach. Smaller blocks come from the heap, and so
// does everything under AddressSanitizer, which then checks every access.
template <class T>
struct HugePageAllocator {
  using value_type = T;
  static constexpr size_t kHuge = size_t(2) << 20;
#ifdef PSPDR_ASAN
  static constexpr bool kMapped = false;
#else
  static constexpr bool kMapped = true;  // blocks of kHuge and more are mapped
#endif

  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) {}

  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (!kMapped || bytes < kHuge) return std::allocator<T>().allocate(n);
    // Mapped 2 MiB too large, then trimmed to an aligned start and whole 2 MiB pages.
    const size_t length = (bytes + kHuge - 1) / kHuge * kHuge;
    void* p =
        mmap(nullptr, length + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    auto* base = static_cast<char*>(p);
    char* aligned = base + (kHuge - reinterpret_cast<uintptr_t>(base) % kHuge) % kHuge;
    if (aligned > base) munmap(base, size_t(aligned - base));
    if (size_t tail = size_t(base + length + kHuge - (aligned + length)))
      munmap(aligned + length, tail);
    madvise(aligned, length, MADV_HUGEPAGE);  // a hint: where refused, 4 KiB pages serve
    return reinterpret_cast<T*>(aligned);
  }
  void deallocate(T* p, size_t n) {
    const size_t bytes = n * sizeof(T);
    if (!kMapped || bytes < kHuge) return std::allocator<T>().deallocate(p, n);
    munmap(p, (bytes + kHuge - 1) / kHuge * kHuge);
  }
  template <class U>
  bool operator==(const HugePageAllocator<U>&) const {
    return true;
  }
};

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
