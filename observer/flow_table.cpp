#include "observer/flow_table.hpp"

#include <algorithm>
#include <bit>
#include <new>

namespace pspdr {

FlowTable::FlowTable(uint32_t initial_capacity) {
  size_t n = std::bit_ceil(std::max<size_t>(initial_capacity * 2, 64));
  slots_.assign(n, Slot{});
  mask_ = n - 1;
}

FlowTable::Match FlowTable::find(const FlowKey& k, uint64_t hash) const {
  uint32_t tag = uint32_t(hash >> 32);
  for (uint64_t i = hash & mask_;; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (s.id1 == 0) return {};
    if (s.tag != tag) continue;
    const FlowKey& fk = (*this)[s.id1 - 1].key;
    // PATHspider: rev = (fid == reverse id), true for a key that is its own reverse.
    if (fk == k) return {s.id1 - 1, k.is_own_reverse()};
    if (fk.is_reverse_of(k)) return {s.id1 - 1, true};
  }
}

void FlowTable::place(uint32_t id, uint64_t hash) {
  uint64_t i = hash & mask_;
  while (slots_[i].id1 != 0) i = (i + 1) & mask_;
  slots_[i] = Slot{uint32_t(hash >> 32), id + 1};
}

uint32_t FlowTable::insert(const FlowKey& k, uint64_t hash) {
  if ((live_ + 1) * 2 > slots_.size()) grow();
  uint32_t id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else {
    id = ids_++;
    if (id >> kChunkBits == chunks_.size()) {  // raw memory: flows are built as ids go out
      chunks_.emplace_back(HugePageAllocator<Chunk>().allocate(1));
      books_.push_back(std::make_unique<Book>());
    }
  }
  new (&(*this)[id]) Flow{};
  hash_of(id) = hash;
  book_of(id).in_use[id & kChunkMask] = 1;
  (*this)[id].key = k;
  place(id, hash);
  ++live_;
  return id;
}

void FlowTable::erase(uint32_t id) {
  uint64_t i = hash_of(id) & mask_;
  while (slots_[i].id1 != id + 1) i = (i + 1) & mask_;
  // Backward-shift deletion keeps every probe sequence unbroken without tombstones.
  for (uint64_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
    if (slots_[j].id1 == 0) break;
    uint64_t home = hash_of(slots_[j].id1 - 1) & mask_;
    bool movable = ((j - home) & mask_) >= ((j - i) & mask_);
    if (movable) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = Slot{};
  book_of(id).in_use[id & kChunkMask] = 0;
  free_.push_back(id);
  --live_;
}

void FlowTable::clear() {
  std::fill(slots_.begin(), slots_.end(), Slot{});
  free_.clear();
  ids_ = 0;
  live_ = 0;
}

void FlowTable::grow() {
  slots_.assign(slots_.size() * 2, Slot{});
  mask_ = slots_.size() - 1;
  for_each([&](uint32_t id) { place(id, hash_of(id)); });
}

}  // namespace pspdr
