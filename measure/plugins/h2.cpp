// h2: HTTP/2, by the h2c upgrade over http and by ALPN over https (libcurl).
#include "measure/plugin.hpp"

namespace pspdr {
namespace {

std::vector<Configuration> configurations(const PluginOptions&) {
  return {{nullptr, {}},
          {[](ConnectionRequest& req, const PluginOptions&, size_t) { req.http2 = true; }, {}}};
}

std::vector<std::string> combine(std::span<const Outcome> o, const PluginOptions&) {
  std::vector<std::string> c{connectivity("h2", o[0].ok(), o[1].ok())};
  if (o[0].ok() && o[1].ok())  // only with works, as PATHspider
    c.push_back(o[1].connection.http_version == 20 ? "h2.upgrade.success" : "h2.upgrade.failed");
  return c;
}

}  // namespace

extern const Plugin h2_plugin{
    .name = "h2",
    .description = "HTTP/2",
    .model = SpiderModel::desynchronized,
    .chains = ChainSet::of<BasicChain, TcpChain>(),
    .modes = {ConnectMode::http, ConnectMode::https},
    .configurations = configurations,
    .combine = combine,
};

}  // namespace pspdr
