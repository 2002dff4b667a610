// pspdr measure: PATHspider's active A/B measurement (see measure/spider.hpp).
#include <linux/capability.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "cli/command.hpp"
#include "cli/command_line.hpp"
#include "cli/job_input.hpp"
#include "cli/options.hpp"
#include "cli/plugin_args.hpp"
#include "measure/plugin.hpp"
#include "measure/resolver.hpp"
#include "measure/spider.hpp"
#include "observer/interface.hpp"
#include "shared/cleanup.hpp"
#include "shared/compressed_file.hpp"
#include "shared/privileges.hpp"

namespace pspdr {
namespace {

constexpr const char* kProg = "pspdr measure";

constexpr const char* kDescription =
    R"(Perform a PATHspider measurement: for each job (a target: dip, dp, domain), connect
with the plugin's baseline configuration (A) and its experimental ones (B), observe
every connection on the wire, and write the job with the path conditions the plugin
derives, e.g. "ecn.connectivity.works". Every input job yields one output line.
)";

// The help's end: what a line holds, and the plugins there are (with --plugin-dir's).
std::string epilog() {
  std::string text =
      "Every line is the job with what PATHspider 2.0.1 adds: sip, path ([sip, sip_public\n"
      "where it differs, AS of sip, AS of the job's dip_asn or info.ASN, dip]), sip_public,\n"
      "sip_asn, time {from, to} and conditions. See docs/measure.md.\n\n"
      "Targets must be unicast: jobs naming an unspecified, broadcast, multicast or reserved\n"
      "address are written with an error and never contacted.\n\n"
      "Plugins:\n";
  for (const Plugin* p : plugins()) {
    std::string name(p->name);
    name.resize(std::max<size_t>(name.size(), 20), ' ');
    text += "  " + name + " " + std::string(p->description) + "\n";
  }
  return text +
         "\nRun 'pspdr measure PLUGIN --help' for a plugin's options and connection modes.\n\n"
         "Spider safely!";
}

uint64_t count_lines(const std::string& path) {
  struct stat st {};
  if (path.empty() || stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  std::ifstream in(path, std::ios::binary);
  uint64_t n = 0;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    n += uint64_t(std::count(buf, buf + in.gcount(), '\n'));
    if (!in) break;
  }
  return n;
}

// --resume: reads what OUTPUT already holds into `finished` and opens it for appending,
// first cutting off a last line the interruption left incomplete.
FILE* open_resumed_output(const std::string& path, bool by_domain, FinishedJobs& finished) {
  FILE* f = std::fopen(path.c_str(), "a+");
  if (!f) {
    std::fprintf(stderr, "%s: cannot resume %s: %s\n", kProg, path.c_str(), std::strerror(errno));
    return nullptr;
  }
  // The last newline, found from the end: only FinishedJobs::read goes through it all.
  off_t complete = std::fseek(f, 0, SEEK_END) == 0 ? ftello(f) : -1;
  char buf[1 << 16];
  while (complete > 0) {
    off_t from = std::max<off_t>(0, complete - off_t(sizeof buf));
    size_t n = size_t(complete - from);
    if (fseeko(f, from, SEEK_SET) != 0 || std::fread(buf, 1, n, f) != n) {
      complete = -1;
      break;
    }
    if (const void* nl = memrchr(buf, '\n', n)) {
      complete = from + off_t(static_cast<const char*>(nl) - buf) + 1;
      break;
    }
    complete = from;
  }
  if (complete < 0 || ftruncate(fileno(f), complete) != 0) {
    std::fprintf(stderr, "%s: cannot resume %s: %s\n", kProg, path.c_str(), std::strerror(errno));
    std::fclose(f);
    return nullptr;
  }
  std::rewind(f);
  finished = FinishedJobs::read(f, by_domain);
  std::fseek(f, 0, SEEK_END);  // "a+" appends anyway; this keeps ftell honest
  return f;
}

bool read_opt_out(const std::string& path, std::vector<std::string>& out) {
  std::ifstream in(path);
  if (!in) return false;
  for (std::string line; std::getline(in, line);) {
    line = line.substr(0, line.find('#'));
    line.erase(0, line.find_first_not_of(" \t\r"));
    line.erase(line.find_last_not_of(" \t\r") + 1);
    if (!line.empty()) out.push_back(line);
  }
  return true;
}

// The plugin directories $PSPDR_PLUGIN_PATH names; as in $PATH, one that does not
// exist is skipped (an explicit --plugin-dir must exist).
std::vector<std::string> plugin_path() {
  std::vector<std::string> dirs;
  const char* env = std::getenv("PSPDR_PLUGIN_PATH");
  for (std::string_view rest = env ? env : ""; !rest.empty();) {
    size_t colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    std::error_code err;
    if (!dir.empty() && std::filesystem::is_directory(dir, err)) dirs.push_back(dir);
    rest = colon == std::string_view::npos ? "" : rest.substr(colon + 1);
  }
  return dirs;
}

// As PATHspider's argparse says it, naming every plugin there is.
std::string unknown_plugin(const std::string& name) {
  std::string choices;
  for (const Plugin* p : plugins())
    choices += (choices.empty() ? "'" : ", '") + std::string(p->name) + "'";
  return "argument PLUGIN: invalid choice: '" + name + "' (choose from " + choices + ")";
}

// What the command line holds beyond the spider's settings.
struct MeasureOptions {
  JobInput jobs;
  std::string output, opt_out;
  bool quiet = false, resume = false;
  std::vector<std::string> public_addresses;
  std::optional<int64_t> asn;
};

// Parses argv into `s` and `m` (and loads the plugins --plugin-dir names); nullopt to go
// on, else the exit status.
std::optional<int> parse(int argc, char** argv, SpiderSettings& s, MeasureOptions& m) {
  CommandLine cl(kProg, kDescription);
  cl.footer(epilog);
  cl.add_option("-i,--interface", s.interface,
                "the interface the observer captures on; connections leave from its first IPv4 "
                "and IPv6 addresses (\"sip\"), as PATHspider binds them (AF_PACKET; must be "
                "up). (Default: eth0)")
      ->type_name("INTERFACE");
  cl.add_count("-w,--workers", s.workers, 1, 100000, "jobs measured at once. (Default: 100)",
               "WORKERS");
  add_job_input(cl, m.jobs);
  cl.add_option("--output", m.output,
                "where results go; OUTPUTFILE.bz2, .gz, .xz or .zst is written compressed. "
                "(Default: standard output)")
      ->type_name("OUTPUTFILE");
  cl.add_flag("--output-flows", s.output_flows,
              "add \"flow_results\" (each connection's flow record with its config: 0 = A, "
              "1..n = B, spdr_state: 0 OK, 1 FAILED, 2 TIMEOUT, 3 SKIPPED, spdr_start, "
              "spdr_stop, jobId) and \"missed_flows\", as PATHspider 2.0.1");
  cl.add_seconds("--timeout", s.timeout,
                 "seconds a connection may take; also a plugin option, as PATHspider's (ecn "
                 "--timeout 10). (Default: 5)",
                 3600);
  cl.add_count("--rate", s.rate, 0, 10000000,
               "at most this many packets forged per second with --connect tcpsyn (each probe "
               "counts), connections started per second otherwise; 0 = no limit. (Default: "
               "1000, polite to the targets' networks)");
  cl.add_count("--probes", s.probes, 1, 10,
               "--connect tcpsyn: copies of each SYN sent, back to back, as ZMap's --probes. "
               "(Default: 1)",
               "N");
  cl.add_seconds("--cooldown", s.cooldown,
                 "seconds to wait for the last packets after the last connection or probe "
                 "(ZMap's cooldown). (Default: 2 with tcpsyn, where answers to forged SYNs "
                 "may come late; otherwise as long as the slowest connection took, from 0.05 "
                 "to 0.5: only the packets after each close, about a round trip, are still "
                 "on their way)",
                 600);
  cl.add_count("--generators", s.generators, 1, kMaxGenerators,
               "generator processes making the connections. (Default: 2)");
  cl.add_option("--opt-out", m.opt_out,
                "addresses or prefixes (one per line, # comments) never to contact: their jobs "
                "are written with spdr_state 3, unmeasured")
      ->type_name("FILE");
  cl.add_flag("--resume", m.resume,
              "continue an interrupted run: the jobs OUTPUTFILE already has lines for are not "
              "measured again, the rest are appended (a last line cut short is dropped and "
              "redone)");
  cl.add_checked(
      "--plugin-dir", "DIR",
      "load the plugins (*.so) built out of tree in DIR; also every directory in "
      "$PSPDR_PLUGIN_PATH (':'-separated). See docs/plugins.md",
      [](const std::string& dir) {
        load_plugins(dir);  // throws, saying why, when DIR does not load
        return true;
      },
      "", CommandLine::Values::each);
  cl.add_checked(
      "--public-address", "ADDR",
      "the vantage point's address as seen from outside, per family (\"sip_public\", in "
      "\"path\"). (Default: its own, \"sip\"; PATHspider looks it up online, pspdr never "
      "contacts others)",
      [&](const std::string& a) { return !m.public_addresses.emplace_back(a).empty(); }, "",
      CommandLine::Values::each);
  cl.add_checked(
      "--asn", "N", "the vantage point's AS number (\"sip_asn\", in \"path\")",
      [&](const std::string& v) {
        uint64_t n = 0;
        if (!options::parse_count(v.c_str(), 0, 4294967295ull, n)) return false;
        m.asn = int64_t(n);
        return true;
      },
      "an AS number, 0 to 4294967295");
  cl.add_flag("--locate", s.locate,
              "trace the jobs whose conditions show an impairment or a change hop by hop, "
              "tracebox-style (A's and B's probes with TTL 1, 2, ... at --rate), and add the "
              "located hop to their conditions and a \"locate\" field (docs/locate.md)");
  cl.add_count("--locate-max-hops", s.trace.max_hops, 1, 255,
               "--locate: the last TTL sent. (Default: 30)", "N");
  cl.add_seconds("--locate-wait", s.trace.wait,
                 "--locate: seconds to wait for each TTL's answer. (Default: 1)", 60);
  cl.add_count("--locate-gap", s.trace.gap, 1, 255,
               "--locate: TTLs in a row without an answer that end a trace. (Default: 3)", "N");
  cl.add_count("--locate-attempts", s.trace.attempts, 1, 10,
               "--locate: probes per TTL before it counts as silent. (Default: 2)", "N");
  cl.add_flag("-q,--quiet", m.quiet, "no progress line and no summary on standard error");
  cl.stop_at_argument("PLUGIN ...");
  try {
    for (const std::string& dir : plugin_path()) load_plugins(dir);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", kProg, e.what());
    return exit_status::failure;
  }
  if (std::optional<int> status = cl.parse_args(argc, argv)) return status;
  if (std::string problem = job_input_problem(m.jobs); !problem.empty())
    return cl.usage_error(problem);
  if (m.resume && (m.output.empty() || m.output == "-"))
    return cl.usage_error("--resume continues an --output FILE: name it");
  if (m.resume && compressed_name(m.output))
    return cl.usage_error(
        "--resume needs an uncompressed --output (a compressed stream cannot be "
        "cut back to its last whole line); compress when the campaign is done");
  if (!m.opt_out.empty() && !read_opt_out(m.opt_out, s.opt_out))
    return cl.usage_error("cannot read --opt-out file " + m.opt_out + ": " + std::strerror(errno));
  if (cl.rest().empty()) return cl.usage_error("no PLUGIN given (--help lists them all)");
  s.plugin = find_plugin(cl.rest().front());
  if (!s.plugin) return cl.usage_error(unknown_plugin(cl.rest().front()));
  return parse_plugin_args(kProg, {cl.rest().begin() + 1, cl.rest().end()}, *s.plugin,
                           s.plugin_options, s.timeout);
}

}  // namespace

