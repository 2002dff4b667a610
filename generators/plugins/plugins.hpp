// What every plugin file uses, and the plugins the registry lists.
#pragma once

#include "generators/plugin.hpp"

namespace pspdr {

namespace tcp_flags {  // masks of the SYN flags PATHspider's combiners compare
constexpr int64_t syn = 0x02, ack = 0x10, ece = 0x40, cwr = 0x80;
constexpr int64_t sa = syn | ack, sae = sa | ece, saec = sae | cwr;
}  // namespace tcp_flags

extern const Plugin dnsresolv_plugin, dscp_plugin, ecn_plugin, evilbit_plugin, h2_plugin,
    mss_plugin, tfo_plugin, udpzero_plugin;

}  // namespace pspdr
