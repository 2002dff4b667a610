// Runs the observer in-process over a trace file and returns its ndjson, for tests that
// compare records without spawning the command.
#pragma once

#include <string>
#include <vector>

#include <cstdio>
#include "chains/chain_set.hpp"

#include "observer/observer.hpp"
#include "observer/pipeline.hpp"
#include "observer/record_writer.hpp"
#include "observer/trace_file.hpp"

namespace pspdr::testing {

class StringFlowSink final : public FlowSink {
 public:
  explicit StringFlowSink(const ChainSet& chains) : chains_(chains) {}
  void emit(const Flow& flow) override {
    write_flow_record(w_, chains_, flow);
    w_.end_line();
  }
  std::string text() const { return std::string(w_.text()); }

 private:
  const ChainSet& chains_;
  JsonWriter w_;
};

inline std::string observe_trace(const std::string& path,
                                 const std::vector<std::string>& chain_names,
                                 const ObserverOptions& opts = {}) {
  ChainSet chains = ChainSet::from_names(chain_names);
  StringFlowSink sink(chains);
  Observer observer(chains, opts, sink);
  TraceFile trace(path);
  Frame f;
  while (trace.next(f)) observer.on_frame(f);
  observer.flush();
  return sink.text();
}

// The same through the per-core pipeline with `workers` cores, via a temporary file.
inline std::string observe_trace_pipeline(const std::string& path,
                                          const std::vector<std::string>& chain_names,
                                          unsigned workers) {
  ChainSet chains = ChainSet::from_names(chain_names);
  TraceFile trace(path);
  FILE* out = std::tmpfile();
  run_pipeline(trace, chains, ObserverOptions{}, PipelineOptions{workers, {}}, out);
  std::string text(size_t(std::ftell(out)), '\0');
  std::rewind(out);
  text.resize(std::fread(text.data(), 1, text.size(), out));
  std::fclose(out);
  return text;
}

}  // namespace pspdr::testing
