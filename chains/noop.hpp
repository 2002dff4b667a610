// NoopChain: PATHspider's NoOpChain, which records nothing; for testing a pipeline and
// for scripts that name it.
#pragma once

#include <array>

#include "chains/chain.hpp"

namespace pspdr {

struct NoopChain {
  static constexpr std::string_view name = "noop";
  static constexpr std::string_view summary = "records nothing (PATHspider's NoOpChain)";
  static constexpr std::array<FieldDoc, 0> fields = {};

  struct State {};

  static void write(JsonWriter&, const State&) {}
};

}  // namespace pspdr
