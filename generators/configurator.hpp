// PATHspider's configurator: the system-wide switches of a synchronized plugin, written
// under /proc/sys (no shell, no sysctl binary). The first change of each sysctl saves
// its original value in the shared state; restore() puts every saved value back -- the
// spider calls it on exit and on signals, a generator if the spider itself dies.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "generators/shared_state.hpp"

namespace pspdr {

class Configurator {
 public:
  explicit Configurator(SharedState& shared) : shared_(shared) {}
  ~Configurator() { restore(shared_); }
  Configurator(const Configurator&) = delete;
  Configurator& operator=(const Configurator&) = delete;

  // Sets each (dotted name, value); throws std::runtime_error naming the sysctl and the
  // cause (e.g. no permission) in one line.
  void apply(const std::vector<std::pair<std::string, std::string>>& sysctls);

  static void restore(SharedState& shared);

 private:
  SharedState& shared_;
};

}  // namespace pspdr
