// dpdk_rx_bench: the live observer (run_live, every chain, records formatted and
// written to /dev/null) on a DpdkSource for a fixed time; prints the packets per second
// it observed. bench/capacity compares that with dpdk-testpmd on the same device.
//
//   dpdk_rx_bench SECONDS QUEUES MBUFS FIRST_CORE "EAL ARGS"
//
// Queue q's worker is pinned to core FIRST_CORE + q; EAL's -l decides where the main
// thread (and the record writer it starts) runs.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "chains/chain_set.hpp"
#include "observer/dpdk_source.hpp"
#include "observer/live_pipeline.hpp"

int main(int argc, char** argv) {
  using namespace pspdr;
  if (argc != 6) {
    std::fprintf(stderr, "usage: dpdk_rx_bench SECONDS QUEUES MBUFS FIRST_CORE \"EAL ARGS\"\n");
    return 2;
  }
  const double seconds = std::atof(argv[1]);
  DpdkOptions opts;
  opts.queues = uint16_t(std::atoi(argv[2]));
  opts.mbufs = uint32_t(std::strtoul(argv[3], nullptr, 10));
  const int first_core = std::atoi(argv[4]);
  try {
    DpdkSource source(argv[5], opts);
    FILE* out = std::fopen("/dev/null", "w");
    if (!out) return 1;
    LiveOptions live;
    live.duration = seconds;
    for (uint32_t q = 0; q < source.queues(); ++q) live.cores.push_back(first_core + int(q));
    std::atomic<bool> stop{false};
    ChainSet chains = ChainSet::all();
    LiveResult r = run_live(source, chains, ObserverOptions{}, live, out, stop);
    std::fclose(out);
    uint64_t dropped = 0;
    for (const QueueCounters& q : r.queues) dropped += q.dropped;
    // Per second of the capture itself: r.seconds also counts the flush at the end.
    std::printf("packets %llu seconds %.1f pps %.0f dropped %llu flows %llu source %s\n",
                (unsigned long long)r.stats.packets, seconds, double(r.stats.packets) / seconds,
                (unsigned long long)dropped, (unsigned long long)r.stats.flows,
                source.describe().c_str());
  } catch (const SourceError& e) {
    std::fprintf(stderr, "dpdk_rx_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
