// pspdr locate: one target, one plugin, interactively: tracebox's trace of the plugin's
// A and B probes (locate/), hop by hop, and where on the path a header changed or a
// probe stopped getting through. pspdr measure --locate does the same for every
// impaired job of a campaign.
#include <arpa/inet.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/command.hpp"
#include "cli/command_line.hpp"
#include "cli/options.hpp"
#include "cli/plugin_args.hpp"
#include "locate/location.hpp"
#include "locate/probes.hpp"
#include "measure/vantage_point.hpp"
#include "observer/af_packet_source.hpp"
#include "observer/interface.hpp"
#include "shared/cleanup.hpp"
#include "shared/json_writer.hpp"
#include "shared/privileges.hpp"

namespace pspdr {
namespace {

constexpr const char* kProg = "pspdr locate";
constexpr const char* kDescription =
    R"(Trace a plugin's probes to TARGET hop by hop, tracebox-style: each configuration's
forged probe (A's and B's: a SYN, or the DNS query over UDP) with TTL / hop limit 1, 2,
... from one source port, comparing each router's ICMP time-exceeded quote with the
probe as it left, and say where on the path a header field changed or B stopped getting
answers while A went on (docs/locate.md).
)";
constexpr const char* kEpilog =
    R"(Example: pspdr locate -i eth0 192.0.2.7 ecn
Options after PLUGIN are the plugin's (--connect, --codepoint), as for pspdr measure.
)";

struct LocateOptions {
  std::string interface = "eth0", target;
  int port = -1;
  double rate = 1000;
  bool json = false;
  TracerOptions trace;
};

void print_trace(const TracedConfiguration& tc) {
  const Trace& t = tc.trace;
  std::printf("config %d (%s), source port %u: %s\n", tc.number, tc.number ? "B" : "A",
              unsigned(t.probe.sport),
              t.error     ? std::strerror(t.error)
              : t.reached ? "reached the target"
                          : "did not reach the target");
  std::printf("  %3s  %-39s %9s  %-8s %s\n", "ttl", "from", "rtt ms", "quote", "changed");
  for (const Hop& h : t.hops) {
    HopReading r = read_hop(t, h);
    std::string changed;
    for (const std::string& f : r.changed) changed += (changed.empty() ? "" : ", ") + f;
    std::printf("  %3u  %-39s %9s  %-8s %s\n", h.ttl, h.from ? address_text(h.from).c_str() : "*",
                h.from ? std::to_string(h.rtt * 1000).substr(0, 6).c_str() : "",
                h.destination ? "target"
                : !r.quoted   ? ""
                : r.whole     ? "whole"
                              : "partial",
                changed.empty() ? (r.quoted ? "-" : "") : changed.c_str());
  }
}

void print_located(std::span<const Located> located) {
  for (const Located& l : located) {
    if (l.condition.ends_with(".locate.unchanged")) {
      std::printf("located: nothing: every quote showed the probes as sent\n");
      continue;
    }
    std::printf("located: %s (config %d: after TTL %u %s", l.condition.c_str(), l.config,
                l.after_ttl, address_text(l.after).c_str());
    if (l.before_ttl)
      std::printf(", before TTL %u %s", l.before_ttl, address_text(l.before).c_str());
    std::printf("%s)\n", l.partial ? "; partial: the hops between could not tell" : "");
  }
}

