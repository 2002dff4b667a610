// pspdr observe (and pspdr-observe): run the observer over a trace or a live source
// and write flow records.
#include <net/if.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chains/chain_set.hpp"
#include "cli/command.hpp"
#include "cli/command_line.hpp"
#include "cli/options.hpp"
#include "cli/trace_input.hpp"
#include "observer/af_packet_source.hpp"
#include "observer/dpdk_source.hpp"
#include "observer/observer.hpp"
#include "observer/pipeline.hpp"
#include "observer/trace_file.hpp"
#include "observer/trace_source.hpp"
#include "observer/xdp_source.hpp"
#include "shared/cleanup.hpp"
#include "shared/privileges.hpp"

namespace pspdr {
namespace {

const char* g_prog = "pspdr observe";  // the front end in use, for messages

constexpr const char* kDescription =
    "Passively observe packets and write one flow record per flow (ndjson), with the\n"
    "fields of the chosen chains, exactly as PATHspider's observer would.\n";

constexpr const char* kEpilog =
    "Statistics go to standard error: at the end (packets, non-IP, short or malformed,\n"
    "flows, records), and every second while standard error is a terminal (progress for\n"
    "traces; packets/s per core, drops, active flows and records for live sources).\n"
    "Live capture stops at SIGINT or SIGTERM, then every flow is flushed.\n"
    "Exit status: 0 on success (also when a damaged trace was read up to the damage),\n"
    "1 when the source cannot be read or the output fails, 2 on a usage error.\n"
    "\n"
    "examples: PROG -i capture.pcap basic tcp ecn >flows.ndjson\n"
    "          PROG -i eth1 --queues 2 --cores 2,3 basic tcp ecn >flows.ndjson\n"
    "          PROG --dpdk \"-l 0-2 -a 0000:03:00.0\" --queues 2 --cores 1,2 basic tcp\n";

void list_chains() {
  std::printf("The following chains are available:\n\n");
  for (uint8_t id = 0; id < Chains::count; ++id) {
    if (id == kLoadedChain) continue;  // a loaded plugin's, not selectable by name
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

int usage_error(const std::string& msg) {
  return options::usage_error(g_prog, msg);
}

void print_stats(const ObserverStats& s, double seconds, long memory_kib) {
  std::string early = s.evicted ? " (" + std::to_string(s.evicted) + " early, at --max-flows)" : "";
  std::fprintf(stderr,
               "%s: %llu packets (%llu non-IP, %llu short/malformed), %llu flows, "
               "%llu records%s, %.3f s (%.0f packets/s), %.1f MiB anonymous memory\n",
               g_prog, (unsigned long long)s.packets, (unsigned long long)s.non_ip,
               (unsigned long long)s.malformed, (unsigned long long)s.flows,
               (unsigned long long)s.emitted, early.c_str(), seconds,
               seconds > 0 ? double(s.packets) / seconds : 0.0, double(memory_kib) / 1024);
  if (s.malformed == 0) return;
  std::string detail;
  for (size_t i = 1; i < s.anomalies.size(); ++i) {
    if (!s.anomalies[i]) continue;
    if (!detail.empty()) detail += ", ";
    detail += std::to_string(s.anomalies[i]) + " " + std::string(anomaly_name(Anomaly(i)));
  }
  std::fprintf(stderr, "%s: malformed: %s; %llu of them could not be observed\n", g_prog,
               detail.c_str(), (unsigned long long)s.skipped);
}

struct Settings {
  std::string source, output;
  ObserverOptions opts;
  PipelineOptions pipeline;
  unsigned workers = 1;  // traces
  uint32_t queues = 1;
  XdpOptions xdp;
  std::string eal;  // DPDK EAL arguments
  uint32_t mbufs = DpdkOptions{}.mbufs;
  uint64_t buffer_kib = 0;  // -B: the capture buffer per queue; 0: the source's default
  bool quiet = false;
  bool stats = false;  // --stats: the live statistics line whatever stderr is
  std::vector<std::string> chains;
};

bool is_regular_file(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// PATHspider passes libtrace URIs: pcapfile:/pcap:/pcapng: name a trace, int:/ring:/
// pcapint: an interface (captured here with AF_PACKET).
std::string without_libtrace_prefix(const std::string& source) {
  for (std::string_view p : {"pcapfile:", "pcap:", "pcapng:", "int:", "ring:", "pcapint:"})
    if (source.starts_with(p)) return source.substr(p.size());
  return source;
}

// Live sources by SOURCE prefix; an interface name alone means AF_PACKET.
struct LiveKind {
  std::string_view prefix;
  std::unique_ptr<PacketSource> (*open)(const std::string& name, const Settings& s);
};
constexpr LiveKind kLiveKinds[] = {
    {"xdp:",
     [](const std::string& ifname, const Settings& s) -> std::unique_ptr<PacketSource> {
       XdpOptions o = s.xdp;
       o.queues = s.queues;
       if (s.buffer_kib) o.size_umem(s.buffer_kib << 10);
       return std::make_unique<XdpSource>(ifname, o);
     }},
    {"dpdk:",
     [](const std::string& port, const Settings& s) -> std::unique_ptr<PacketSource> {
       char* end = nullptr;
       unsigned long n = std::strtoul(port.c_str(), &end, 10);
       if (port.empty() || *end || n > 65535)
         throw SourceError("dpdk:" + port + ": not a port number");
       return std::make_unique<DpdkSource>(
           s.eal, DpdkOptions{.port = uint16_t(n), .queues = uint16_t(s.queues), .mbufs = s.mbufs});
     }},
};

// Opens the live source SOURCE names; nullptr when it names none.
std::unique_ptr<PacketSource> open_live(const Settings& s) {
  for (const LiveKind& k : kLiveKinds)
    if (s.source.starts_with(k.prefix)) return k.open(s.source.substr(k.prefix.size()), s);
  if (if_nametoindex(s.source.c_str()) == 0) return nullptr;
  AfPacketOptions o{.queues = s.queues};
  if (s.buffer_kib) o.size_ring(s.buffer_kib << 10);
  return std::make_unique<AfPacketSource>(s.source, o);
}

// Runs the pipeline on `source` and reports how it went; true if every record was written.
bool observe(const Settings& s, const ChainSet& chains, PacketSource& source, FILE* out,
             PipelineOptions pipeline, PipelineResult& r) {
  NdjsonOutput records(chains, source.queues(), file_output(out));
  r = run_pipeline(source, chains, s.opts, pipeline, records, stop_requested);
  if (!r.output_ok && r.output_error)
    std::fprintf(stderr, "%s: writing %s failed: %s; observing stopped\n", g_prog,
                 s.output.empty() || s.output == "-" ? "standard output" : s.output.c_str(),
                 std::strerror(r.output_error));
  return options::close_output(g_prog, out, true, s.output) && r.output_ok;
}

int observe_trace(const Settings& s, const ChainSet& chains) {
  std::unique_ptr<TraceFile> trace = trace_input::open(g_prog, s.source);
  if (!trace) return exit_status::failure;
  FILE* out = options::open_output(g_prog, s.output);
  if (!out) return exit_status::failure;

  TraceSource source(*trace, s.workers);
  trace_input::Progress progress(g_prog, *trace, !s.quiet && isatty(STDERR_FILENO));
  PipelineOptions pipeline = s.pipeline;
  pipeline.report_problems = false;  // a trace has none but its damage, said below
  pipeline.progress = [&](uint64_t packets) { progress.update(packets, source.offset()); };
  PipelineResult r;
  bool written = observe(s, chains, source, out, pipeline, r);
  progress.finish(r.stats.packets);
  trace_input::report_problems(g_prog, *trace, "observed");
  if (!s.quiet) print_stats(r.stats, r.seconds, r.memory_kib);
  return written ? exit_status::ok : exit_status::failure;
}

int observe_live(const Settings& s, const ChainSet& chains, PacketSource& source, FILE* out) {
  if (!s.quiet) std::fprintf(stderr, "%s: capturing on %s\n", g_prog, source.describe().c_str());
  PipelineOptions pipeline = s.pipeline;
  pipeline.stats_each_second = !s.quiet && (s.stats || isatty(STDERR_FILENO));
  PipelineResult r;
  bool written = observe(s, chains, source, out, pipeline, r);
  if (!s.quiet) {
    uint64_t dropped = 0;
    for (const QueueCounters& q : r.queues) dropped += q.dropped;
    std::fprintf(stderr, "%s: %llu packets dropped before the observer (%s)\n", g_prog,
                 (unsigned long long)dropped, source.describe().c_str());
    print_stats(r.stats, r.seconds, r.memory_kib);
  }
  return written ? exit_status::ok : exit_status::failure;
}

// XDP_MODE into `xdp`: false for a mode there is not.
bool set_xdp_mode(const std::string& mode, XdpOptions& xdp) {
  if (mode == "native")
    xdp.mode = XdpOptions::Mode::native;
  else if (mode == "generic")
    xdp.mode = XdpOptions::Mode::generic;
  else if (mode == "zero-copy")
    xdp.copy = XdpOptions::Copy::zero_copy;
  else if (mode == "copy")
    xdp.copy = XdpOptions::Copy::copy;
  else
    return mode == "auto";
  return true;
}

// Parses argv into `s`; nullopt to go on, else the exit status.
std::optional<int> parse(int argc, char** argv, Settings& s) {
  std::string epilog = kEpilog;
  for (size_t at; (at = epilog.find("PROG")) != std::string::npos;) epilog.replace(at, 4, g_prog);
  CommandLine cl(g_prog, kDescription, epilog);
  bool list = false;
  cl.add_flag("--list-chains", list, "list the available chains and their fields, then exit");
  cl.add_option("-i,--interface", s.source,
                "a pcap or pcapng trace (format detected from its content, any file name; gzip, "
                "bzip2, xz or zstd compressed), or a network interface captured live with "
                "AF_PACKET (root or CAP_NET_RAW), xdp:IFACE for AF_XDP, or dpdk:PORT for a DPDK "
                "port (EAL arguments in --eal). PATHspider's libtrace URIs work too "
                "(pcapfile:TRACE, int:IFACE). (Default: eth0)")
      ->type_name("SOURCE");
  cl.add_checked(
      "--xdp", "IFACE",
      "the same as -i xdp:IFACE. AF_XDP takes every packet from the kernel: use it on a tap "
      "or mirror port, not on an interface whose own connections must keep working",
      [&](const std::string& v) {
        s.source = "xdp:" + v;
        return true;
      });
  cl.add_checked(
      "--xdp-mode", "MODE",
      "auto (default: native, else generic; zero-copy where the driver allows), native, "
      "generic, zero-copy or copy",
      [&](const std::string& v) { return set_xdp_mode(v, s.xdp); },
      "auto, native, generic, zero-copy, copy");
  cl.add_checked(
      "--dpdk", "\"EAL ARGS\"",
      "capture DPDK port 0 with these EAL arguments (any PMD, e.g. \"--no-huge -m 512 "
      "--no-pci --vdev=net_pcap0,rx_pcap=T.pcap\"); the same as -i dpdk:0 --eal \"EAL ARGS\"",
      [&](const std::string& v) {
        s.source = "dpdk:0";
        s.eal = v;
        return true;
      });
  cl.add_option("--eal", s.eal, "DPDK EAL arguments, for -i dpdk:PORT")->type_name("\"EAL ARGS\"");
  cl.add_count("--mbufs", s.mbufs, 1, 1ul << 30,
               "DPDK packet buffers (default 8191; net_pcap with infinite_rx needs one per packet "
               "of its trace)");
  cl.add_option("--output", s.output, "write flow records to FILE (default: standard output)")
      ->type_name("FILE");
  cl.add_seconds("--idle-timeout", s.opts.idle_timeout,
                 "complete a flow idle for S seconds of packet time (default 30)");
  cl.add_seconds("--expiry-timeout", s.opts.expiry_timeout,
                 "emit a completed flow S seconds later (default 5)");
  cl.add_count("--max-flows", s.opts.max_flows, 1, 1ul << 31,
               "hold at most N flows per worker; at the limit the flow idle longest is emitted "
               "early (and counted). Default: no limit");
  cl.add_count("--workers", s.workers, 1, 256,
               "traces: observer cores (default 1); flows are spread by a symmetric hash, "
               "records are the same whatever N");
  cl.add_count("--queues", s.queues, 1, 256,
               "live sources: receive queues, one worker core each (default 1)");
  cl.add_checked(
      "--cores", "LIST", "pin workers to these CPUs, e.g. 2,3 or 2-5",
      [&](const std::string& v) {
        s.pipeline.cores.clear();
        return options::parse_cores(v, s.pipeline.cores);
      },
      "CPU numbers, e.g. 2,3 or 2-5");
  cl.add_count("-B,--buffer-size", s.buffer_kib, 16, 1ul << 22,
               "live sources: the capture buffer per queue in KiB, as tcpdump's -B: the AF_PACKET "
               "ring (default 32768) or the AF_XDP UMEM (default 16384), what holds a burst the "
               "workers have not yet read; when full, packets are dropped and counted",
               "KiB");
  cl.add_seconds("--duration", s.pipeline.duration,
                 "live sources: stop after S seconds (default: at SIGINT/SIGTERM)");
  cl.add_flag("--stats", s.stats,
              "live sources: the statistics line every second even when standard error is no "
              "terminal (a log)");
  cl.add_flag("-q,--quiet", s.quiet, "no progress or statistics on standard error");
  cl.add_option("CHAIN", s.chains,
                "observer chains to run, in this order (see --list-chains; names in any case); "
                "include 'basic' for addresses, ports and counters");
  if (auto status = cl.parse_args(argc, argv)) return status;
  if (list) {
    list_chains();
    return exit_status::ok;
  }
  return std::nullopt;
}

}  // namespace

int observe_command(int argc, char** argv) {
  g_prog = std::strcmp(argv[0], "observe") == 0 ? "pspdr observe" : "pspdr-observe";
  Settings s;
  if (std::optional<int> status = parse(argc, argv, s)) return *status;
  s.source = without_libtrace_prefix(s.source.empty() ? "eth0" : s.source);
  ChainSet chains;
  try {
    chains = ChainSet::from_names(s.chains);
  } catch (const std::invalid_argument& e) {
    return usage_error(e.what());
  }

  if (is_regular_file(s.source)) return observe_trace(s, chains);
  // SIGINT/SIGTERM wait while the source opens, so that what it changes (an attached XDP
  // program) is always undone; they then end the capture (the workers flush every flow),
  // and a second one undoes those changes and ends the process.
  sigset_t stop_signals, old_mask;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, &old_mask);
  std::unique_ptr<PacketSource> source;
  FILE* out = nullptr;
  try {
    source = open_live(s);
  } catch (const SourceError& e) {
    std::fprintf(stderr, "%s: %s\n", g_prog, e.what());
    return exit_status::failure;
  }
  if (source && !(out = options::open_output(g_prog, s.output))) return exit_status::failure;
  // The source and the output are open: keep only what the source still needs (nothing
  // for AF_PACKET), before the signal-handling thread and the workers start.
  if (std::optional<std::vector<int>> keep = source ? source->capabilities_kept() : std::nullopt) {
    std::string dropped = become_unprivileged(*keep);
    if (!dropped.empty())
      std::fprintf(stderr, "%s: warning: keeping every privilege: %s\n", g_prog, dropped.c_str());
  }
  handle_stop_signals(OnStopSignal::stop_flag);
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  if (source) return observe_live(s, chains, *source, out);
  if (access(s.source.c_str(), F_OK) != 0 && s.source.find('/') == std::string::npos) {
    std::fprintf(stderr, "%s: %s: no such trace file or network interface (see ip link)\n", g_prog,
                 s.source.c_str());
    return exit_status::failure;
  }
  return observe_trace(s, chains);  // the trace reader says why the file is unusable
}

}  // namespace pspdr
