// pspdr observe: run the observer over a trace and write flow records.
#include <getopt.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "chains/chain_set.hpp"
#include "cli/command.hpp"
#include "observer/observer.hpp"
#include "observer/pipeline.hpp"
#include "observer/trace_file.hpp"

namespace pspdr {
namespace {

constexpr const char* kUsage =
    "usage: pspdr observe [-h] [--list-chains] -i SOURCE [--output FILE]\n"
    "                     [--idle-timeout S] [--expiry-timeout S] [--workers N]\n"
    "                     [--cores LIST] [-q] [CHAIN ...]\n"
    "\n"
    "Passively observe packets and write one flow record per flow (ndjson), with the\n"
    "fields of the chosen chains, exactly as PATHspider's observer would.\n"
    "\n"
    "positional arguments:\n"
    "  CHAIN                 observer chains to run, in this order (see --list-chains);\n"
    "                        include 'basic' for addresses, ports and counters\n"
    "\n"
    "options:\n"
    "  -h, --help            show this help and exit\n"
    "  --list-chains         list the available chains and their fields, then exit\n"
    "  -i, --interface SOURCE\n"
    "                        a pcap or pcapng trace (format detected from its content,\n"
    "                        any file name)\n"
    "  --output FILE         write flow records to FILE (default: standard output)\n"
    "  --idle-timeout S      complete a flow idle for S seconds of packet time (default 30)\n"
    "  --expiry-timeout S    emit a completed flow S seconds later (default 5)\n"
    "  --max-flows N         hold at most N flows per worker; at the limit the flow idle\n"
    "                        longest is emitted early (counted as evicted). Default: no limit\n"
    "  --workers N           observer cores (default 1); flows are spread by a symmetric\n"
    "                        hash, records are the same whatever N\n"
    "  --cores LIST          pin workers to these CPUs, e.g. 2,3 or 2-5\n"
    "  -q, --quiet           no progress or statistics on standard error\n"
    "\n"
    "A statistics line goes to standard error at the end (packets, non-IP, short or\n"
    "malformed, flows); progress is shown every second when standard error is a terminal.\n"
    "Exit status: 0 on success (also when a damaged trace was read up to the damage),\n"
    "1 when the trace cannot be read at all or the output fails, 2 on a usage error.\n"
    "\n"
    "example: pspdr observe -i capture.pcap basic tcp ecn >flows.ndjson\n";

void list_chains() {
  std::printf("The following chains are available:\n\n");
  for (uint8_t id = 0; id < Chains::count; ++id) {
    Chains::describe(
        id, [](std::string_view name, std::string_view summary, std::span<const FieldDoc> fields) {
          std::printf("%-8.*s %.*s\n", int(name.size()), name.data(), int(summary.size()),
                      summary.data());
          for (const FieldDoc& f : fields)
            std::printf("    %-34.*s %-6.*s %.*s\n", int(f.name.size()), f.name.data(),
                        int(f.type.size()), f.type.data(), int(f.meaning.size()), f.meaning.data());
        });
  }
  std::printf("\nSpider safely!\n");
}

bool parse_seconds(const char* text, double& out) {
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(text, &end);
  if (errno || end == text || *end || !(v > 0) || !std::isfinite(v) || v > 86400 * 365)
    return false;
  out = v;
  return true;
}

// "2,3" or "2-5,8": CPU numbers; false on anything else.
bool parse_cores(const std::string& text, std::vector<int>& cores) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t comma = text.find(',', pos);
    std::string part =
        text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    int lo, hi;
    char extra;
    if (std::sscanf(part.c_str(), "%d-%d%c", &lo, &hi, &extra) == 2 && lo >= 0 && lo <= hi &&
        hi < 4096) {
      for (int c = lo; c <= hi; ++c) cores.push_back(c);
    } else if (std::sscanf(part.c_str(), "%d%c", &lo, &extra) == 1 && lo >= 0 && lo < 4096) {
      cores.push_back(lo);
    } else {
      return false;
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return !cores.empty();
}

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "pspdr observe: %s (see pspdr observe --help)\n", msg.c_str());
  return exit_status::usage;
}

// Anonymous resident memory (flow tables, buffers): what grows with the flows held.
// The trace itself is mapped from the page cache and not counted.
long anonymous_memory_kib() {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long kib = -1;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "RssAnon: %ld kB", &kib) == 1) break;
  std::fclose(f);
  return kib;
}

void print_stats(const ObserverStats& s, double seconds) {
  std::string early = s.evicted ? " (" + std::to_string(s.evicted) + " early, at --max-flows)" : "";
  std::fprintf(
      stderr,
      "pspdr observe: %llu packets (%llu non-IP, %llu short/malformed), %llu flows, "
      "%llu records%s, %.3f s (%.0f packets/s), %.1f MiB anonymous memory\n",
      (unsigned long long)s.packets, (unsigned long long)s.non_ip, (unsigned long long)s.malformed,
      (unsigned long long)s.flows, (unsigned long long)s.emitted, early.c_str(), seconds,
      seconds > 0 ? double(s.packets) / seconds : 0.0, double(anonymous_memory_kib()) / 1024);
  if (s.malformed == 0) return;
  std::string detail;
  for (size_t i = 1; i < s.anomalies.size(); ++i) {
    if (!s.anomalies[i]) continue;
    if (!detail.empty()) detail += ", ";
    detail += std::to_string(s.anomalies[i]) + " " + std::string(anomaly_name(Anomaly(i)));
  }
  std::fprintf(stderr, "pspdr observe: malformed: %s; %llu of them could not be observed\n",
               detail.c_str(), (unsigned long long)s.skipped);
}

}  // namespace

