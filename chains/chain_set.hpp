// A selection of chains, resolved once from names. Per packet it runs PATHspider's
// dispatch: IP hooks, then ICMP hooks, then TCP or UDP hooks, each in the order the
// chains were named, stopping at the first hook that returns false (PATHspider's
// `keep_flow = keep_flow and fn(...)`). That order therefore matters and is kept.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chains/registry.hpp"

namespace pspdr {

class ChainSet {
 public:
  // Throws std::invalid_argument naming the first unknown or repeated chain.
  static ChainSet from_names(std::span<const std::string> names);
  static ChainSet all();
  // The chains of the types given, in that order (a plugin's chains).
  template <class... C>
  static ChainSet of() {
    ChainSet set;
    (set.add(Chains::id_of<C>()), ...);
    return set;
  }
  // These chains and, last, C: a chain of a loaded plugin's own (chains/loaded.hpp).
  template <class C>
  ChainSet with_loaded() const {
    ChainSet set = *this;
    set.loaded_ = LoadedChain::hooks_of<C>();
    set.add(kLoadedChain);
    return set;
  }
  // The loaded chain among them, or nullptr; LoadedChain::active must be it while
  // records are made or written.
  const LoadedChainHooks* loaded() const { return loaded_; }

  std::span<const uint8_t> ids() const { return {ids_, count_}; }
  bool empty() const { return count_ == 0; }
  std::vector<std::string_view> names() const;

  void new_flow(FlowRecordState& rec, const Packet& p) const {
    for (uint8_t id : ids()) Chains::new_flow(id, rec, p);
  }

  // Runs the chains on a packet of an existing flow; false: the flow is complete.
  bool on_packet(FlowRecordState& rec, const Packet& p, bool rev) const {
    if (!run<Hook::ip>(ip_, rec, p, rev)) return false;
    if (p.icmp && !run<Hook::icmp>(icmp_, rec, p, rev)) return false;
    if (p.tcp) return run<Hook::tcp>(tcp_, rec, p, rev);
    if (p.udp) return run<Hook::udp>(udp_, rec, p, rev);
    return true;
  }

  void write(JsonWriter& w, const FlowRecordState& rec) const {
    for (uint8_t id : ids()) Chains::write(id, w, rec);
  }

 private:
  struct Phase {
    uint8_t ids[Chains::count];
    uint8_t n = 0;
  };

  template <Hook H>
  static bool run(const Phase& ph, FlowRecordState& rec, const Packet& p, bool rev) {
    for (uint8_t i = 0; i < ph.n; ++i)
      if (!Chains::call<H>(ph.ids[i], rec, p, rev)) return false;
    return true;
  }

  void add(uint8_t id);

  uint8_t ids_[Chains::count] = {};
  uint8_t count_ = 0;
  const LoadedChainHooks* loaded_ = nullptr;
  Phase ip_, icmp_, tcp_, udp_;
};

}  // namespace pspdr
