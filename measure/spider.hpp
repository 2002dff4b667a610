// The spider of `pspdr measure`: reads jobs, has the generators make each job's
// connections under the plugin's configurations (in the plugin's spider model), pairs
// every connection with the flow the observer recorded of it (the merger), and writes
// one result line per job with the plugin's conditions. docs/internals.md walks a job
// through it.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "locate/tracer.hpp"
#include "measure/generator_pool.hpp"
#include "measure/job_reader.hpp"
#include "measure/plugin.hpp"
#include "measure/vantage_point.hpp"
#include "observer/packet_source.hpp"

namespace pspdr {

struct SpiderSettings {
  const Plugin* plugin = nullptr;
  PluginOptions plugin_options;
  std::string interface;  // the observer captures here (AF_PACKET)
  VantagePoint vantage;   // connections leave from its sources; "sip" and "path"
  size_t workers = 100;   // jobs measured at once
  double timeout = 5;     // seconds per connection
  size_t generators = 2;  // generator processes
  double rate = 1000;     // packets forged (tcpsyn) or connections started per
                          // second, at most (0: no limit)
  unsigned probes = 1;    // tcpsyn: copies of each SYN (ZMap's --probes)
  // Seconds for the last packets after the last connection or probe; below 0, the
  // mode's: 2 for tcpsyn (answers to forged SYNs may come late), 0.5 otherwise (each
  // connection has had its timeout: only the packets after its close are on their way).
  double cooldown = -1;
  bool output_flows = false;         // add flow_results and missed_flows to the result
  bool progress = false;             // a progress line on stderr every second
  uint64_t total_jobs = 0;           // for the progress line's ETA (0: unknown)
  std::vector<std::string> opt_out;  // addresses or prefixes never contacted ("a/len")
  // --locate: jobs whose conditions show an impairment or a change are traced hop by hop
  // (locate/) before their line is written.
  bool locate = false;
  TracerOptions trace;
  FinishedJobs* finished = nullptr;  // --resume: jobs an earlier run wrote, not measured again
};

struct SpiderResult {
  uint64_t jobs = 0;        // result lines written
  uint64_t rejected = 0;    // input lines that were not usable jobs
  uint64_t skipped = 0;     // opted-out targets
  uint64_t resumed = 0;     // jobs finished by an earlier run (--resume), not measured
  uint64_t failed = 0;      // connections that did not complete (timeout, failure)
  uint64_t unobserved = 0;  // connections whose flow the observer never recorded
  uint64_t generator_restarts = 0;
  uint64_t traced = 0;  // jobs --locate traced
  double seconds = 0;
  bool output_ok = true;
};

// What a spider runs on: the observer's packet source and the generators. A campaign's
// are AF_PACKET on settings.interface and generator processes; tests bring their own.
struct SpiderParts {
  std::unique_ptr<PacketSource> source;
  std::unique_ptr<Generators> generators;
};

// Runs until the input ends and every job is written, or `stop` is set or the output
// fails (a full disk): then no more jobs are read, and those in flight are finished.
// Throws std::runtime_error (one line) when the observer or the generators cannot start.
SpiderResult run_spider(const SpiderSettings& settings, JobReader& jobs, FILE* out,
                        const std::atomic<bool>& stop);
SpiderResult run_spider(const SpiderSettings& settings, SpiderParts parts, JobReader& jobs,
                        FILE* out, const std::atomic<bool>& stop);

}  // namespace pspdr
