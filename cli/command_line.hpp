// Every pspdr command's command line, on CLI11 (Debian's libcli11-dev): parsing and
// --help come from one list of options, so they cannot drift apart. Help reads as
// PATHspider's argparse writes it (usage first, "-i, --interface SOURCE"), and a bad
// argument is one line: "pspdr COMMAND: MESSAGE (see pspdr COMMAND --help)".
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli/options.hpp"

namespace pspdr {

class CommandLine : public CLI::App {
 public:
  // PROGRAM as messages name it ("pspdr dissect"). The description follows the usage
  // line; the epilog ends the help.
  CommandLine(std::string program, std::string description, std::string epilog = "");

  // Parsing stops at the first argument that is no option: from it on, the arguments are
  // rest() (pspdr's COMMAND, measure's PLUGIN, each with its own options). `usage` names
  // them in the usage line ("PLUGIN ...").
  CommandLine& stop_at_argument(std::string usage);
  const std::vector<std::string>& rest() const { return rest_; }

  // How many values an option takes: one (given twice, the last counts), one each
  // time it is given (all count: --plugin-dir A --plugin-dir B), or one or more, up to
  // the next option (--codepoint 46 8).
  enum class Values { last, each, many };

  // NAME VALUE, handed to `store`, which keeps it and returns true, or returns false:
  // then "bad NAME 'VALUE' (EXPECTED)". Several values go to `store` in order.
  CLI::Option* add_checked(const std::string& name, std::string metavar, std::string help,
                           std::function<bool(const std::string&)> store, std::string expected = "",
                           Values values = Values::last);

  // NAME N: a whole number in [lo, hi] (decimal or 0x hex).
  template <class T>
  CLI::Option* add_count(const std::string& name, T& out, uint64_t lo, uint64_t hi,
                         std::string help, std::string metavar = "N") {
    return add_checked(
        name, std::move(metavar), std::move(help),
        [&out, lo, hi](const std::string& v) {
          return options::parse_count(v.c_str(), lo, hi, out);
        },
        range(lo, hi));
  }
  // NAME N ...: whole numbers in [lo, hi]; given, they replace what `out` held.
  template <class T>
  CLI::Option* add_counts(const std::string& name, std::vector<T>& out, uint64_t lo, uint64_t hi,
                          std::string help, std::string metavar = "N") {
    auto store = [&out, lo, hi, fresh = true](const std::string& v) mutable {
      T n{};
      if (!options::parse_count(v.c_str(), lo, hi, n)) return false;
      if (std::exchange(fresh, false)) out.clear();
      out.push_back(n);
      return true;
    };
    return add_checked(name, std::move(metavar), std::move(help), store, range(lo, hi),
                       Values::many);
  }
  // NAME CHOICE: one of `choices`' names, its value into `out`.
  template <class T>
  CLI::Option* add_choice(const std::string& name, T& out,
                          std::vector<std::pair<std::string, T>> choices, std::string help,
                          std::string metavar) {
    std::string names;
    for (const auto& c : choices) names += (names.empty() ? "" : ", ") + c.first;
    auto store = [&out, choices = std::move(choices)](const std::string& v) {
      for (const auto& [choice, value] : choices)
        if (choice == v) {
          out = value;
          return true;
        }
      return false;
    };
    return add_checked(name, std::move(metavar), std::move(help), store, names);
  }
  // NAME S: a positive number of seconds, at most `max`.
  CLI::Option* add_seconds(const std::string& name, double& out, std::string help,
                           double max = 86400.0 * 365);

  // Parses ARGV (argv[0], the command's name, skipped): nullopt to go on; otherwise the
  // exit status, after the help (--help: 0) or after a one-line error (2 for usage, 1
  // when an option could not act, e.g. a plugin directory that does not load).
  std::optional<int> parse_args(int argc, char** argv);
  std::optional<int> parse_args(std::vector<std::string> args);

  // Prints "PROGRAM: MESSAGE (see PROGRAM --help)"; returns the usage exit status.
  int usage_error(const std::string& message) const;

 private:
  static std::string range(uint64_t lo, uint64_t hi);

  std::string program_;
  std::vector<std::string> rest_;
};

}  // namespace pspdr