int measure_command(int argc, char** argv) {
  SpiderSettings s;
  s.interface = "eth0";
  MeasureOptions m;
  if (std::optional<int> status = parse(argc, argv, s, m)) return *status;
  bool resolver = s.plugin->model == SpiderModel::resolver;
  std::string problem = resolver ? "" : interface_problem(s.interface);
  if (!problem.empty()) {
    std::fprintf(stderr, "%s: %s\n", kProg, problem.c_str());
    return exit_status::failure;
  }
  if (!resolver) s.vantage = VantagePoint::of_interface(s.interface);
  s.vantage.asn = m.asn;
  for (const std::string& a : m.public_addresses)
    if (!s.vantage.set_public(a))
      return options::usage_error(kProg, "bad --public-address '" + a + "'");
  FinishedJobs finished;
  if (m.resume) s.finished = &finished;
  FILE* in = options::open_input(kProg, m.jobs.path);
  FILE* out = !in        ? nullptr
              : m.resume ? open_resumed_output(m.output, resolver, finished)
                         : options::open_output(kProg, m.output);
  if (!out) {
    if (in) options::close_input(in);
    return exit_status::failure;
  }
  s.progress = !m.quiet && isatty(STDERR_FILENO);
  // Only the progress line's ETA needs it; a shard has about its share of the lines.
  if (s.progress) s.total_jobs = count_lines(m.jobs.path) / m.jobs.order.shards;

  // Files are open: from here on the spider needs only to capture (CAP_NET_RAW) and to
  // set the configurations' sysctls (CAP_NET_ADMIN), and its generators the same, to
  // forge packets and to restore the sysctls if it dies; the resolver needs nothing.
  // Before the signal-handling thread starts, so that it is unprivileged too.
  std::string dropped =
      resolver ? become_unprivileged({}) : become_unprivileged({CAP_NET_ADMIN, CAP_NET_RAW});
  if (!dropped.empty())
    std::fprintf(stderr, "%s: warning: keeping every privilege: %s\n", kProg, dropped.c_str());
  handle_stop_signals(OnStopSignal::stop_flag);
  JobReader jobs(in, m.jobs.csv ? JobFormat::csv : JobFormat::ndjson, !resolver, m.jobs.order);
  SpiderResult r;
  try {
    r = resolver ? run_resolver(s, jobs, out, stop_requested)
                 : run_spider(s, jobs, out, stop_requested);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", kProg, e.what());
    return exit_status::failure;
  }
  // A failed result line was reported as it happened.
  bool output_ok = options::close_output(kProg, out, true, m.output) && r.output_ok;
  options::close_input(in);
  if (!m.quiet)
    std::fprintf(stderr,
                 "%s: %llu jobs (%llu rejected, %llu opted out, %llu resumed), %llu "
                 "connections failed, %llu not observed, %llu generator restarts, %llu traced, "
                 "%.1f s (%.1f jobs/s)%s\n",
                 kProg, (unsigned long long)r.jobs, (unsigned long long)r.rejected,
                 (unsigned long long)r.skipped, (unsigned long long)r.resumed,
                 (unsigned long long)r.failed, (unsigned long long)r.unobserved,
                 (unsigned long long)r.generator_restarts, (unsigned long long)r.traced, r.seconds,
                 r.seconds > 0 ? double(r.jobs) / r.seconds : 0.0,
                 stop_requested.load() ? " (stopped by signal: input not read to the end)" : "");
  return output_ok ? exit_status::ok : exit_status::failure;
}

}  // namespace pspdr