// The traces of `probes`, one at a time each, all at once; a signal ends them early.
std::vector<TracedConfiguration> run_traces(
    const LocateOptions& o, const std::vector<std::pair<int, ConnectionRequest>>& probes) {
  Tracer tracer(std::make_unique<AfPacketSource>(o.interface, AfPacketOptions{}), o.trace);
  std::vector<TracedConfiguration> traces;
  for (size_t i = 0; i < probes.size(); ++i) {
    traces.push_back({probes[i].first, {}});
    tracer.add(i, probes[i].second);
  }
  RateLimiter rate(o.rate, 1);
  auto done = [&](uint64_t id, Trace&& t) { traces[id].trace = std::move(t); };
  while (!tracer.idle()) {
    if (stop_requested.load())
      tracer.finish_all(done);
    else
      tracer.poll(rate, done);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return traces;
}

int run(const LocateOptions& o, const Plugin& plugin, const PluginOptions& popts) {
  Job job;
  job.dip = o.target;
  job.family = o.target.find(':') == std::string::npos ? 4 : 6;
  if (inet_pton(job.family == 4 ? AF_INET : AF_INET6, o.target.c_str(), job.addr) != 1)
    return options::usage_error(kProg,
                                "TARGET must be an IPv4 or IPv6 address: '" + o.target + "'");
  if (const char* why = not_a_target(job.family, job.addr))
    return options::usage_error(kProg, o.target + " is " + why + ", not a target");
  if (std::string problem = interface_problem(o.interface); !problem.empty()) {
    std::fprintf(stderr, "%s: %s\n", kProg, problem.c_str());
    return exit_status::failure;
  }
  VantagePoint vantage = VantagePoint::of_interface(o.interface);
  if (!vantage.source_for(job.family)) {
    std::fprintf(stderr, "%s: %s has no IPv%d address to trace from\n", kProg, o.interface.c_str(),
                 job.family);
    return exit_status::failure;
  }
  uint16_t dport = o.port >= 0                           ? uint16_t(o.port)
                   : popts.connect == ConnectMode::https ? 443
                   : popts.connect == ConnectMode::dnsudp || popts.connect == ConnectMode::dnstcp
                       ? 53
                       : 80;
  auto probes = locate_probes(plugin, popts, vantage.request(job, dport));
  handle_stop_signals(OnStopSignal::stop_flag);
  std::vector<TracedConfiguration> traces;
  try {
    traces = run_traces(o, probes);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", kProg, e.what());
    return exit_status::failure;
  }
  std::vector<Located> located = locate(plugin.name, traces);
  if (o.json) {
    JsonWriter w;
    w.begin_object();
    w.field("dip", o.target);
    w.field("dp", dport);
    w.key("conditions").begin_array();
    for (const Located& l : located) {
      w.element();
      w.string_value(l.condition);
    }
    w.end_array();
    w.key("locate");
    write_locate(w, traces, located);
    w.end_object();
    w.end_line();
    std::fwrite(w.text().data(), 1, w.size(), stdout);
  } else {
    std::printf("%s: %s to %s port %u, TTL 1 to %u\n", kProg, std::string(plugin.name).c_str(),
                o.target.c_str(), unsigned(dport), o.trace.max_hops);
    for (const TracedConfiguration& t : traces) print_trace(t);
    print_located(located);
  }
  return stop_requested.load() ? exit_status::failure : exit_status::ok;
}

}  // namespace

int locate_command(int argc, char** argv) {
  LocateOptions o;
  CommandLine cl(kProg, kDescription);
  cl.footer(kEpilog);
  cl.add_option("-i,--interface", o.interface,
                "the interface the probes leave by and the answers are captured on. "
                "(Default: eth0)")
      ->type_name("INTERFACE");
  cl.add_count("--port", o.port, 0, 65535,
               "the target's port. (Default: the connection mode's: 80, 443 for https, 53 "
               "for DNS)");
  cl.add_count("--max-hops", o.trace.max_hops, 1, 255, "the last TTL sent. (Default: 30)", "N");
  cl.add_seconds("--wait", o.trace.wait, "seconds to wait for each TTL's answer. (Default: 1)", 60);
  cl.add_count("--gap", o.trace.gap, 1, 255,
               "TTLs in a row without an answer that end a trace. (Default: 3)", "N");
  cl.add_count("--attempts", o.trace.attempts, 1, 10,
               "probes per TTL before it counts as silent. (Default: 2)", "N");
  cl.add_count("--rate", o.rate, 0, 10000000,
               "at most this many probes per second; 0 = no limit. (Default: 1000)");
  cl.add_flag("--json", o.json,
              "one JSON line (dip, dp, the located conditions, the \"locate\" field of pspdr "
              "measure --locate) instead of the table");
  cl.stop_at_argument("TARGET PLUGIN ...");
  if (std::optional<int> status = cl.parse_args(argc, argv)) return *status;
  if (cl.rest().size() < 2) return cl.usage_error("give TARGET and PLUGIN (--help says more)");
  o.target = cl.rest()[0];
  const Plugin* plugin = find_plugin(cl.rest()[1]);
  if (!plugin) return cl.usage_error("unknown plugin '" + cl.rest()[1] + "'");
  if (!plugin->locate)
    return cl.usage_error("plugin " + cl.rest()[1] +
                          " cannot be located: its configurations look alike on the path");
  PluginOptions popts;
  double timeout = 5;
  if (std::optional<int> status = parse_plugin_args(kProg, {cl.rest().begin() + 2, cl.rest().end()},
                                                    *plugin, popts, timeout))
    return *status;
  return run(o, *plugin, popts);
}

}  // namespace pspdr
