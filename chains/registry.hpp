// The registry: every chain the observer knows, in one type list. Adding a chain means
// writing its header and naming it here; lookup by name, the flow record layout and
// dispatch all follow from this list at compile time.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <tuple>
#include <utility>

#include "chains/basic.hpp"
#include "chains/dns.hpp"
#include "chains/dscp.hpp"
#include "chains/ecn.hpp"
#include "chains/evil.hpp"
#include "chains/icmp.hpp"
#include "chains/loaded.hpp"
#include "chains/mss.hpp"
#include "chains/noop.hpp"
#include "chains/tcp.hpp"
#include "chains/tcpopt.hpp"
#include "chains/tfo.hpp"
#include "chains/udp.hpp"

namespace pspdr {

template <class... Chains>
struct ChainList {
  static constexpr size_t count = sizeof...(Chains);
  static constexpr std::array<std::string_view, count> names = {Chains::name...};
  static constexpr std::array<std::string_view, count> summaries = {Chains::summary...};

 private:
  // The states of the chains whose syn_only_state is `want`, in one tuple.
  template <bool want>
  using Part = decltype(std::tuple_cat(
      std::declval<std::conditional_t<HasSynOnlyState<Chains> == want,
                                      std::tuple<typename Chains::State>, std::tuple<>>>()...));
  static constexpr std::array<bool, count> state_is_syn_only = {HasSynOnlyState<Chains>...};
  // Chain i's place in its part.
  static constexpr size_t part_index(size_t i) {
    size_t n = 0;
    for (size_t j = 0; j < i; ++j) n += state_is_syn_only[j] == state_is_syn_only[i];
    return n;
  }

 public:
  // Every chain's state; a flow record holds all of them, used or not, so its layout is
  // fixed and no allocation happens per flow. The states any packet may change come
  // first, those only SYNs change last: most packets touch only a flow's first lines.
  struct Record {
    Part<false> every_packet;
    Part<true> syn_only;
  };

  // Whether C is a chain of the list (a loaded plugin's own chain is not).
  template <class C>
  static constexpr bool has = (std::is_same_v<C, Chains> || ...);

  // Chain C's id: its place in the list.
  template <class C>
  static constexpr uint8_t id_of() {
    constexpr size_t i = [] {
      constexpr std::array<bool, count> is_c = {std::is_same_v<C, Chains>...};
      for (size_t j = 0; j < count; ++j)
        if (is_c[j]) return j;
      return count;
    }();
    static_assert(i < count, "not a chain of the registry");
    return uint8_t(i);
  }

  // Chain C's state in a record.
  template <class C, class R>
  static auto& state_of(R& rec) {
    return state<id_of<C>()>(rec);
  }

  // By name, whatever its case, as PATHspider's observe matches them.
  static std::optional<uint8_t> find(std::string_view name) {
    auto same = [](std::string_view a, std::string_view b) {
      return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return (x >= 'A' && x <= 'Z' ? char(x + 32) : x) == y;
             });
    };
    for (size_t i = 0; i < count; ++i)
      if (same(name, names[i])) return uint8_t(i);
    return std::nullopt;
  }

  template <Hook H>
  static constexpr std::array<bool, count> has_hook = {HasHook<Chains, H>...};

  // Calls chain `id`'s hook H. The fold expands to a switch the compiler inlines.
  template <Hook H>
  static bool call(uint8_t id, Record& rec, const Packet& p, bool rev) {
    return call_impl<H>(id, rec, p, rev, std::index_sequence_for<Chains...>{});
  }

  static void new_flow(uint8_t id, Record& rec, const Packet& p) {
    visit(id, [&]<size_t I>() {
      using C = std::tuple_element_t<I, std::tuple<Chains...>>;
      if constexpr (HasNewFlow<C>) C::new_flow(state<I>(rec), p);
    });
  }

  static void write(uint8_t id, JsonWriter& w, const Record& rec) {
    visit(id, [&]<size_t I>() {
      using C = std::tuple_element_t<I, std::tuple<Chains...>>;
      C::write(w, state<I>(rec));
    });
  }

  // Metadata of chain `id` for --list-chains and docs.
  template <class Fn>
  static void describe(uint8_t id, Fn&& fn) {
    visit(id, [&]<size_t I>() {
      using C = std::tuple_element_t<I, std::tuple<Chains...>>;
      fn(C::name, C::summary, std::span<const FieldDoc>(C::fields));
    });
  }

 private:
  // Chain I's state in a record.
  template <size_t I, class R>
  static auto& state(R& rec) {
    if constexpr (state_is_syn_only[I])
      return std::get<part_index(I)>(rec.syn_only);
    else
      return std::get<part_index(I)>(rec.every_packet);
  }

  template <class Fn>
  static void visit(uint8_t id, Fn&& fn) {
    [&]<size_t... I>(std::index_sequence<I...>) {
      (void)((id == I ? (fn.template operator()<I>(), true) : false) || ...);
    }
    (std::index_sequence_for<Chains...>{});
  }

  template <Hook H, size_t... I>
  static bool call_impl(uint8_t id, Record& rec, const Packet& p, bool rev,
                        std::index_sequence<I...>) {
    bool keep = true;
    (void)((id == I ? (keep = invoke<H, Chains, I>(rec, p, rev), true) : false) || ...);
    return keep;
  }

  template <Hook H, class C, size_t I>
  static bool invoke(Record& rec, const Packet& p, bool rev) {
    auto& s = state<I>(rec);
    if constexpr (!HasHook<C, H>)
      return true;
    else if constexpr (H == Hook::ip)
      return C::ip(s, p, rev);
    else if constexpr (H == Hook::icmp)
      return C::icmp(s, p, rev);
    else if constexpr (H == Hook::tcp)
      return C::tcp(s, p, rev);
    else
      return C::udp(s, p, rev);
  }
};

// PATHspider's chains in its own order, then the project's additions; last the place of
// a loaded plugin's own chain, which no name selects.
using Chains = ChainList<BasicChain, TcpChain, EcnChain, DscpChain, EvilChain, IcmpChain, MssChain,
                         NoopChain, TfoChain, UdpChain, DnsChain, TcpoptChain, LoadedChain>;
constexpr uint8_t kLoadedChain = Chains::id_of<LoadedChain>();
using FlowRecordState = Chains::Record;

}  // namespace pspdr
