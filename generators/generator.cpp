#include "generators/generator.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <deque>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "generators/configurator.hpp"
#include "generators/connector.hpp"
#include "generators/raw_forge.hpp"
#include "shared/address.hpp"
#include "shared/rate_limiter.hpp"
#include "shared/wakeup.hpp"

namespace pspdr {
namespace {

SharedState* g_shared = nullptr;
constexpr int kIdleWaitMs = 100;

// The spider is gone (or a user stopped us): leave the system as it was found.
void on_terminate(int) {
  if (g_shared) Configurator::restore(*g_shared);
  _exit(1);
}

// "--shm FD --index I --max N", as the spider's GeneratorPool passes them.
bool parse_arguments(int argc, char** argv, int& fd, size_t& index, size_t& max) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view a = argv[i], v = argv[i + 1];
    uint64_t n = 0;
    auto [end, err] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (err != std::errc() || end != v.data() + v.size()) return false;
    if (a == "--shm" && n < (1 << 20))
      fd = int(n);
    else if (a == "--index" && n < kMaxGenerators)
      index = size_t(n);
    else if (a == "--max" && n >= 1 && n <= (1 << 24))
      max = size_t(n);
    else
      return false;
  }
  return fd >= 0 && max > 0;
}

}  // namespace

int generator_main(int argc, char** argv) {
  int fd = -1;
  size_t index = 0, max = 0;
  SharedState* shared =
      parse_arguments(argc, argv, fd, index, max) ? map_shared_state(fd) : nullptr;
  if (!shared) {
    std::fprintf(stderr,
                 "pspdr generate: the generator process of pspdr measure; not for "
                 "direct use\n");
    return 2;
  }
  return run_generator(*shared, index, max);
}

int run_generator(SharedState& shared, size_t index, size_t max_in_flight) {
  g_shared = &shared;
  signal(SIGTERM, on_terminate);
  signal(SIGINT, SIG_IGN);  // a terminal's ^C is the spider's to handle
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() == 1) on_terminate(0);  // the spider died before prctl took effect

  GeneratorChannel& ch = shared.channels[index];
  Connector connector(max_in_flight);
  connector.wake_on(shared.generator_wakeups[index]);  // the spider has pushed requests
  std::unique_ptr<RawForge> forge;                     // opened on the first forged packet
  std::unique_ptr<RateLimiter> forge_rate;             // made with it
  std::deque<ConnectionRequest> waiting;               // requests beyond max_in_flight
  std::deque<ConnectionResult> unsent;                 // results the ring had no room for
  std::vector<ConnectionResult> done;
  ConnectionRequest req;
  while (!ch.stop.load(std::memory_order_acquire)) {
    while (ch.requests.pop(std::span<ConnectionRequest>(&req, 1)) == 1) waiting.push_back(req);
    while (!waiting.empty()) {
      const ConnectionRequest& r = waiting.front();
      if (not_a_target(r.family, r.addr)) {
        // The job reader refuses such jobs; this guards whatever else may send requests.
        unsent.push_back(ConnectionResult{
            .id = r.id, .state = SpdrState::failed, .family = r.family, .error = EADDRNOTAVAIL});
      } else if (r.forge) {
        try {
          if (!forge) {
            forge = std::make_unique<RawForge>();
            forge_rate = std::make_unique<RateLimiter>(double(shared.forge_rate.load()), 16);
          }
          if (!forge_rate->take(r.probes, RateLimiter::Clock::now())) break;  // in a moment
          forge->queue(r, unsent);
        } catch (const std::runtime_error& e) {
          std::fprintf(stderr, "pspdr measure: generator %zu: %s\n", index, e.what());
          unsent.push_back(ConnectionResult{.id = r.id, .family = r.family, .error = EPERM});
        }
      } else if (!connector.start(r)) {
        break;  // full: wait for connections to finish
      }
      waiting.pop_front();
    }
    if (forge) forge->flush(unsent);
    done.clear();
    // Asleep until a connection needs us, the spider sends requests, or (at the latest)
    // a moment to see whether it said stop. Results the ring had no room for are tried
    // again soon: the spider is taking them.
    int wait = unsent.empty() ? kIdleWaitMs : 1;
    if (!waiting.empty() && forge_rate)
      wait = std::min(wait, forge_rate->wait_ms(waiting.front().probes, RateLimiter::Clock::now()));
    connector.poll(wait, done);
    unsent.insert(unsent.end(), done.begin(), done.end());
    bool pushed = false;
    while (!unsent.empty() && ch.results.push(unsent.front())) {
      unsent.pop_front();
      pushed = true;
    }
    if (pushed) wake(shared.spider_wakeup);
  }
  return 0;
}

}  // namespace pspdr
