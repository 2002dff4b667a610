// pspdr filter: PATHspider's target-list pre-processor. Reads jobs (ndjson, or CSV with
// --csv-input), drops what measure would reject -- reporting each with its line -- and
// writes the rest as ndjson, optionally with a destination port added.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include "cli/command.hpp"
#include "cli/command_line.hpp"
#include "cli/job_input.hpp"
#include "cli/options.hpp"
#include "measure/job_reader.hpp"

namespace pspdr {
namespace {

// The job as a line, its "dp" set to `dp` (replacing any it had, as PATHspider's
// filter) unless `dp` is -1.
void write_job(JsonWriter& w, const Job& job, int dp) {
  static constexpr std::string_view kDp[] = {"dp"};
  begin_result(w, job, dp >= 0 ? std::span(kDp) : std::span<const std::string_view>());
  if (dp >= 0) w.field("dp", dp);
  w.end_object();
  w.end_line();
}

constexpr const char* kProg = "pspdr filter";
constexpr const char* kDescription =
    R"(Pre-process a target list: read PATHspider jobs, write the usable ones (ndjson), one
per target. Lines that are not usable jobs (not JSON, a bad address, a target already
listed, a wrong number of CSV fields) are reported on standard error with their line
number and left out. Jobs without "dip" pass, as in PATHspider (a domain list for
dnsresolv).
)";

}  // namespace

int filter_command(int argc, char** argv) {
  JobInput jobs;
  int dp = -1;
  std::string output;
  CommandLine cl(kProg, kDescription);
  add_job_input(cl, jobs);
  cl.add_count("--dp", dp, 0, 65535, "set every job's destination port", "PORT");
  cl.add_option("--output", output, "write jobs to F (default: standard output)")->type_name("F");
  if (std::optional<int> status = cl.parse_args(argc, argv)) return *status;
  if (std::string problem = job_input_problem(jobs); !problem.empty())
    return cl.usage_error(problem);
  FILE* in = options::open_input(kProg, jobs.path);
  FILE* out = in ? options::open_output(kProg, output) : nullptr;
  if (!out) {
    if (in) options::close_input(in);
    return exit_status::failure;
  }
  // A job without an address (a domain for dnsresolv) is not an error here.
  JobReader reader(in, jobs.csv ? JobFormat::csv : JobFormat::ndjson, false, jobs.order);
  bool ok = true;
  JsonWriter w;
  for (Job job; reader.next(job);) {
    if (!job.error.empty()) {
      std::fprintf(stderr, "%s: line %llu: %s\n", kProg, (unsigned long long)job.line,
                   job.error.c_str());
      continue;
    }
    write_job(w, job, dp);
    if (w.size() >= (64 << 10)) {
      ok = std::fwrite(w.text().data(), 1, w.size(), out) == w.size() && ok;
      w.clear();
    }
  }
  ok = std::fwrite(w.text().data(), 1, w.size(), out) == w.size() && ok;
  std::fprintf(stderr, "%s: %llu jobs, %llu rejected, %llu blank lines\n", kProg,
               (unsigned long long)reader.accepted(), (unsigned long long)reader.rejected(),
               (unsigned long long)reader.blank());
  options::close_input(in);
  return options::close_output(kProg, out, ok, output) ? exit_status::ok : exit_status::failure;
}

}  // namespace pspdr
