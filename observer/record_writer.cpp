#include "observer/record_writer.hpp"

#include <unistd.h>

#include <cerrno>

#include "shared/wakeup.hpp"

namespace pspdr {

void write_flow_record(JsonWriter& w, const ChainSet& chains, const Flow& flow) {
  w.begin_object();
  write_flow_fields(w, chains, flow);
  w.end_object();
}

void write_flow_fields(JsonWriter& w, const ChainSet& chains, const Flow& flow) {
  w.field("pkt_first", flow.pkt_first);
  chains.write(w, flow.rec);
  w.field("pkt_last", flow.pkt_last);
}

void NdjsonFlowWriter::emit(const Flow& flow) {
  write_flow_record(w_, chains_, flow);
  w_.end_line();
  ++records_;
  if (w_.size() > (1 << 20)) flush();
}

bool NdjsonFlowWriter::flush() {
  std::string_view b = w_.text();
  bool ok = b.empty() || std::fwrite(b.data(), 1, b.size(), out_) == b.size();
  w_.clear();
  return ok && std::fflush(out_) == 0;
}

namespace {
constexpr size_t kChunkBytes = 256 << 10;
}

void NdjsonBatch::add(const Flow& flow) {
  write_flow_record(w_, chains_, flow);
  w_.end_line();
}

bool NdjsonBatch::full() const {
  return w_.size() >= kChunkBytes;
}

std::string* NdjsonBatch::take(std::string* spare) {
  auto* chunk = spare ? spare : new std::string;
  w_.swap_text(*chunk);
  return chunk;
}

RecordOutput file_output(FILE* out) {
  return [out](std::string_view chunk) {
    if (chunk.empty()) return std::fflush(out) == 0;
    return std::fwrite(chunk.data(), 1, chunk.size(), out) == chunk.size();
  };
}

ChunkWriter::ChunkWriter(RecordOutput out, std::vector<ChunkFlowSink*> sinks)
    : out_(out), sinks_(std::move(sinks)), wakeup_(make_wakeup(false)) {
  for (ChunkFlowSink* s : sinks_) s->wake_on_hand_over(wakeup_);
  thread_ = std::thread([this] { run(); });
}

ChunkWriter::~ChunkWriter() {
  join();
  close(wakeup_);
}

void ChunkWriter::run() {
  size_t finished = 0;
  while (finished < sinks_.size()) {
    bool idle = true;
    for (ChunkFlowSink* s : sinks_) {
      std::string* chunk;
      while (s->ring().pop(std::span<std::string*>(&chunk, 1)) == 1) {
        idle = false;
        if (!chunk) {
          ++finished;
          break;
        }
        if (!chunk->empty()) write(*chunk);
        s->give_back(chunk);
      }
    }
    // The wakeup is cleared before the rings are looked at again, so a chunk pushed
    // meanwhile is never slept through.
    if (idle) sleep_until_woken(wakeup_, 100);
  }
  write({});
}

void ChunkWriter::write(std::string_view chunk) {
  if (error() == 0 && !out_(chunk)) error_.store(errno ? errno : EIO, std::memory_order_relaxed);
}

bool ChunkWriter::join() {
  if (thread_.joinable()) thread_.join();
  return error() == 0;
}

}  // namespace pspdr
