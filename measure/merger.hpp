// The merger: pairs each connection of a job with the flow the observer recorded of it,
// by the flow's destination, ports and protocol (the client's address is the same for
// every connection) and by time: its first packet came while the connection ran.
// Connection results and flows come in either order; whichever comes second makes the
// pair. Flows are the observer's typed records: nothing is formatted or parsed here.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <unordered_map>
#include <utility>

#include "observer/flow_table.hpp"

namespace pspdr {

struct MergeKey {
  uint8_t dst[16] = {};
  uint16_t sport = 0, dport = 0;
  uint8_t proto = 0, family = 0;
  bool operator==(const MergeKey& o) const { return std::memcmp(this, &o, sizeof o) == 0; }
};

// The key of a flow as the observer oriented it (its first packet: ours, to the target).
MergeKey merge_key(const Flow& flow);
// The key of a connection from local port `sport` to the target `addr`:`dport`.
MergeKey merge_key(uint8_t family, const uint8_t* addr, uint16_t sport, uint16_t dport,
                   uint8_t proto);

// Whether a flow whose first packet came at `first` is that of a connection which ran
// from `started` to `finished` (a second of slack for the clocks).
inline bool begun_during(double first, double started, double finished) {
  return first >= started - 1 && first <= finished + 1;
}

struct MergeKeyHash {
  size_t operator()(const MergeKey& k) const;
};

// `Waiter` names a connection (the spider's job and configuration).
template <class Waiter>
class Merger {
 public:
  // A connection's result came: its flow if the observer has recorded it (handed over
  // and forgotten here); otherwise the connection waits for it.
  std::optional<Flow> connection(const MergeKey& key, double started, double finished,
                                 Waiter waiter) {
    auto [begin, end] = flows_.equal_range(key);
    for (auto it = begin; it != end; ++it)
      if (begun_during(it->second.pkt_first, started, finished)) {
        Flow f = std::move(it->second);
        flows_.erase(it);
        return f;
      }
    waiting_.emplace(key, Waiting{waiter, started, finished});
    return std::nullopt;
  }

  // A flow came from the observer: the waiting connection it belongs to, if any (then
  // it no longer waits); otherwise the flow is kept for a connection yet to report.
  std::optional<Waiter> flow(const Flow& flow) {
    MergeKey key = merge_key(flow);
    auto [begin, end] = waiting_.equal_range(key);
    for (auto it = begin; it != end; ++it)
      if (begun_during(flow.pkt_first, it->second.started, it->second.finished)) {
        Waiter w = it->second.waiter;
        waiting_.erase(it);
        return w;
      }
    flows_.emplace(key, flow);
    return std::nullopt;
  }

  // The connection's flow is not coming (its job is finished without it).
  void give_up(const MergeKey& key, const Waiter& waiter) {
    auto [begin, end] = waiting_.equal_range(key);
    for (auto it = begin; it != end; ++it)
      if (it->second.waiter == waiter) {
        waiting_.erase(it);
        return;
      }
  }

  // Forgets flows begun before `before` that no connection claimed: other traffic.
  void forget(double before) {
    std::erase_if(flows_, [&](const auto& kv) { return kv.second.pkt_first < before; });
  }
  size_t flows() const { return flows_.size(); }
  size_t waiting() const { return waiting_.size(); }

 private:
  struct Waiting {
    Waiter waiter;
    double started, finished;
  };
  std::unordered_multimap<MergeKey, Flow, MergeKeyHash> flows_;
  std::unordered_multimap<MergeKey, Waiting, MergeKeyHash> waiting_;
};

}  // namespace pspdr
