// pspdr: PATHspider's command line, in C++. `pspdr COMMAND --help` explains each command.
#include <cstdio>
#include <cstring>
#include <string_view>

#include "cli/command.hpp"
#include "generators/generator.hpp"
#include "shared/log.hpp"

namespace {

struct Command {
  std::string_view name;
  std::string_view help;
  int (*run)(int, char**);
};

constexpr Command kCommands[] = {
    {"dissect", "Print every header field of every packet of a trace (JSON, one per line)",
     pspdr::dissect_command},
    {"filter", "Pre-process a target list (jobs in, deduplicated jobs out)", pspdr::filter_command},
    {"measure", "Perform a PATHspider measurement (A/B connections, observed, combined)",
     pspdr::measure_command},
    {"metadata", "Create PTOv3 metadata files from results (FILE.meta.json)",
     pspdr::metadata_command},
    {"observe", "Passively observe packets (a trace file) and write flow records",
     pspdr::observe_command},
    {"trace", "Split a trace into its TCP streams (one file per stream, and an index)",
     pspdr::trace_command},
    {"synth", "Write a synthetic trace of mixed traffic (deterministic, for benchmarks)",
     pspdr::synth_command},
    {"generate", "(internal) a generator process of pspdr measure", pspdr::generator_main},
};

void usage(FILE* out) {
  std::fprintf(
      out,
      "usage: pspdr [-h] [--version] [--verbose] COMMAND ...\n\n"
      "PATHspider will spider the paths: A/B measurement of Internet path transparency.\n\n"
      "options:\n"
      "  -h, --help   show this help message and exit\n"
      "  --version    print the version and exit\n"
      "  --verbose    debug logging on standard error (each connection of each job)\n\n"
      "Commands:\n");
  for (const Command& c : kCommands)
    std::fprintf(out, "  %-12.*s %.*s\n", int(c.name.size()), c.name.data(), int(c.help.size()),
                 c.help.data());
  std::fprintf(out, "\nRun 'pspdr COMMAND --help' for a command's options.\n\nSpider safely!\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string_view(argv[1]) == "--verbose") {
    pspdr::log::verbose = true;
    --argc;
    ++argv;
  }
  if (argc < 2) {  // as PATHspider: its help, and success
    usage(stdout);
    return pspdr::exit_status::ok;
  }
  std::string_view cmd = argv[1];
  if (cmd == "-h" || cmd == "--help") {
    usage(stdout);
    return pspdr::exit_status::ok;
  }
  if (cmd == "--version") {
    std::printf("pspdr %s\n", PSPDR_VERSION);
    return pspdr::exit_status::ok;
  }
  for (const Command& c : kCommands)
    if (c.name == cmd) return c.run(argc - 1, argv + 1);
  std::fprintf(stderr, "pspdr: unknown command '%s' (see pspdr --help)\n", argv[1]);
  return pspdr::exit_status::usage;
}
