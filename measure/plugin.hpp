// A measurement plugin, PATHspider's way: the observer chains it needs (as types), the
// spider model that runs its connections, its configurations (A = 0, B = 1..n) and the
// combiner that turns one job's observed connections into path conditions.
//
// This header is pspdr's plugin API: built-in plugins (measure/plugins/, one file each,
// listed in measure/plugins/meson.build) and plugins built out of tree against the
// installed headers (pkg-config pspdr-plugin) use it alike; an out-of-tree plugin ends
// with PSPDR_PLUGIN(its Plugin) and is loaded with `pspdr measure --plugin-dir DIR`.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chains/chain_set.hpp"
#include "generators/connection.hpp"
#include "measure/syn_reply_chain.hpp"
#include "observer/flow_table.hpp"

namespace pspdr {

// Raised whenever this header, a chain's State or a connection's request or result
// changes in a way a built plugin would notice: a plugin built against another value is
// refused. The layout sizes are checked too (PluginEntry), as a second line.
constexpr uint32_t kPluginApiVersion = 5;

// PATHspider's spider models.
enum class SpiderModel {
  synchronized,    // system-wide configurations: every A of a round, then every B
  desynchronized,  // per-connection configurations: A then B for each job
  single,          // one connection per job
  forge,           // crafted packets, no connection state
  resolver,        // no connections: jobs in, resolved jobs out (dnsresolv)
};

// One connection of a job as the combiner sees it: what the generator reported and the
// flow record the observer made of its packets, typed.
struct Outcome {
  ConnectionResult connection;
  std::optional<Flow> flow;  // empty when the observer recorded no flow for it

  bool ok() const { return connection.state == SpdrState::ok; }
  bool observed() const { return flow.has_value(); }
  // Whether the target answered: in tcpsyn a SYN-ACK acknowledging the forged SYN
  // (SynReplyChain, which a plugin offering tcpsyn loads), otherwise a completed
  // connection.
  bool answered(ConnectMode mode) const;
  // Whether the handshake went through: in tcpsyn the same as answered() (the kernel
  // resets what follows a forged SYN's SYN-ACK), otherwise TcpChain's `connected`.
  bool handshake(ConnectMode mode) const;
  // Chain C's part of the flow record (C among the plugin's chains, or its loaded
  // chain); only when observed().
  template <class C>
  const typename C::State& chain() const {
    if constexpr (Chains::has<C>)
      return Chains::state_of<C>(flow->rec);
    else
      return LoadedChain::state_of<C>(Chains::state_of<LoadedChain>(flow->rec));
  }
};

struct PluginOptions {
  ConnectMode connect = ConnectMode::tcp;
  std::vector<int> codepoints;  // dscp: experimental codepoints
};

// What one configuration does: to every connection (socket options, forged fields) and,
// for the synchronized model, to the system while its connections run. A plugin's list
// runs in its order; a configuration may come more than once (PATHspider 2.0's A before
// every B: [A, B1, A, B2, ...]), so each says which it is.
struct Configuration {
  // `config` is the configuration's number.
  void (*apply)(ConnectionRequest& req, const PluginOptions& opts, size_t config) = nullptr;
  std::vector<std::pair<std::string, std::string>> sysctls;  // name (dotted), value
  int number = -1;  // A = 0, B1..Bn = 1..n, as "config" in flow_results; -1: its place
};

struct Plugin {
  std::string_view name;
  std::string_view description;
  SpiderModel model;
  ChainSet chains;  // ChainSet::of<BasicChain, TcpChain, ...>(), .with_loaded<OwnChain>()
  std::vector<ConnectMode> modes;  // supported connection modes; the first is the default
  bool takes_codepoints = false;   // accepts --codepoint
  std::vector<Configuration> (*configurations)(const PluginOptions& opts);
  std::vector<std::string> (*combine)(std::span<const Outcome> outcomes, const PluginOptions& opts);
  // --locate (locate/): null for a plugin whose configurations look alike on the path
  // (h2's differ above TCP), whose jobs are never traced. Otherwise called on each
  // configuration's forged probe after its apply(), for what the probe needs beyond it
  // (ecn: ECT(0) on B's SYN, so that a path clearing or setting the mark shows).
  void (*locate)(ConnectionRequest& probe, size_t config) = nullptr;
};

// Plugin::locate for a plugin whose configurations' probes need nothing more.
inline void locate_as_configured(ConnectionRequest&, size_t) {}

// What a plugin's shared object exports (PSPDR_PLUGIN): the API it was built for, the
// sizes of what crosses between it and pspdr, and the plugin.
struct PluginEntry {
  uint32_t api_version;
  uint32_t outcome_size, request_size;
  const Plugin* plugin;
};

// Every plugin, in the order `pspdr measure --help` lists them: the built-in ones, then
// those loaded (load_plugins).
std::span<const Plugin* const> plugins();
const Plugin* find_plugin(std::string_view name);
// Loads every plugin shared object (*.so) in `dir`. Throws std::runtime_error with one
// line naming the file for a file that is no plugin, a plugin built for another API
// version, or a name already taken.
void load_plugins(const std::string& dir);

std::string_view mode_name(ConnectMode mode);
std::optional<ConnectMode> parse_mode(std::string_view name);

// PATHspider's combine_connectivity: PREFIX.connectivity.works|broken|transient|offline
// for an A/B pair, PREFIX.connectivity.online|offline for a single connection.
std::string connectivity(std::string_view prefix, bool baseline);
std::string connectivity(std::string_view prefix, bool baseline, bool experimental);

namespace tcp_flags {  // masks of the SYN flags PATHspider's combiners compare
constexpr int syn = 0x02, ack = 0x10, ece = 0x40, cwr = 0x80;
constexpr int sa = syn | ack, sae = sa | ece, saec = sae | cwr;
}  // namespace tcp_flags

inline bool Outcome::answered(ConnectMode mode) const {
  if (mode != ConnectMode::tcpsyn) return ok();
  if (!observed()) return false;
  const SynReplyChain::State& reply = chain<SynReplyChain>();
  return reply.flags && (*reply.flags & tcp_flags::sa) == tcp_flags::sa &&
         reply.ack == connection.syn_seq + 1;
}

inline bool Outcome::handshake(ConnectMode mode) const {
  return mode == ConnectMode::tcpsyn ? answered(mode) : chain<TcpChain>().connected;
}

}  // namespace pspdr

// An out-of-tree plugin's one registration line, after its Plugin.
#define PSPDR_PLUGIN(plugin)                                          \
  extern "C" const ::pspdr::PluginEntry pspdr_plugin_entry = {        \
      ::pspdr::kPluginApiVersion, uint32_t(sizeof(::pspdr::Outcome)), \
      uint32_t(sizeof(::pspdr::ConnectionRequest)), &(plugin)}
