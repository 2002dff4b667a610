// Flows of one observer core: records in a pool, found through an open-addressing hash
// table on the direction-independent key hash. No locks; the table belongs to one core.
#pragma once

#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

#include "chains/registry.hpp"
#include "shared/flow_key.hpp"
#include "shared/memory.hpp"

namespace pspdr {

constexpr uint32_t kNoFlow = UINT32_MAX;

struct Flow {
  enum class State : uint8_t { active, expiring };

  // What every packet reads or changes comes first (the find, the timers, the chains'
  // every-packet states): FlowTable::prefetch_flow fetches that much.
  FlowKey key;  // oriented as the flow's first packet: "forward"
  double pkt_last = 0;
  int64_t bin = 0;  // idle bin while active, expiry bin while expiring (seconds)
  uint32_t timer_prev = kNoFlow, timer_next = kNoFlow;
  State state = State::active;
  bool timed = false;  // on a timer wheel; false once PATHspider would never time it out
  FlowRecordState rec;
  double pkt_first = 0;
};

class FlowTable {
 public:
  explicit FlowTable(uint32_t initial_capacity = 1 << 16);

  struct Match {
    uint32_t id = kNoFlow;
    bool rev = false;
  };
  // Finds the flow of a packet with key `k` (either direction).
  Match find(const FlowKey& k, uint64_t hash) const;
  // Adds a flow for `k` (which must not be present) and returns its id.
  uint32_t insert(const FlowKey& k, uint64_t hash);
  void erase(uint32_t id);
  // Erases every flow (their memory stays, for the flows to come).
  void clear();
  // Cache hints for a coming find(): the hash's first slot, then the flow it holds.
  void prefetch_slot(uint64_t hash) const { __builtin_prefetch(&slots_[hash & mask_]); }
  void prefetch_flow(uint64_t hash) const {
    const Slot& s = slots_[hash & mask_];
    if (s.id1 == 0) return;
    const char* f = reinterpret_cast<const char*>(&(*this)[s.id1 - 1]);
    for (size_t at = 0; at < kPrefetchBytes; at += 64) __builtin_prefetch(f + at);
  }

  Flow& operator[](uint32_t id) { return chunks_[id >> kChunkBits]->flows[id & kChunkMask]; }
  const Flow& operator[](uint32_t id) const {
    return chunks_[id >> kChunkBits]->flows[id & kChunkMask];
  }
  size_t size() const { return live_; }
  // Calls fn(id) for every live flow.
  template <class Fn>
  void for_each(Fn&& fn) {
    for (uint32_t id = 0; id < ids_; ++id)
      if (books_[id >> kChunkBits]->in_use[id & kChunkMask]) fn(id);
  }

 private:
  // A flow up to its SYN-only chain states. The rest would only take line-fill buffers
  // and memory bandwidth from the next packets' flows.
  static inline const size_t kPrefetchBytes = [] {
    static const Flow f;
    return size_t(reinterpret_cast<const char*>(&f.rec.syn_only) -
                  reinterpret_cast<const char*>(&f));
  }();

  struct Slot {
    uint32_t tag = 0;  // upper hash bits, to skip most key compares
    uint32_t id1 = 0;  // flow id + 1; 0: empty
  };
  // Flows live in chunks that never move: the pool grows without copying what it holds
  // or touching twice the memory, and a chunk's pages are touched only as flows fill it.
  // A chunk holds flows only, so it fills its 2 MiB pages (32768 flows of 384 bytes: six
  // of them); what the table keeps per flow besides is in the chunk's book.
  static constexpr uint32_t kChunkBits = 15;
  static constexpr uint32_t kChunkMask = (1u << kChunkBits) - 1;
  struct Chunk {
    Flow flows[kChunkMask + 1];
  };
  struct Book {
    uint64_t hashes[kChunkMask + 1];  // per flow, for erase and rehash
    uint8_t in_use[kChunkMask + 1];
  };
  static_assert(std::is_trivially_destructible_v<Flow>);
  struct ChunkDeleter {
    void operator()(Chunk* c) const { HugePageAllocator<Chunk>().deallocate(c, 1); }
  };
  Book& book_of(uint32_t id) { return *books_[id >> kChunkBits]; }
  uint64_t& hash_of(uint32_t id) { return book_of(id).hashes[id & kChunkMask]; }
  void grow();
  void place(uint32_t id, uint64_t hash);

  template <class T>
  using Table = std::vector<T, HugePageAllocator<T>>;
  Table<Slot> slots_;
  std::vector<std::unique_ptr<Chunk, ChunkDeleter>> chunks_;
  std::vector<std::unique_ptr<Book>> books_;
  uint32_t ids_ = 0;  // ids handed out so far (live or free)
  std::vector<uint32_t> free_;
  uint64_t mask_ = 0;
  size_t live_ = 0;
};

}  // namespace pspdr
