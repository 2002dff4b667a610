// PLUGIN's own options, after its name on pspdr measure's and pspdr locate's command
// lines: --connect, --timeout and, for dscp, --codepoint.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "measure/plugin.hpp"

namespace pspdr {

// Fills `opts` (the plugin's default mode and codepoints, then what `args` say) and
// `timeout`; nullopt to go on, else the exit status (--help, a usage error).
std::optional<int> parse_plugin_args(std::string_view prog, const std::vector<std::string>& args,
                                     const Plugin& p, PluginOptions& opts, double& timeout);

}  // namespace pspdr
