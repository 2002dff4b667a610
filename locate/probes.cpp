#include "locate/probes.hpp"

#include <algorithm>
#include <charconv>
#include <string_view>

namespace pspdr {
namespace {

// dscp.SENT.replymark:GOT with GOT other than SENT.
bool reply_mark_changed(std::string_view c) {
  size_t mark = c.find(".replymark:");
  if (!c.starts_with("dscp.") || mark == std::string_view::npos) return false;
  return c.substr(5, mark - 5) != c.substr(mark + 11);
}

}  // namespace

bool worth_locating(std::span<const std::string> conditions, ConnectMode mode) {
  static constexpr std::string_view kSuffixes[] = {
      ".connectivity.broken",  ".connectivity.offline", ".negotiation.failed",
      ".ipmark.ect0.not_seen", ".ipmark.ce.seen",       ".received.deflated",
      ".received.inflated",    ".cookie.not_received",  ".syndata.not_acked",
      ".syndata.failed",       ".mark.not_seen"};
  return std::ranges::any_of(conditions, [&](std::string_view c) {
    // Without data back (tcp, tcpsyn) no reply carries a mark: not seen says nothing.
    bool no_data = mode == ConnectMode::tcp || mode == ConnectMode::tcpsyn;
    if (no_data && (c.ends_with(".ipmark.ect0.not_seen") || c.ends_with(".mark.not_seen")))
      return false;
    return reply_mark_changed(c) ||
           std::ranges::any_of(kSuffixes, [&](std::string_view s) { return c.ends_with(s); });
  });
}

std::vector<std::pair<int, ConnectionRequest>> locate_probes(const Plugin& plugin,
                                                             const PluginOptions& opts,
                                                             const ConnectionRequest& base) {
  std::vector<std::pair<int, ConnectionRequest>> probes;
  if (!plugin.locate) return probes;
  // The configurations as the forge makes them: a SYN for TCP modes, the DNS query over UDP.
  PluginOptions forged = opts;
  forged.connect = opts.connect == ConnectMode::dnsudp ? ConnectMode::dnsudp : ConnectMode::tcpsyn;
  std::vector<Configuration> configs = plugin.configurations(forged);
  for (size_t i = 0; i < configs.size(); ++i) {
    int number = configs[i].number < 0 ? int(i) : configs[i].number;
    if (std::ranges::any_of(probes, [&](auto& p) { return p.first == number; })) continue;
    ConnectionRequest req = base;
    req.mode = forged.connect;
    req.forge = true;
    req.probes = 1;
    if (configs[i].apply) configs[i].apply(req, forged, size_t(number));
    plugin.locate(req, size_t(number));
    probes.emplace_back(number, req);
  }
  std::ranges::sort(probes, {}, &std::pair<int, ConnectionRequest>::first);
  return probes;
}

}  // namespace pspdr
