// A measurement plugin, PATHspider's way: the observer chains it needs, the spider model
// that runs its connections, its configurations (A = 0, B = 1..n) and the combiner that
// turns one job's observed connections into path conditions. One file per plugin in
// generators/plugins/, listed in plugin_registry.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "generators/connection.hpp"

namespace pspdr {

// PATHspider's spider models.
enum class SpiderModel {
  synchronized,    // system-wide configurations: every A of a round, then every B
  desynchronized,  // per-connection configurations: A then B for each job
  single,          // one connection per job
  forge,           // crafted packets, no connection state
  resolver,        // no connections: jobs in, resolved jobs out (dnsresolv)
};

// A flow record's scalar fields by name: booleans as 0/1, null as none.
class FlowFields {
 public:
  void set(std::string name, std::optional<int64_t> value) {
    fields_.emplace_back(std::move(name), value);
  }
  std::optional<int64_t> get(std::string_view name) const {
    for (const auto& [n, v] : fields_)
      if (n == name) return v;
    return std::nullopt;
  }
  int64_t value(std::string_view name) const { return get(name).value_or(0); }
  bool flag(std::string_view name) const { return value(name) != 0; }

 private:
  std::vector<std::pair<std::string, std::optional<int64_t>>> fields_;
};

// One connection of a job as the combiner sees it.
struct Outcome {
  ConnectionResult connection;
  bool observed = false;  // the observer produced a flow record for it
  FlowFields flow;        // empty when not observed
  bool ok() const { return connection.state == SpdrState::ok; }
};

struct PluginOptions {
  ConnectMode connect = ConnectMode::tcp;
  std::vector<int> codepoints;  // dscp: experimental codepoints
};

// What one configuration does: to every connection (socket options, forged fields) and,
// for the synchronized model, to the system while its connections run.
struct Configuration {
  void (*apply)(ConnectionRequest& req, const PluginOptions& opts, size_t config) = nullptr;
  std::vector<std::pair<std::string, std::string>> sysctls;  // name (dotted), value
};

struct Plugin {
  std::string_view name;
  std::string_view description;
  SpiderModel model;
  std::vector<std::string_view> chains;
  std::vector<ConnectMode> modes;  // supported connection modes; the first is the default
  bool takes_codepoints = false;   // accepts --codepoint
  std::vector<Configuration> (*configurations)(const PluginOptions& opts);
  std::vector<std::string> (*combine)(std::span<const Outcome> outcomes, const PluginOptions& opts);
};

// Every plugin, in the order `pspdr measure --help` lists them.
std::span<const Plugin* const> plugins();
const Plugin* find_plugin(std::string_view name);

std::string_view mode_name(ConnectMode mode);
std::optional<ConnectMode> parse_mode(std::string_view name);

// PATHspider's combine_connectivity: PREFIX.connectivity.works|broken|transient|offline
// for an A/B pair, PREFIX.connectivity.online|offline for a single connection.
std::string connectivity(std::string_view prefix, bool baseline);
std::string connectivity(std::string_view prefix, bool baseline, bool experimental);

}  // namespace pspdr
