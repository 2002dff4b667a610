// pspdr synth: write a deterministic synthetic trace (for benchmarks and tests).
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>

#include "cli/command.hpp"
#include "cli/command_line.hpp"
#include "cli/options.hpp"
#include "shared/synth.hpp"

namespace pspdr {
namespace {

constexpr const char* kDescription =
    R"(Write a synthetic Ethernet pcap of N flows of mixed traffic, the same for the same
seed: TCP connections (MSS, SACK-permitted, timestamps and window-scale options; ECN
negotiation and ECT(0)/ECT(1)/CE marks; DSCP; TCP Fast Open with kind 34 or the
experimental kind 254; the evil bit; data both ways; FIN, RST or no teardown), DNS
over UDP (some zero checksums, lost queries, closed ports), ICMP errors quoting a
flow's packets, with an IPv6 and an 802.1Q share. Flows overlap in time and packets
are written in timestamp order.
)";
constexpr const char* kEpilog =
    R"(A statistics line goes to standard error at the end (packets, bytes, time).
Exit status: 0 on success, 1 when the output cannot be written, 2 on a usage error.

example: pspdr synth --flows 100000 --seed 7 --output mixed.pcap
)";

// A positive number of flows per second, at most 10^9.
bool parse_rate(const std::string& text, double& out) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end || !(v > 0) || v > 1e9) return false;
  out = v;
  return true;
}

}  // namespace

int synth_command(int argc, char** argv) {
  SynthOptions opts;
  bool quiet = false;
  uint32_t snaplen = 262144;
  std::string output;
  CommandLine cl("pspdr synth", kDescription, kEpilog);
  cl.add_count("--flows", opts.flows, 1, UINT64_MAX,
               "number of flows (TCP connections, DNS exchanges)")
      ->required();
  cl.add_count("--seed", opts.seed, 0, UINT64_MAX, "seed of the random choices (default 1)", "S");
  cl.add_checked(
      "--rate", "R", "mean new flows per second of trace time (default 5000)",
      [&](const std::string& v) { return parse_rate(v, opts.flows_per_second); },
      "flows per second, more than 0");
  cl.add_count("--snaplen", snaplen, 14, 262144,
               "cut frames to N bytes, as a header-only capture (tcpdump -s N) would (default "
               "262144: whole frames)");
  cl.add_count("--flow-packets", opts.max_flow_packets, 1, UINT32_MAX,
               "keep only each flow's first K packets: many flows in a small trace (e.g. K=2 "
               "and a high --rate for flow-table sweeps)",
               "K");
  cl.add_option("--output", output,
                "write the trace to FILE (default: standard output, if not a terminal)")
      ->type_name("FILE");
  cl.add_flag("-q,--quiet", quiet, "no statistics on standard error");
  if (std::optional<int> status = cl.parse_args(argc, argv)) return *status;
  if (output.empty() || output == "-") {
    if (isatty(STDOUT_FILENO))
      return cl.usage_error("standard output is a terminal: give --output");
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
