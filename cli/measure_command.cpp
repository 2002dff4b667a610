// pspdr measure: PATHspider's active A/B measurement (see measure/spider.hpp).
#include <getopt.h>
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
#include "cli/options.hpp"
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

constexpr const char* kUsage =
    R"(usage: pspdr measure [-h] [-i INTERFACE] [-w WORKERS] [--input INPUTFILE] [--csv-input]
                     [--output OUTPUTFILE] [--output-flows] [--timeout S] [--rate N]
                     [--generators N] [--opt-out FILE] [--resume] [--plugin-dir DIR]
                     [--public-address ADDR] [--asn N] [-q]
                     PLUGIN [--connect MODE] [--timeout S] ...

Perform a PATHspider measurement: for each job (a target: dip, dp, domain), connect
with the plugin's baseline configuration (A) and its experimental ones (B), observe
every connection on the wire, and write the job with the path conditions the plugin
derives, e.g. "ecn.connectivity.works". Every input job yields one output line.

optional arguments:
  -h, --help            show this help message and exit (PLUGIN --help: the plugin's)
  -i, --interface IFACE the interface the observer captures on; connections leave
                        from its first IPv4 and IPv6 addresses ("sip"), as
                        PATHspider binds them (AF_PACKET; must be up). (Default: eth0)
  -w, --workers N       jobs measured at once. (Default: 100)
  --input INPUTFILE     jobs, one JSON object per line. (Default: standard input)
  --csv-input, --csv    the input is CSV: dip,dp,domain[,rank] (or rank,domain
                        for dnsresolv)
  --output OUTPUTFILE   where results go; OUTPUTFILE.bz2, .gz, .xz or .zst is
                        written compressed. (Default: standard output)
  --output-flows        add "flow_results" (each connection's flow record with its
                        config: 0 = A, 1..n = B, spdr_state: 0 OK, 1 FAILED,
                        2 TIMEOUT, 3 SKIPPED, spdr_start, spdr_stop, jobId) and
                        "missed_flows", as PATHspider 2.0.1
  --timeout S           seconds a connection may take; also a plugin option, as
                        PATHspider's (ecn --timeout 10). (Default: 5)
  --rate N              connections started per second, at most; 0 = no limit.
                        (Default: 1000, polite to the targets' networks)
  --generators N        generator processes making the connections. (Default: 2)
  --opt-out FILE        addresses or prefixes (one per line, # comments) never to
                        contact: their jobs are written with spdr_state 3, unmeasured
  --resume              continue an interrupted run: the jobs OUTPUTFILE already
                        has lines for are not measured again, the rest are
                        appended (a last line cut short is dropped and redone)
  --plugin-dir DIR      load the plugins (*.so) built out of tree in DIR; also
                        every directory in $PSPDR_PLUGIN_PATH (':'-separated).
                        See docs/plugins.md
  --public-address ADDR the vantage point's address as seen from outside, per
                        family ("sip_public", in "path"). (Default: its own, "sip";
                        PATHspider looks it up online, pspdr never contacts others)
  --asn N               the vantage point's AS number ("sip_asn", in "path")
  -q, --quiet           no progress line and no summary on standard error

Every line is the job with what PATHspider 2.0.1 adds: sip, path ([sip, sip_public
where it differs, AS of sip, AS of the job's dip_asn or info.ASN, dip]), sip_public,
sip_asn, time {from, to} and conditions. See docs/measure.md.

Targets must be unicast: jobs naming an unspecified, broadcast, multicast or reserved
address are written with an error and never contacted.

Plugins:
)";

int usage_error(const std::string& msg) {
  return options::usage_error(kProg, msg);
}

void print_usage() {
  std::fputs(kUsage, stdout);
  for (const Plugin* p : plugins())
    std::printf("  %-20.*s %.*s\n", int(p->name.size()), p->name.data(), int(p->description.size()),
                p->description.data());
  std::puts(
      "\nRun 'pspdr measure PLUGIN --help' for a plugin's connection modes.\n\n"
      "Spider safely!");
}

void print_plugin_usage(const Plugin& p) {
  std::printf("usage: pspdr measure [OPTIONS] %.*s [--connect MODE] [--timeout S]%s\n\n%.*s.\n\n",
              int(p.name.size()), p.name.data(), p.takes_codepoints ? " [--codepoint N ...]" : "",
              int(p.description.size()), p.description.data());
  std::printf("Connection modes (--connect; the first is the default):");
  for (ConnectMode m : p.modes) std::printf(" %.*s", int(mode_name(m).size()), mode_name(m).data());
  std::printf("\nObserver chains:");
  for (std::string_view c : p.chains.names()) std::printf(" %.*s", int(c.size()), c.data());
  std::printf("\nSpider model: %s\n", p.model == SpiderModel::synchronized     ? "synchronized"
                                      : p.model == SpiderModel::desynchronized ? "desynchronized"
                                      : p.model == SpiderModel::single         ? "single"
                                      : p.model == SpiderModel::forge          ? "forge"
                                                                               : "resolver");
  if (p.takes_codepoints)
    std::printf(
        "\n  --codepoint N ...  DSCP codepoints (0-63) for the experimental "
        "connections. (Default: 48)\n");
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

// The plugin's arguments (after its name), "--opt=value" split in two as argparse does.
std::vector<std::string> split_equals(int argc, char** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    size_t eq = a.find('=');
    if (a.starts_with("--") && eq != std::string_view::npos) {
      args.emplace_back(a.substr(0, eq));
      args.emplace_back(a.substr(eq + 1));
    } else {
      args.emplace_back(a);
    }
  }
  return args;
}

// PLUGIN's own options: --connect, --timeout, --codepoint.
int parse_plugin_args(int argc, char** argv, SpiderSettings& s) {
  const Plugin& p = *s.plugin;
  s.plugin_options.connect = p.modes.front();
  if (p.takes_codepoints) s.plugin_options.codepoints = {48};
  bool codepoints_given = false;
  std::vector<std::string> args = split_equals(argc, argv);
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    bool has_value = i + 1 < args.size();
    if (a == "-h" || a == "--help") {
      print_plugin_usage(p);
      return exit_status::ok;
    }
    if (a == "--connect" && has_value) {
      auto m = parse_mode(args[++i]);
      if (!m || std::find(p.modes.begin(), p.modes.end(), *m) == p.modes.end())
        return usage_error("plugin " + std::string(p.name) + " has no connection mode '" + args[i] +
                           "'");
      s.plugin_options.connect = *m;
    } else if (a == "--timeout" && has_value) {
      if (!options::parse_seconds(args[++i].c_str(), s.timeout) || s.timeout > 3600)
        return usage_error("bad --timeout '" + args[i] + "'");
    } else if (a == "--codepoint" && p.takes_codepoints) {
      if (!codepoints_given) s.plugin_options.codepoints.clear();
      codepoints_given = true;
      int n = 0;
      while (i + 1 < args.size() && args[i + 1][0] != '-' &&
             options::parse_count(args[i + 1].c_str(), 0, 63, n)) {
        s.plugin_options.codepoints.push_back(n);
        ++i;
      }
      if (s.plugin_options.codepoints.empty()) return usage_error("--codepoint needs 0-63");
    } else {
      return usage_error("plugin " + std::string(p.name) + ": unknown argument '" + a + "'");
    }
  }
  return -1;
}

}  // namespace

int measure_command(int argc, char** argv) {
  enum {
    kInput = 256,
    kCsv,
    kOutput,
    kFlows,
    kTimeout,
    kRate,
    kGenerators,
    kOptOut,
    kResume,
    kPluginDir,
    kPublicAddress,
    kAsn
  };
  static const option long_opts[] = {
      {"help", no_argument, nullptr, 'h'},
      {"interface", required_argument, nullptr, 'i'},
      {"workers", required_argument, nullptr, 'w'},
      {"input", required_argument, nullptr, kInput},
      {"csv-input", no_argument, nullptr, kCsv},
      {"csv", no_argument, nullptr, kCsv},
      {"output", required_argument, nullptr, kOutput},
      {"output-flows", no_argument, nullptr, kFlows},
      {"timeout", required_argument, nullptr, kTimeout},
      {"rate", required_argument, nullptr, kRate},
      {"generators", required_argument, nullptr, kGenerators},
      {"opt-out", required_argument, nullptr, kOptOut},
      {"resume", no_argument, nullptr, kResume},
      {"plugin-dir", required_argument, nullptr, kPluginDir},
      {"public-address", required_argument, nullptr, kPublicAddress},
      {"asn", required_argument, nullptr, kAsn},
      {"quiet", no_argument, nullptr, 'q'},
      {nullptr, 0, nullptr, 0},
  };
  SpiderSettings s;
  s.interface = "eth0";
  std::string input, output;
  bool csv = false, quiet = false, resume = false, help = false;
  std::vector<std::string> plugin_dirs = plugin_path();
  std::vector<std::string> public_addresses;
  std::optional<int64_t> asn;
  optind = 1;
  opterr = 0;
  // '+': options end at PLUGIN; what follows is the plugin's.
  for (int c; (c = getopt_long(argc, argv, "+hi:w:q", long_opts, nullptr)) != -1;) {
    std::string arg = optarg ? optarg : "";
    switch (c) {
      case 'h':
        help = true;  // after --plugin-dir, wherever it comes: the list names its plugins
        break;
      case 'i':
        s.interface = arg;
        break;
      case 'w':
        if (!options::parse_count(optarg, 1, 100000, s.workers))
          return usage_error("bad --workers '" + arg + "' (1 to 100000)");
        break;
      case kInput:
        input = arg;
        break;
      case kCsv:
        csv = true;
        break;
      case kOutput:
        output = arg;
        break;
      case kFlows:
        s.output_flows = true;
        break;
      case kTimeout:
        if (!options::parse_seconds(optarg, s.timeout) || s.timeout > 3600)
          return usage_error("bad --timeout '" + arg + "'");
        break;
      case kRate:
        if (!options::parse_count(optarg, 0, 10000000, s.rate))
          return usage_error("bad --rate '" + arg + "'");
        break;
      case kGenerators:
        if (!options::parse_count(optarg, 1, kMaxGenerators, s.generators))
          return usage_error("bad --generators '" + arg + "' (1 to " +
                             std::to_string(kMaxGenerators) + ")");
        break;
      case kOptOut:
        if (!read_opt_out(arg, s.opt_out))
          return usage_error("cannot read --opt-out file " + arg + ": " + std::strerror(errno));
        break;
      case kResume:
        resume = true;
        break;
      case kPluginDir:
        plugin_dirs.push_back(arg);
        break;
      case kPublicAddress:
        public_addresses.push_back(arg);
        break;
      case kAsn: {
        uint64_t n = 0;
        if (!options::parse_count(optarg, 0, 4294967295ull, n))
          return usage_error("bad --asn '" + arg + "' (an AS number, 0 to 4294967295)");
        asn = int64_t(n);
        break;
      }
      case 'q':
        quiet = true;
        break;
      default:
        return usage_error(options::bad_option(argv));
    }
  }
  try {
    for (const std::string& dir : plugin_dirs) load_plugins(dir);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", kProg, e.what());
    return exit_status::failure;
  }
  if (help) {
    print_usage();
    return exit_status::ok;
  }
  if (resume && (output.empty() || output == "-"))
    return usage_error("--resume continues an --output FILE: name it");
  if (resume && compressed_name(output))
    return usage_error(
        "--resume needs an uncompressed --output (a compressed stream cannot be "
        "cut back to its last whole line); compress when the campaign is done");
  if (optind >= argc) return usage_error("no PLUGIN given (--help lists them all)");
  s.plugin = find_plugin(argv[optind]);
  if (!s.plugin) return usage_error(unknown_plugin(argv[optind]));
  if (int rc = parse_plugin_args(argc - optind, argv + optind, s); rc >= 0) return rc;

  bool resolver = s.plugin->model == SpiderModel::resolver;
  std::string problem = resolver ? "" : interface_problem(s.interface);
  if (!problem.empty()) {
    std::fprintf(stderr, "%s: %s\n", kProg, problem.c_str());
    return exit_status::failure;
  }
  if (!resolver) s.vantage = VantagePoint::of_interface(s.interface);
  s.vantage.asn = asn;
  for (const std::string& a : public_addresses)
    if (!s.vantage.set_public(a)) return usage_error("bad --public-address '" + a + "'");
  FinishedJobs finished;
  if (resume) s.finished = &finished;
  FILE* in = options::open_input(kProg, input);
  FILE* out = !in      ? nullptr
              : resume ? open_resumed_output(output, resolver, finished)
                       : options::open_output(kProg, output);
  if (!out) {
    if (in) options::close_input(in);
    return exit_status::failure;
  }
  s.progress = !quiet && isatty(STDERR_FILENO);
  if (s.progress) s.total_jobs = count_lines(input);  // only the progress line's ETA needs it

  // Files are open: from here on the spider needs only to capture (CAP_NET_RAW) and to
  // set the configurations' sysctls (CAP_NET_ADMIN), and its generators the same, to
  // forge packets and to restore the sysctls if it dies; the resolver needs nothing.
  // Before the signal-handling thread starts, so that it is unprivileged too.
  std::string dropped =
      resolver ? become_unprivileged({}) : become_unprivileged({CAP_NET_ADMIN, CAP_NET_RAW});
  if (!dropped.empty())
    std::fprintf(stderr, "%s: warning: keeping every privilege: %s\n", kProg, dropped.c_str());
  handle_stop_signals(OnStopSignal::stop_flag);
  JobReader jobs(in, csv ? JobFormat::csv : JobFormat::ndjson, !resolver);
  SpiderResult r;
  try {
    r = resolver ? run_resolver(s, jobs, out, stop_requested)
                 : run_spider(s, jobs, out, stop_requested);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", kProg, e.what());
    return exit_status::failure;
  }
  // A failed result line was reported as it happened.
  bool output_ok = options::close_output(kProg, out, true, output) && r.output_ok;
  options::close_input(in);
  if (!quiet)
    std::fprintf(stderr,
                 "%s: %llu jobs (%llu rejected, %llu opted out, %llu resumed), %llu "
                 "connections failed, %llu not observed, %llu generator restarts, %.1f s (%.1f "
                 "jobs/s)%s\n",
                 kProg, (unsigned long long)r.jobs, (unsigned long long)r.rejected,
                 (unsigned long long)r.skipped, (unsigned long long)r.resumed,
                 (unsigned long long)r.failed, (unsigned long long)r.unobserved,
                 (unsigned long long)r.generator_restarts, r.seconds,
                 r.seconds > 0 ? double(r.jobs) / r.seconds : 0.0,
                 stop_requested.load() ? " (stopped by signal: input not read to the end)" : "");
  return output_ok ? exit_status::ok : exit_status::failure;
}

}  // namespace pspdr