int observe_command(int argc, char** argv) {
  enum { kListChains = 256, kOutput, kIdle, kExpiry, kWorkers, kCores, kMaxFlows };
  static const option long_opts[] = {
      {"help", no_argument, nullptr, 'h'},
      {"list-chains", no_argument, nullptr, kListChains},
      {"interface", required_argument, nullptr, 'i'},
      {"output", required_argument, nullptr, kOutput},
      {"idle-timeout", required_argument, nullptr, kIdle},
      {"expiry-timeout", required_argument, nullptr, kExpiry},
      {"max-flows", required_argument, nullptr, kMaxFlows},
      {"workers", required_argument, nullptr, kWorkers},
      {"cores", required_argument, nullptr, kCores},
      {"quiet", no_argument, nullptr, 'q'},
      {nullptr, 0, nullptr, 0},
  };
  std::string source, output;
  ObserverOptions opts;
  PipelineOptions pipeline;
  bool quiet = false;
  optind = 1;
  opterr = 0;
  for (int c; (c = getopt_long(argc, argv, "hi:q", long_opts, nullptr)) != -1;) {
    switch (c) {
      case 'h':
        std::fputs(kUsage, stdout);
        return exit_status::ok;
      case kListChains:
        list_chains();
        return exit_status::ok;
      case 'i':
        source = optarg;
        break;
      case kOutput:
        output = optarg;
        break;
      case kIdle:
        if (!parse_seconds(optarg, opts.idle_timeout))
          return usage_error("bad --idle-timeout '" + std::string(optarg) + "'");
        break;
      case kExpiry:
        if (!parse_seconds(optarg, opts.expiry_timeout))
          return usage_error("bad --expiry-timeout '" + std::string(optarg) + "'");
        break;
      case kWorkers: {
        char* end = nullptr;
        unsigned long n = std::strtoul(optarg, &end, 10);
        if (*end || n < 1 || n > 256)
          return usage_error("bad --workers '" + std::string(optarg) + "' (1 to 256)");
        pipeline.workers = unsigned(n);
        break;
      }
      case kMaxFlows: {
        char* end = nullptr;
        unsigned long n = std::strtoul(optarg, &end, 10);
        if (*end || n < 1 || n > (1ul << 31))
          return usage_error("bad --max-flows '" + std::string(optarg) + "'");
        opts.max_flows = uint32_t(n);
        break;
      }
      case kCores:
        if (!parse_cores(optarg, pipeline.cores))
          return usage_error("bad --cores '" + std::string(optarg) + "'");
        break;
      case 'q':
        quiet = true;
        break;
      default:
        return usage_error(optopt ? "option -" + std::string(1, char(optopt)) +
                                        " is unknown or needs a value"
                                  : "unknown option '" + std::string(argv[optind - 1]) + "'");
    }
  }
  if (source.empty()) return usage_error("no source: give -i TRACE");

  std::vector<std::string> names(argv + optind, argv + argc);
  ChainSet chains;
  try {
    chains = ChainSet::from_names(names);
  } catch (const std::invalid_argument& e) {
    return usage_error(e.what());
  }

  std::unique_ptr<TraceFile> trace;
  try {
    trace = std::make_unique<TraceFile>(source);
  } catch (const TraceOpenError& e) {
    std::fprintf(stderr, "pspdr observe: %s\n", e.what());
    return exit_status::failure;
  }
  FILE* out = stdout;
  if (!output.empty() && output != "-") {
    out = std::fopen(output.c_str(), "w");
    if (!out) {
      std::fprintf(stderr, "pspdr observe: cannot write %s: %s\n", output.c_str(),
                   std::strerror(errno));
      return exit_status::failure;
    }
  }

  bool progress = !quiet && isatty(STDERR_FILENO);
  auto start = std::chrono::steady_clock::now();
  auto last_report = start;
  ProgressFn report;
  if (progress)
    report = [&](uint64_t packets, uint64_t offset) {
      auto now = std::chrono::steady_clock::now();
      if (now - last_report < std::chrono::seconds(1)) return;
      last_report = now;
      double secs = std::chrono::duration<double>(now - start).count();
      std::fprintf(stderr, "\rpspdr observe: %llu packets, %.0f%% of %s, %.2f M packets/s   ",
                   (unsigned long long)packets, 100.0 * double(offset) / double(trace->size()),
                   source.c_str(), double(packets) / secs / 1e6);
    };
  PipelineResult result = run_pipeline(*trace, chains, opts, pipeline, out, report);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (progress) std::fputc('\n', stderr);

  bool written = result.output_ok;
  if (out != stdout) written = std::fclose(out) == 0 && written;
  for (uint32_t link : trace->unsupported_links())
    std::fprintf(stderr,
                 "pspdr observe: %s: link type %u is not supported; its frames count as non-IP\n",
                 source.c_str(), link);
  if (!trace->damage().empty())
    std::fprintf(stderr,
                 "pspdr observe: %s: damaged %s trace: %s; everything before it was observed\n",
                 source.c_str(), trace->format(), trace->damage().c_str());
  if (!quiet) print_stats(result.stats, secs);
  if (!written) {
    std::fprintf(stderr, "pspdr observe: writing %s failed: %s\n",
                 output.empty() ? "standard output" : output.c_str(), std::strerror(errno));
    return exit_status::failure;
  }
  return exit_status::ok;
}

}  // namespace pspdr
