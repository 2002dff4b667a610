// Runs the observer in-process over a trace file and returns its ndjson, for tests that
// compare records without spawning the command.
#pragma once

#include <atomic>
#include <cstdio>
#include <string>
#include <vector>

#include "chains/chain_set.hpp"
#include "observer/observer.hpp"
#include "observer/pipeline.hpp"
#include "observer/record_writer.hpp"
#include "observer/trace_file.hpp"
#include "observer/trace_source.hpp"

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

// Observes a trace the way `pspdr observe --workers N` does (run_pipeline) and returns
// its ndjson: the conformance tests check the code path users run.
inline std::string observe_trace(const std::string& path,
                                 const std::vector<std::string>& chain_names,
                                 unsigned workers = 1) {
  ChainSet chains = ChainSet::from_names(chain_names);
  TraceFile trace(path);
  TraceSource source(trace, workers);
  FILE* out = std::tmpfile();
  NdjsonOutput records(chains, workers, file_output(out));
  std::atomic<bool> stop{false};
  run_pipeline(source, chains, ObserverOptions{}, PipelineOptions{.report_problems = false},
               records, stop);
  std::string text(size_t(std::ftell(out)), '\0');
  std::rewind(out);
  text.resize(std::fread(text.data(), 1, text.size(), out));
  std::fclose(out);
  return text;
}

}  // namespace pspdr::testing
