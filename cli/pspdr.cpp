// pspdr: PATHspider's command line, in C++. `pspdr COMMAND --help` explains each command.
#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "cli/command.hpp"
#include "cli/command_line.hpp"
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
    {"locate", "Find the hop that changes or drops a plugin's probe (tracebox-style)",
     pspdr::locate_command},
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

// The help's end: the commands.
std::string epilog() {
  std::string text = "Commands:\n";
  for (const Command& c : kCommands) {
    std::string name(c.name);
    name.resize(std::max<size_t>(name.size(), 12), ' ');
    text += "  " + name + " " + std::string(c.help) + "\n";
  }
  return text + "\nRun 'pspdr COMMAND --help' for a command's options.\n\nSpider safely!\n";
}

// Parses pspdr's own options. The command found, *command is it and *first its argv's
// index; otherwise, the exit status. The parser is gone before the command runs.
std::optional<int> parse(int argc, char** argv, const Command** command, int* first) {
  pspdr::CommandLine cl(
      "pspdr", "PATHspider will spider the paths: A/B measurement of Internet path transparency.\n",
      epilog());
  bool version = false;
  cl.add_flag("--version", version, "print the version and exit");
  cl.add_flag("--verbose", pspdr::log::verbose,
              "debug logging on standard error (each connection of each job)");
  cl.stop_at_argument("COMMAND ...");
  if (std::optional<int> status = cl.parse_args(argc, argv)) return status;
  if (version) {
    std::printf("pspdr %s\n", PSPDR_VERSION);
    return pspdr::exit_status::ok;
  }
  if (cl.rest().empty()) {  // as PATHspider: its help, and success
    std::fputs(cl.help().c_str(), stdout);
    return pspdr::exit_status::ok;
  }
  *first = argc - int(cl.rest().size());
  for (const Command& c : kCommands)
    if (c.name == cl.rest().front()) {
      *command = &c;
      return std::nullopt;
    }
  return cl.usage_error("unknown command '" + cl.rest().front() + "'");
}

}  // namespace

int main(int argc, char** argv) {
  const Command* command = nullptr;
  int first = 0;
  if (std::optional<int> status = parse(argc, argv, &command, &first)) return *status;
  // The command's own argv: its name first, as each command expects.
  return command->run(argc - first, argv + first);
}
