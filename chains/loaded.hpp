// LoadedChain: the chain a plugin loaded at run time brings (docs/plugins.md). Its hooks
// are the plugin's, one indirect call each, made only for flows of a run whose plugin
// brought a chain (no ChainSet lists it otherwise); its state is a fixed block of every
// flow record that the plugin's own State is laid over, so the record's layout stays
// fixed at compile time. The plugin writes an ordinary chain (chain.hpp) and names it
// with ChainSet::with_loaded<C>().
#pragma once

#include <array>
#include <cstddef>
#include <new>
#include <string_view>
#include <type_traits>

#include "chains/chain.hpp"

namespace pspdr {

// A loaded chain's functions, made from its type by LoadedChain::hooks_of<C>().
struct LoadedChainHooks {
  std::string_view name;
  void (*new_flow)(void* state, const Packet& p);        // constructs the State, then C's new_flow
  bool (*ip)(void* state, const Packet& p, bool rev);    // nullptr: no such hook
  bool (*icmp)(void* state, const Packet& p, bool rev);  // nullptr: no such hook
  bool (*tcp)(void* state, const Packet& p, bool rev);   // nullptr: no such hook
  bool (*udp)(void* state, const Packet& p, bool rev);   // nullptr: no such hook
  void (*write)(JsonWriter& w, const void* state);
};

struct LoadedChain {
  static constexpr std::string_view name = "loaded";
  static constexpr std::string_view summary = "the chain of a plugin loaded with --plugin-dir";
  static constexpr std::array<FieldDoc, 0> fields = {};
  static constexpr bool syn_only_state = true;  // off the lines most packets touch
  static constexpr size_t kStateBytes = 16;     // what a loaded chain's State may take

  struct State {
    alignas(8) std::byte bytes[kStateBytes] = {};
  };

  // The loaded chain of this process's run (one plugin runs per process); set before
  // the observer starts, read by its workers.
  static inline const LoadedChainHooks* active = nullptr;

  static void new_flow(State& s, const Packet& p) { active->new_flow(s.bytes, p); }
  static bool ip(State& s, const Packet& p, bool rev) {
    return !active->ip || active->ip(s.bytes, p, rev);
  }
  static bool icmp(State& s, const Packet& p, bool rev) {
    return !active->icmp || active->icmp(s.bytes, p, rev);
  }
  static bool tcp(State& s, const Packet& p, bool rev) {
    return !active->tcp || active->tcp(s.bytes, p, rev);
  }
  static bool udp(State& s, const Packet& p, bool rev) {
    return !active->udp || active->udp(s.bytes, p, rev);
  }
  static void write(JsonWriter& w, const State& s) { active->write(w, s.bytes); }

  // Chain C's state in a loaded chain's block.
  template <class C>
  static const typename C::State& state_of(const State& s) {
    return *std::launder(reinterpret_cast<const typename C::State*>(s.bytes));
  }

  // The hooks of chain type C.
  template <class C>
  static const LoadedChainHooks* hooks_of() {
    using S = typename C::State;
    static_assert(sizeof(S) <= kStateBytes && alignof(S) <= 8,
                  "a loaded chain's State must fit LoadedChain::kStateBytes");
    static_assert(std::is_trivially_copyable_v<S> && std::is_trivially_destructible_v<S>,
                  "flow records are copied as bytes: a loaded chain's State must be too");
    static const LoadedChainHooks hooks{
        .name = C::name,
        .new_flow =
            [](void* s, const Packet& p) {
              S* state = new (s) S{};
              if constexpr (HasNewFlow<C>) C::new_flow(*state, p);
              (void)p;
            },
        .ip = hook<C, Hook::ip>(),
        .icmp = hook<C, Hook::icmp>(),
        .tcp = hook<C, Hook::tcp>(),
        .udp = hook<C, Hook::udp>(),
        .write = [](JsonWriter& w, const void* s) { C::write(w, *static_cast<const S*>(s)); },
    };
    return &hooks;
  }

 private:
  using Fn = bool (*)(void*, const Packet&, bool);
  template <class C, Hook H>
  static constexpr Fn hook() {
    if constexpr (!HasHook<C, H>) {
      return nullptr;
    } else {
      return [](void* s, const Packet& p, bool rev) {
        auto& state = *static_cast<typename C::State*>(s);
        if constexpr (H == Hook::ip) return C::ip(state, p, rev);
        if constexpr (H == Hook::icmp) return C::icmp(state, p, rev);
        if constexpr (H == Hook::tcp) return C::tcp(state, p, rev);
        if constexpr (H == Hook::udp) return C::udp(state, p, rev);
      };
    }
  }
};

}  // namespace pspdr
