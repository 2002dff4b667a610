// What `--locate` traces for a job: which jobs are worth it (their conditions show an
// impairment or a change), and one forged probe per configuration of the plugin, A
// first, as its configurations make them.
#pragma once

#include <span>
#include <string>
#include <utility>
#include <vector>

#include "measure/plugin.hpp"

namespace pspdr {

// Whether any of the conditions says a path broke or changed something: connectivity
// broken or offline, ECN not negotiated, ECT(0) not seen or CE seen, a DSCP reply mark
// other than the one sent, an MSS changed, no TFO cookie or SYN data not acknowledged, no
// evil bit back. With tcpsyn no data packet carries a mark: marks not seen say nothing.
bool worth_locating(std::span<const std::string> conditions, ConnectMode mode);

// `base`: the job's connection request (target, port, source, MSS, domain). Empty when
// the plugin has no Plugin::locate.
std::vector<std::pair<int, ConnectionRequest>> locate_probes(const Plugin& plugin,
                                                             const PluginOptions& opts,
                                                             const ConnectionRequest& base);

}  // namespace pspdr
