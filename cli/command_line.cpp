#include "cli/command_line.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <utility>

#include "cli/command.hpp"

namespace pspdr {

namespace {

constexpr size_t kWidth = 88;       // the help's lines, at most
constexpr size_t kHelpColumn = 24;  // where an option's help starts, as argparse's

// TEXT's words in lines of at most `width` characters, joined by '\n'; its own line
// breaks are kept.
std::string wrap(const std::string& text, size_t width) {
  std::string out, line;
  std::istringstream paragraphs(text);
  for (std::string paragraph; std::getline(paragraphs, paragraph);) {
    if (!out.empty() || !line.empty()) out += line + "\n";
    line.clear();
    std::istringstream words(paragraph);
    for (std::string word; words >> word;) {
      if (!line.empty() && line.size() + 1 + word.size() > width) {
        out += line + "\n";
        line.clear();
      }
      line += (line.empty() ? "" : " ") + word;
    }
  }
  return out + line;
}

bool takes_many(const CLI::Option* opt) {
  return opt->get_expected_max() > 1;
}

// Help as argparse writes it: the usage line naming every option, the description,
// "positional arguments:", "options:" with "-i, --interface SOURCE", the epilog.
class ArgparseFormatter : public CLI::Formatter {
 public:
  explicit ArgparseFormatter(std::string rest_usage) : rest_usage_(std::move(rest_usage)) {
    column_width(kHelpColumn);
  }

  std::string make_help(const CLI::App* app, std::string name, CLI::AppFormatMode) const override {
    std::string out = make_usage(app, name) + "\n" + app->get_description();
    auto positional = app->get_options([](const CLI::Option* o) { return o->get_positional(); });
    if (!positional.empty()) out += make_group("positional arguments", true, positional);
    auto named = app->get_options([](const CLI::Option* o) { return o->nonpositional(); });
    out += make_group("options", false, named);
    std::string footer = app->get_footer();
    return out + (footer.empty() ? "" : "\n" + footer);
  }

  std::string make_usage(const CLI::App* app, std::string name) const override {
    std::vector<std::string> items;
    for (const CLI::Option* o : app->get_options()) {
      if (o->get_positional()) continue;
      std::string flag =
          o->get_snames().empty() ? "--" + o->get_lnames().front() : "-" + o->get_snames().front();
      items.push_back("[" + flag + make_option_opts(o) + "]");
    }
    for (const CLI::Option* o : app->get_options())
      if (o->get_positional())
        items.push_back(o->get_required() ? make_option_usage(o)
                                          : "[" + make_option_usage(o) + "]");
    if (!rest_usage_.empty()) items.push_back(rest_usage_);
    std::string head = "usage: " + name + " ", out = head, line;
    for (const std::string& item : items) {
      if (!line.empty() && head.size() + line.size() + 1 + item.size() > kWidth) {
        out += line + "\n" + std::string(head.size(), ' ');
        line.clear();
      }
      line += (line.empty() ? "" : " ") + item;
    }
    return out + line + "\n";
  }

  std::string make_option(const CLI::Option* opt, bool positional) const override {
    std::stringstream out;
    std::string name =
        make_option_name(opt, positional) + (positional ? "" : make_option_opts(opt));
    CLI::detail::format_help(out, name, wrap(make_option_desc(opt), kWidth - kHelpColumn),
                             kHelpColumn);
    return out.str();
  }

  std::string make_group(std::string group, bool positional,
                         std::vector<const CLI::Option*> opts) const override {
    std::string out = "\n" + group + ":\n";
    for (const CLI::Option* o : opts) out += make_option(o, positional);
    return out;
  }

  std::string make_option_name(const CLI::Option* opt, bool positional) const override {
    if (positional) return opt->get_name(true, false);
    std::string names;
    for (const std::string& s : opt->get_snames()) names += (names.empty() ? "-" : ", -") + s;
    for (const std::string& l : opt->get_lnames()) names += (names.empty() ? "--" : ", --") + l;
    return names;
  }

