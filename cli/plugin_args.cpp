#include "cli/plugin_args.hpp"

#include "cli/command_line.hpp"

namespace pspdr {
namespace {

std::string_view model_name(SpiderModel m) {
  switch (m) {
    case SpiderModel::synchronized:
      return "synchronized";
    case SpiderModel::desynchronized:
      return "desynchronized";
    case SpiderModel::single:
      return "single";
    case SpiderModel::forge:
      return "forge";
    case SpiderModel::resolver:
      return "resolver";
  }
  return "";
}

}  // namespace

std::optional<int> parse_plugin_args(std::string_view prog, const std::vector<std::string>& args,
                                     const Plugin& p, PluginOptions& opts, double& timeout) {
  std::string chains;
  for (std::string_view c : p.chains.names()) chains += " " + std::string(c);
  CommandLine cl(
      std::string(prog) + " " + std::string(p.name), std::string(p.description) + ".\n",
      "Observer chains:" + chains + "\nSpider model: " + std::string(model_name(p.model)) + "\n");
  std::vector<std::pair<std::string, ConnectMode>> modes;
  std::string mode_list;
  for (ConnectMode m : p.modes) {
    modes.emplace_back(mode_name(m), m);
    mode_list += (mode_list.empty() ? "" : ", ") + std::string(mode_name(m));
  }
  opts.connect = p.modes.front();
  cl.add_choice("--connect", opts.connect, modes,
                "how the connections are made: " + mode_list +
                    ". (Default: " + std::string(mode_name(p.modes.front())) + ")",
                "MODE");
  cl.add_seconds("--timeout", timeout,
                 "seconds a connection may take, as PATHspider's (ecn --timeout 10)", 3600);
  if (p.takes_codepoints) {
    opts.codepoints = {48};
    cl.add_counts("--codepoint", opts.codepoints, 0, 63,
                  "DSCP codepoints (0-63) for the experimental connections, one configuration "
                  "each. (Default: 48)");
  }
  return cl.parse_args(args);
}

}  // namespace pspdr
