// Writes flow records as ndjson: pkt_first, the selected chains' fields in chain order,
// pkt_last -- PATHspider's fields without its internal ones.
#pragma once

#include <atomic>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "chains/chain_set.hpp"
#include "observer/observer.hpp"
#include "shared/json_writer.hpp"
#include "shared/spsc_ring.hpp"
#include "shared/wakeup.hpp"

namespace pspdr {

// Formats one flow record (no trailing newline) into `w`.
void write_flow_record(JsonWriter& w, const ChainSet& chains, const Flow& flow);
// Its fields only, into an object the caller opened (the spider adds its own).
void write_flow_fields(JsonWriter& w, const ChainSet& chains, const Flow& flow);

class NdjsonFlowWriter final : public FlowSink {
 public:
  NdjsonFlowWriter(const ChainSet& chains, FILE* out) : chains_(chains), out_(out) {}
  ~NdjsonFlowWriter() override { flush(); }

  void emit(const Flow& flow) override;
  // Writes buffered records; false (with errno set) if the output failed.
  bool flush();
  uint64_t records() const { return records_; }

 private:
  const ChainSet& chains_;
  FILE* out_;
  JsonWriter w_;
  uint64_t records_ = 0;
};

// A worker core's sink whose records another thread takes, a batch at a time.
class BatchingSink : public FlowSink {
 public:
  // Hands over what is buffered now (e.g. once a second, so live output is not held).
  virtual void hand_over() = 0;
  // The worker is done: hands over the rest and marks the end.
  virtual void finish() = 0;
  uint64_t records() const { return records_; }

 protected:
  uint64_t records_ = 0;
};

// Batches handed over through a lock-free ring -- no allocation per record -- the taker
// woken after each, and given back through a second ring once taken, so the worker fills
// them again in memory that is allocated and warm. `Batch` says what a batch is:
// add(flow), full(), empty(), take(spare) (an Item holding what was added, the batch
// emptied; `spare`, when not nullptr, is a given-back Item to reuse).
template <class Batch>
class HandOverSink final : public BatchingSink {
 public:
  using Item = typename Batch::Item;
  explicit HandOverSink(const ChainSet& chains) : batch_(chains), ring_(64), returned_(64) {}
  ~HandOverSink() override {
    for (Item* item; returned_.pop(std::span<Item*>(&item, 1)) == 1;) delete item;
  }
  void emit(const Flow& flow) override {
    batch_.add(flow);
    ++records_;
    if (batch_.full()) hand_over();
  }
  void hand_over() override {
    if (batch_.empty()) return;
    Item* spare = nullptr;
    returned_.pop(std::span<Item*>(&spare, 1));
    push(batch_.take(spare));
  }
  void finish() override {
    hand_over();
    push(nullptr);
  }
  // The taker's side: each item handed over, then nullptr once the worker finished.
  SpscRing<Item*>& ring() { return ring_; }
  // The taker's side, once done with an item taken from ring().
  void give_back(Item* item) {
    if (returned_.push(std::span<Item* const>(&item, 1)) == 0) delete item;
  }
  // The taker's wakeup (shared/wakeup.hpp), signalled after every batch handed over.
  void wake_on_hand_over(int wakeup) { wakeup_ = wakeup; }

 private:
  void push(Item* item) {
    while (!ring_.push(item)) std::this_thread::yield();
    if (wakeup_ >= 0) wake(wakeup_);
  }
  Batch batch_;
  SpscRing<Item*> ring_, returned_;
  int wakeup_ = -1;
};

// Records formatted as ndjson on the worker, in chunks of many records.
class NdjsonBatch {
 public:
  using Item = std::string;
  explicit NdjsonBatch(const ChainSet& chains) : chains_(chains) {}
  void add(const Flow& flow);
  bool full() const;
  bool empty() const { return w_.size() == 0; }
  std::string* take(std::string* spare);

 private:
  const ChainSet& chains_;
  JsonWriter w_;
};
using ChunkFlowSink = HandOverSink<NdjsonBatch>;

// Records as typed flows, for a taker in the same process (the spider's merger).
class FlowBatch {
 public:
  using Item = std::vector<Flow>;
  explicit FlowBatch(const ChainSet&) {}
  void add(const Flow& flow) { flows_.push_back(flow); }
  bool full() const { return flows_.size() >= 256; }
  bool empty() const { return flows_.empty(); }
  std::vector<Flow>* take(std::vector<Flow>* spare) {
    auto* batch = spare ? spare : new std::vector<Flow>;
    batch->clear();
    batch->swap(flows_);
    return batch;
  }

 private:
  std::vector<Flow> flows_;
};
using FlowBatchSink = HandOverSink<FlowBatch>;

// Where records go: complete ndjson lines, a chunk at a time; an empty chunk marks the
// end. Returns false, with errno set, if the output failed.
using RecordOutput = std::function<bool(std::string_view chunk)>;
// Writes chunks to `out`, flushing it at the end.
RecordOutput file_output(FILE* out);

// The one writer: a thread draining every worker's ring into `out` until all finished.
class ChunkWriter {
 public:
  ChunkWriter(RecordOutput out, std::vector<ChunkFlowSink*> sinks);
  ~ChunkWriter();
  // Waits for the workers' last chunks; false if writing failed.
  bool join();
  // The errno of the first failed write (0: none so far); read while the writer runs.
  int error() const { return error_.load(std::memory_order_relaxed); }

 private:
  void run();
  void write(std::string_view chunk);
  RecordOutput out_;
  std::vector<ChunkFlowSink*> sinks_;
  std::atomic<int> error_{0};  // after a failure nothing more is written
  int wakeup_;                 // the sinks signal it: the writer sleeps until a chunk comes
  std::thread thread_;
};

}  // namespace pspdr
