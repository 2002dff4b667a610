// The memory `pspdr measure` shares with its generator processes (a memfd each child
// maps): per generator, a ring of connection requests in and a ring of results out;
// the wakeups each side sleeps on; and the original values of every sysctl the
// configurator changed, so that whichever process outlives the others can put them back.
#pragma once

#include <atomic>
#include <cstddef>

#include "generators/connection.hpp"
#include "shared/spsc_ring.hpp"

namespace pspdr {

constexpr size_t kMaxGenerators = 8;
constexpr size_t kRingSlots = 4096;
constexpr size_t kMaxSysctls = 8;

struct GeneratorChannel {
  SpscRing<ConnectionRequest, kRingSlots> requests;  // spider -> generator
  SpscRing<ConnectionResult, kRingSlots> results;    // generator -> spider
  std::atomic<bool> stop{false};                     // the spider is done: exit
};

struct SysctlBackup {
  char path[96];   // under /proc/sys
  char value[64];  // as read before the first change
};

struct SharedState {
  std::atomic<uint32_t> sysctls_saved{0};
  SysctlBackup sysctls[kMaxSysctls];
  GeneratorChannel channels[kMaxGenerators];
  // Wakeups (shared/wakeup.hpp), descriptors every process inherits at these numbers:
  // the spider wakes generator i when it pushed requests, a generator (or the
  // observer) wakes the spider when it pushed results. Both sides sleep until then.
  int generator_wakeups[kMaxGenerators] = {};
  int spider_wakeup = -1;
  // Packets per second each generator may forge at most (--rate shared among them, so
  // that the wire never sees more than --rate whatever each one's delays); 0: no limit.
  // Set by the spider before its first request.
  std::atomic<uint64_t> forge_rate{0};
};

// A fresh SharedState in a memfd; its descriptor is inherited by exec'd children.
struct SharedMapping {
  SharedState* state = nullptr;
  int fd = -1;
};
SharedMapping create_shared_state();    // throws std::runtime_error
SharedState* map_shared_state(int fd);  // in a child; nullptr on failure

}  // namespace pspdr
