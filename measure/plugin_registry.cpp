// The plugin registry: the built-in plugins (measure/plugins/meson.build lists them),
// then those loaded from plugin directories; and the names PATHspider gives connection
// modes.
#include <dlfcn.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "measure/plugin.hpp"
#include "measure/plugins/builtin_plugins.hpp"

namespace pspdr {

#define PSPDR_DECLARE(name) extern const Plugin name##_plugin;
PSPDR_BUILTIN_PLUGINS(PSPDR_DECLARE)
#undef PSPDR_DECLARE

namespace {

constexpr std::pair<ConnectMode, std::string_view> kModes[] = {
    {ConnectMode::tcp, "tcp"},       {ConnectMode::http, "http"},
    {ConnectMode::https, "https"},   {ConnectMode::dnstcp, "dnstcp"},
    {ConnectMode::dnsudp, "dnsudp"}, {ConnectMode::tcpsyn, "tcpsyn"},
};

std::vector<const Plugin*>& registry() {
#define PSPDR_ADDRESS(name) &name##_plugin,
  static std::vector<const Plugin*> all = {PSPDR_BUILTIN_PLUGINS(PSPDR_ADDRESS)};
#undef PSPDR_ADDRESS
  return all;
}

// The plugin a shared object exports, checked against this build of pspdr.
const Plugin* load_plugin(const std::filesystem::path& file) {
  // RTLD_NODELETE: the plugin's code stays mapped however the handle ends.
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (!handle) throw std::runtime_error(std::string("cannot load plugin: ") + dlerror());
  auto* entry = static_cast<const PluginEntry*>(dlsym(handle, "pspdr_plugin_entry"));
  if (!entry)
    throw std::runtime_error(file.string() + ": not a pspdr plugin (no PSPDR_PLUGIN entry)");
  if (entry->api_version != kPluginApiVersion || entry->outcome_size != sizeof(Outcome) ||
      entry->request_size != sizeof(ConnectionRequest))
    throw std::runtime_error(file.string() + ": built for plugin API version " +
                             std::to_string(entry->api_version) + ", this pspdr has version " +
                             std::to_string(kPluginApiVersion) +
                             " (or other headers): rebuild it against this pspdr's headers "
                             "(pkg-config pspdr-plugin)");
  return entry->plugin;
}

}  // namespace

std::span<const Plugin* const> plugins() {
  return registry();
}

const Plugin* find_plugin(std::string_view name) {
  for (const Plugin* p : plugins())
    if (p->name == name) return p;
  return nullptr;
}

void load_plugins(const std::string& dir) {
  std::error_code err;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir, err))
    if (e.path().extension() == ".so") files.push_back(e.path());
  if (err) throw std::runtime_error("plugin directory " + dir + ": " + err.message());
  std::sort(files.begin(), files.end());  // a stable --help order
  for (const auto& file : files) {
    const Plugin* p = load_plugin(file);
    if (find_plugin(p->name))
      throw std::runtime_error(file.string() + ": a plugin named '" + std::string(p->name) +
                               "' is already loaded");
    registry().push_back(p);
  }
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
