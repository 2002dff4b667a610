// pspdr synth: write a deterministic synthetic trace (for benchmarks and tests).
#include <getopt.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "cli/command.hpp"
#include "cli/options.hpp"
#include "shared/synth.hpp"

namespace pspdr {
namespace {

constexpr const char* kUsage =
    "usage: pspdr synth [-h] --flows N [--seed S] [--rate R] [--snaplen N] [--flow-packets K]\n"
    "                   [--output FILE] [-q]\n"
    "\n"
    "Write a synthetic Ethernet pcap of N flows of mixed traffic, the same for the same\n"
    "seed: TCP connections (MSS, SACK-permitted, timestamps and window-scale options; ECN\n"
    "negotiation and ECT(0)/ECT(1)/CE marks; DSCP; TCP Fast Open with kind 34 or the\n"
    "experimental kind 254; the evil bit; data both ways; FIN, RST or no teardown), DNS\n"
    "over UDP (some zero checksums, lost queries, closed ports), ICMP errors quoting a\n"
    "flow's packets, with an IPv6 and an 802.1Q share. Flows overlap in time and packets\n"
    "are written in timestamp order.\n"
    "\n"
    "options:\n"
    "  -h, --help        show this help and exit\n"
    "  --flows N         number of flows (TCP connections, DNS exchanges); required\n"
    "  --seed S          seed of the random choices (default 1)\n"
    "  --rate R          mean new flows per second of trace time (default 5000)\n"
    "  --snaplen N       cut frames to N bytes, as a header-only capture (tcpdump -s N)\n"
    "                    would (default 262144: whole frames)\n"
    "  --flow-packets K  keep only each flow's first K packets: many flows in a small\n"
    "                    trace (e.g. K=2 and a high --rate for flow-table sweeps)\n"
    "  --output FILE     write the trace to FILE (default: standard output, if not a terminal)\n"
    "  -q, --quiet       no statistics on standard error\n"
    "\n"
    "A statistics line goes to standard error at the end (packets, bytes, time).\n"
    "Exit status: 0 on success, 1 when the output cannot be written, 2 on a usage error.\n"
    "\n"
    "example: pspdr synth --flows 100000 --seed 7 --output mixed.pcap\n";

int usage_error(const std::string& msg) {
  return options::usage_error("pspdr synth", msg);
}

}  // namespace

int synth_command(int argc, char** argv) {
  enum { kFlows = 256, kSeed, kRate, kOutput, kSnaplen, kFlowPackets };
  static const option long_opts[] = {
      {"help", no_argument, nullptr, 'h'},
      {"flows", required_argument, nullptr, kFlows},
      {"seed", required_argument, nullptr, kSeed},
      {"rate", required_argument, nullptr, kRate},
      {"output", required_argument, nullptr, kOutput},
      {"snaplen", required_argument, nullptr, kSnaplen},
      {"flow-packets", required_argument, nullptr, kFlowPackets},
      {"quiet", no_argument, nullptr, 'q'},
      {nullptr, 0, nullptr, 0},
  };
  SynthOptions opts;
  bool have_flows = false, quiet = false;
  uint32_t snaplen = 262144;
  std::string output;
  optind = 1;
  opterr = 0;
  for (int c; (c = getopt_long(argc, argv, "hq", long_opts, nullptr)) != -1;) {
    switch (c) {
      case 'h':
        std::fputs(kUsage, stdout);
        return exit_status::ok;
      case kFlows:
        if (!options::parse_count(optarg, 1, UINT64_MAX, opts.flows))
          return usage_error("bad --flows '" + std::string(optarg) + "'");
        have_flows = true;
        break;
      case kSeed:
        if (!options::parse_count(optarg, 0, UINT64_MAX, opts.seed))
          return usage_error("bad --seed '" + std::string(optarg) + "'");
        break;
      case kRate: {
        char* end = nullptr;
        opts.flows_per_second = std::strtod(optarg, &end);
        if (*end || !(opts.flows_per_second > 0) || opts.flows_per_second > 1e9)
          return usage_error("bad --rate '" + std::string(optarg) + "'");
        break;
      }
      case kOutput:
        output = optarg;
        break;
      case kSnaplen:
        if (!options::parse_count(optarg, 14, 262144, snaplen))
          return usage_error("bad --snaplen '" + std::string(optarg) + "' (14 to 262144)");
        break;
      case kFlowPackets:
        if (!options::parse_count(optarg, 1, UINT32_MAX, opts.max_flow_packets))
          return usage_error("bad --flow-packets '" + std::string(optarg) + "'");
        break;
      case 'q':
        quiet = true;
        break;
      default:
        return usage_error(options::bad_option(argv));
    }
  }
  if (optind < argc) return usage_error("unexpected argument '" + std::string(argv[optind]) + "'");
  if (!have_flows) return usage_error("give the number of flows with --flows N");
  if (output.empty() || output == "-") {
    if (isatty(STDOUT_FILENO)) return usage_error("standard output is a terminal: give --output");
    output = "/dev/stdout";
  }

  auto start = std::chrono::steady_clock::now();
  SynthStats stats;
  try {
    PcapWriter writer(output, LinkType::ethernet, {.snaplen = snaplen});
    stats = write_synth_trace(opts, writer);
    writer.close();
  } catch (const std::runtime_error& e) {
    std::fprintf(stderr, "pspdr synth: %s\n", e.what());
    return exit_status::failure;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!quiet)
    std::fprintf(stderr,
                 "pspdr synth: %llu packets, %llu flows, %.1f MB in %.3f s (%.0f packets/s); "
                 "at most %zu flows open at once\n",
                 (unsigned long long)stats.packets, (unsigned long long)opts.flows,
                 double(stats.bytes) / 1e6, secs, secs > 0 ? double(stats.packets) / secs : 0.0,
                 stats.max_open);
  return exit_status::ok;
}

}  // namespace pspdr
