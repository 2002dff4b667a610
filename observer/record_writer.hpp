// Writes flow records as ndjson: pkt_first, the selected chains' fields in chain order,
// pkt_last -- PATHspider's fields without its internal ones.
#pragma once

#include <atomic>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "chains/chain_set.hpp"
#include "observer/observer.hpp"
#include "shared/json_writer.hpp"
#include "shared/spsc_ring.hpp"

namespace pspdr {

// Formats one flow record (no trailing newline) into `w`.
void write_flow_record(JsonWriter& w, const ChainSet& chains, const Flow& flow);

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

// For worker cores: formats records and hands them to the writer thread in chunks of
// many records through a lock-free ring -- one allocation per chunk, none per packet.
class ChunkFlowSink final : public FlowSink {
 public:
  explicit ChunkFlowSink(const ChainSet& chains) : chains_(chains), ring_(64) {}
  void emit(const Flow& flow) override;
  // Hands over what is buffered now (e.g. once a second, so live output is not held).
  void hand_over();
  // The worker is done: hands over the rest and tells the writer.
  void finish();
  uint64_t records() const { return records_; }
  SpscRing<std::string*>& ring() { return ring_; }
  // The writer's wakeup (shared/wakeup.hpp), signalled after every chunk handed over.
  void wake_on_hand_over(int wakeup) { writer_wakeup_ = wakeup; }

 private:
  void push(std::string* chunk);
  const ChainSet& chains_;
  SpscRing<std::string*> ring_;  // nullptr marks the end
  JsonWriter w_;
  uint64_t records_ = 0;
  int writer_wakeup_ = -1;
};

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
