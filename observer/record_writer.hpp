// Writes flow records as ndjson: pkt_first, the selected chains' fields in chain order,
// pkt_last -- PATHspider's fields without its internal ones.
#pragma once

#include <cstdio>

#include "chains/chain_set.hpp"
#include "observer/observer.hpp"
#include "shared/json_writer.hpp"

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

}  // namespace pspdr
