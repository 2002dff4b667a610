// The flow table at several sizes (lookups in random order, and insert/erase churn at a
// constant size), and the whole observer per packet: Observer::on_frame (argument 1) or
// on_frames in bursts of 64 with every chain over a synthesised trace held in memory,
// records formatted and written to /dev/null.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "chains/chain_set.hpp"
#include "observer/flow_table.hpp"
#include "observer/observer.hpp"
#include "observer/record_writer.hpp"
#include "shared/synth.hpp"

namespace pspdr {
namespace {

// Distinct IPv4 TCP keys from random addresses and ports.
std::vector<FlowKey> random_keys(size_t n, uint64_t seed) {
  SplitMix64 rng(seed);
  std::vector<FlowKey> keys(n);
  for (FlowKey& k : keys) {
    uint64_t r = rng.next();
    k.version = 4;
    k.proto = 6;
    std::memcpy(k.src, &r, 4);
    std::memcpy(k.dst, reinterpret_cast<uint8_t*>(&r) + 4, 4);
    k.sport = uint16_t(rng.next());
    k.dport = 443;
  }
  return keys;
}

void BM_FlowTableFind(benchmark::State& state) {
  size_t n = size_t(state.range(0));
  std::vector<FlowKey> keys = random_keys(n, 1);
  FlowTable table{uint32_t(n)};
  std::vector<uint64_t> hashes;
  for (const FlowKey& k : keys) {
    hashes.push_back(k.symmetric_hash());
    table.insert(k, hashes.back());
  }
  // Look up in a random order, as packets of many flows interleave.
  std::vector<uint32_t> order(n);
  SplitMix64 rng(2);
  for (uint32_t& i : order) i = rng.below(uint32_t(n));
  size_t i = 0;
  for (auto _ : state) {
    uint32_t k = order[i];
    benchmark::DoNotOptimize(table.find(keys[k], hashes[k]));
    i = i + 1 == n ? 0 : i + 1;
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(BM_FlowTableFind)->Arg(1 << 10)->Arg(1 << 16)->Arg(1 << 20);

// Each iteration adds a new flow and removes the oldest, so the size stays at n.
void BM_FlowTableInsertErase(benchmark::State& state) {
  size_t n = size_t(state.range(0));
  std::vector<FlowKey> keys = random_keys(2 * n, 3);
  std::vector<uint64_t> hashes;
  for (const FlowKey& k : keys) hashes.push_back(k.symmetric_hash());
  FlowTable table{uint32_t(n)};
  std::vector<uint32_t> ids(2 * n);  // id of key i, while it is in the table
  for (size_t i = 0; i < n; ++i) ids[i] = table.insert(keys[i], hashes[i]);
  size_t oldest = 0, next = n;
  for (auto _ : state) {
    table.erase(ids[oldest]);
    ids[next] = table.insert(keys[next], hashes[next]);
    oldest = oldest + 1 == keys.size() ? 0 : oldest + 1;
    next = next + 1 == keys.size() ? 0 : next + 1;
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(BM_FlowTableInsertErase)->Arg(1 << 10)->Arg(1 << 16)->Arg(1 << 20);

// A synthesised trace copied into one buffer, as a memory-mapped trace file would be.
struct MemoryTrace {
  std::vector<uint8_t> bytes;
  std::vector<Frame> frames;
  double span = 0;  // seconds from the first packet to the last

  explicit MemoryTrace(uint64_t flows) {
    TraceSynth synth(SynthOptions{.flows = flows});
    std::vector<std::pair<double, size_t>> at;  // time and offset, until bytes stop moving
    SynthPacket p;
    while (synth.next(p)) {
      at.emplace_back(p.ts, bytes.size());
      bytes.insert(bytes.end(), p.data, p.data + p.size);
    }
    for (size_t i = 0; i < at.size(); ++i) {
      size_t end = i + 1 < at.size() ? at[i + 1].second : bytes.size();
      uint32_t len = uint32_t(end - at[i].second);
      frames.push_back({bytes.data() + at[i].second, len, len, at[i].first, LinkType::ethernet});
    }
    span = frames.back().ts - frames.front().ts;
  }
};

void BM_ObserverAllChains(benchmark::State& state) {
  static const MemoryTrace trace(20000);
  size_t burst = size_t(state.range(0));
  std::vector<Frame> frames(burst);
  ChainSet chains = ChainSet::all();
  FILE* null = std::fopen("/dev/null", "w");
  {
    NdjsonFlowWriter writer(chains, null);
    Observer observer(chains, ObserverOptions{}, writer);
    // Each lap replays the trace later than the last one ended, so its flows are new.
    double shift = 0;
    size_t i = 0;
    for (auto _ : state) {
      for (Frame& f : frames) {
        f = trace.frames[i];
        f.ts += shift;
        if (++i == trace.frames.size()) {
          i = 0;
          shift += trace.span + 60;
        }
      }
      if (burst == 1)
        observer.on_frame(frames[0]);
      else
        observer.on_frames(frames);
    }
    observer.flush();
    state.counters["flows"] = double(observer.stats().flows);
  }
  std::fclose(null);
  int64_t packets = int64_t(state.iterations() * burst);
  state.SetItemsProcessed(packets);
  state.SetBytesProcessed(packets * int64_t(trace.bytes.size()) / int64_t(trace.frames.size()));
}
BENCHMARK(BM_ObserverAllChains)->Arg(1)->Arg(64);

}  // namespace
}  // namespace pspdr

BENCHMARK_MAIN();
