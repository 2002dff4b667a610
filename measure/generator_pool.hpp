// The spider's side of the generators: the shared memory every generator's channel
// lives in, with the wakeups both sides sleep on. GeneratorPool runs each generator as
// a process (`pspdr generate`, generators/); tests serve the channels themselves.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <vector>

#include "generators/shared_state.hpp"

namespace pspdr {

class Generators {
 public:
  explicit Generators(size_t count);  // throws std::runtime_error
  virtual ~Generators();
  Generators(const Generators&) = delete;
  Generators& operator=(const Generators&) = delete;

  SharedState& shared() { return *mapping_.state; }
  size_t size() const { return count_; }
  GeneratorChannel& channel(size_t i) { return shared().channels[i]; }
  // Generators that died since the last call, each replaced by a fresh one (with a
  // fresh channel: what the dead one held is gone).
  virtual std::vector<size_t> restart_dead() = 0;

 protected:
  void reset_channel(size_t i);
  SharedMapping mapping_;
  size_t count_;
};

// Generator processes, restarted when they die; stopped (then killed) at the end.
class GeneratorPool final : public Generators {
 public:
  GeneratorPool(size_t count, size_t max_in_flight);
  ~GeneratorPool() override;
  std::vector<size_t> restart_dead() override;

 private:
  void spawn(size_t i);
  size_t max_in_flight_;
  std::vector<pid_t> pids_;
};

}  // namespace pspdr
