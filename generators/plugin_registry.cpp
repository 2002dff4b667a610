// The plugin registry, and the names PATHspider gives connection modes.
#include <array>

#include "generators/plugins/plugins.hpp"

namespace pspdr {
namespace {

constexpr std::pair<ConnectMode, std::string_view> kModes[] = {
    {ConnectMode::tcp, "tcp"},       {ConnectMode::http, "http"},
    {ConnectMode::https, "https"},   {ConnectMode::dnstcp, "dnstcp"},
    {ConnectMode::dnsudp, "dnsudp"}, {ConnectMode::tcpsyn, "tcpsyn"},
};

}  // namespace

std::span<const Plugin* const> plugins() {
  static const std::array<const Plugin*, 8> all = {
      &tfo_plugin, &ecn_plugin,     &h2_plugin,      &dscp_plugin,
      &mss_plugin, &evilbit_plugin, &udpzero_plugin, &dnsresolv_plugin};
  return all;
}

const Plugin* find_plugin(std::string_view name) {
  for (const Plugin* p : plugins())
    if (p->name == name) return p;
  return nullptr;
}

std::string_view mode_name(ConnectMode mode) {
  for (auto [m, name] : kModes)
    if (m == mode) return name;
  return "?";
}

std::optional<ConnectMode> parse_mode(std::string_view name) {
  for (auto [m, n] : kModes)
    if (n == name) return m;
  return std::nullopt;
}

std::string connectivity(std::string_view prefix, bool baseline) {
  return std::string(prefix) + (baseline ? ".connectivity.online" : ".connectivity.offline");
}

std::string connectivity(std::string_view prefix, bool baseline, bool experimental) {
  const char* y =
      experimental ? (baseline ? "works" : "transient") : (baseline ? "broken" : "offline");
  return std::string(prefix) + ".connectivity." + y;
}

}  // namespace pspdr