  std::string make_option_opts(const CLI::Option* opt) const override {
    if (opt->get_type_name().empty()) return "";  // a flag
    return " " + opt->get_type_name() + (takes_many(opt) ? " ..." : "");
  }

  std::string make_option_usage(const CLI::Option* opt) const override {
    return opt->get_name(true, false) + (takes_many(opt) ? " ..." : "");
  }

 private:
  std::string rest_usage_;
};

// "--workers" of "-w,--workers": the name messages use.
std::string long_name(const std::string& names) {
  return names.substr(names.rfind(',') + 1);
}

}  // namespace

CommandLine::CommandLine(std::string program, std::string description, std::string epilog)
    : CLI::App(std::move(description), program), program_(std::move(program)) {
  set_help_flag("-h,--help", "show this help message and exit");
  footer(std::move(epilog));
  formatter(std::make_shared<ArgparseFormatter>(""));
  option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
}

CommandLine& CommandLine::stop_at_argument(std::string usage) {
  prefix_command();
  formatter(std::make_shared<ArgparseFormatter>(std::move(usage)));
  return *this;
}

std::string CommandLine::range(uint64_t lo, uint64_t hi) {
  if (hi >= std::numeric_limits<uint32_t>::max()) return std::to_string(lo) + " or more";
  return std::to_string(lo) + " to " + std::to_string(hi);
}

CLI::Option* CommandLine::add_checked(const std::string& name, std::string metavar,
                                      std::string help,
                                      std::function<bool(const std::string&)> store,
                                      std::string expected, Values values) {
  auto check = [store = std::move(store), flag = long_name(name),
                expected = std::move(expected)](const CLI::results_t& given) {
    for (const std::string& v : given)
      if (!store(v))
        throw CLI::ValidationError("bad " + flag + " '" + v + "'" +
                                   (expected.empty() ? "" : " (" + expected + ")"));
    return true;
  };
  CLI::Option* opt =
      add_option(name, CLI::callback_t(check), std::move(help))->type_name(std::move(metavar));
  if (values != Values::last) opt->take_all();
  if (values == Values::many) opt->expected(CLI::detail::expected_max_vector_size);
  return opt;
}

CLI::Option* CommandLine::add_seconds(const std::string& name, double& out, std::string help,
                                      double max) {
  return add_checked(
      name, "S", std::move(help),
      [&out, max](const std::string& v) {
        double s = 0;
        if (!options::parse_seconds(v.c_str(), s) || s > max) return false;
        out = s;
        return true;
      },
      "seconds, more than 0");
}

std::optional<int> CommandLine::parse_args(int argc, char** argv) {
  return parse_args(std::vector<std::string>(argv + std::min(argc, 1), argv + argc));
}

std::optional<int> CommandLine::parse_args(std::vector<std::string> args) {
  std::reverse(args.begin(), args.end());  // CLI11 takes the arguments last first
  try {
    parse(args);
  } catch (const CLI::CallForHelp&) {
    std::fputs(help().c_str(), stdout);
    return exit_status::ok;
  } catch (const CLI::ExtrasError&) {
    std::string extra;
    for (const std::string& a : remaining()) extra += (extra.empty() ? "" : " ") + a;
    return usage_error("unrecognized arguments: " + extra);
  } catch (const CLI::ParseError& e) {
    return usage_error(e.what());
  } catch (const std::exception& e) {  // an option's action failed, e.g. loading a plugin
    std::fprintf(stderr, "%s: %s\n", program_.c_str(), e.what());
    return exit_status::failure;
  }
  rest_ = remaining();
  if (!rest_.empty() && rest_.front().size() > 1 && rest_.front().front() == '-')
    return usage_error("unrecognized arguments: " + rest_.front());
  return std::nullopt;
}

int CommandLine::usage_error(const std::string& message) const {
  return options::usage_error(program_.c_str(), message);
}

}  // namespace pspdr
