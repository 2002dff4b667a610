// The job reader: PATHspider's input, one target per line -- ndjson objects, or its CSV
// layouts -- read as a stream with the line number of each, and the start of the result
// line a job becomes. The only JSON parsing in `pspdr measure` happens here.
#pragma once

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "shared/json_writer.hpp"

namespace pspdr {

struct Job {
  uint64_t line = 0;  // 1-based line number in the input
  // The job's members as read: key, and value as minified JSON (CSV rows become string
  // members). Empty with `object` false when the line was no JSON object.
  std::vector<std::pair<std::string, std::string>> members;
  bool object = false;
  std::string raw;        // the input line as read, for error reports
  std::string dip;        // "" if absent
  uint8_t family = 0;     // 4 or 6 once dip parsed
  uint8_t addr[16] = {};  // dip, network byte order
  int dp = -1;            // -1 if absent
  std::string domain;     // "" if absent
  std::string dip_asn;    // the target's AS: "dip_asn", or Hellfire's "info": {"ASN"}; "" if absent
  std::string error;      // non-empty: the line is not a usable job, and why
};

enum class JobFormat { ndjson, csv };

// Which of the input's jobs a run measures, and in which order, as ZMap shards a scan:
// shard I of N takes the jobs a keyed hash of their line number (key: the seed) puts
// there, so that N machines with the same seed and list measure it together, each job
// once; they come in the order of a second keyed hash, a permutation that spreads a
// sorted list's probes over the whole address space instead of one prefix at a time.
// Neither shards nor a seed: every job, in input order, as a stream.
struct JobOrder {
  uint32_t shards = 1, shard = 0;
  bool seeded = false;
  uint64_t seed = 0;

  bool permuted() const { return shards > 1 || seeded; }
  bool takes(uint64_t line) const;     // whether line `line`'s job is this shard's
  uint64_t rank(uint64_t line) const;  // its place in the permutation (lower: sooner)
};

class JobReader {
 public:
  // require_dip: a job without "dip" is rejected (every plugin but dnsresolv needs one).
  JobReader(FILE* in, JobFormat format, bool require_dip = true, JobOrder order = {})
      : in_(in), format_(format), require_dip_(require_dip), order_(order) {}

  // The next line's job, possibly rejected (job.error); false at the end of the input.
  // Blank lines are skipped and counted. Duplicate targets (a dip seen before) are
  // rejected naming the line of the first, so each still yields one output line. A
  // permuted order reads the whole input first (duplicates are still found in input
  // order, across shards) and keeps only this shard's jobs.
  bool next(Job& job);

  uint64_t accepted() const { return accepted_; }
  uint64_t rejected() const { return rejected_; }
  uint64_t blank() const { return blank_; }

 private:
  bool read(Job& job);  // the next line's job, in input order
  void parse_ndjson(Job& job);
  void parse_csv(Job& job);
  void check_target(Job& job);

  FILE* in_;
  JobFormat format_;
  bool require_dip_;
  JobOrder order_;
  bool read_all_ = false;
  std::vector<Job> shard_jobs_;  // a permuted order's jobs, the next one last
  uint64_t line_ = 0, accepted_ = 0, rejected_ = 0, blank_ = 0;
  std::unordered_map<std::string, uint64_t> seen_;  // dip -> first line
};

// The jobs an earlier, interrupted run already wrote result lines for, read from its
// output, so that `pspdr measure --resume` measures only the rest. A job is known by its
// target -- dip, dp and domain as written -- or, for an input line that was not a JSON
// object, by its line number; a result line counts for one job of that key, so
// duplicates in the input resume correctly. By domain only for the resolver, which
// writes a line per address of one job.
class FinishedJobs {
 public:
  // Reads `output`'s complete lines (a line cut short by the interruption is not a
  // result). A missing file means nothing is finished.
  static FinishedJobs read(FILE* output, bool by_domain);

  // Whether `job` was finished: then it is not measured again.
  bool take(const Job& job);
  uint64_t lines() const { return lines_; }

 private:
  std::string key(const Job& job) const;

  bool by_domain_ = false;
  uint64_t lines_ = 0;
  std::unordered_map<std::string, uint64_t> remaining_;  // key -> result lines not yet taken
};

// Starts the result line of `job` in `w`: an open object holding the job's members but
// those `replaced` (fields the result sets anew, so that no key appears twice); the
// caller adds its fields and closes it. A line that was no JSON object starts
// {"line": N, "input": "..."}.
void begin_result(JsonWriter& w, const Job& job, std::span<const std::string_view> replaced = {});

}  // namespace pspdr
