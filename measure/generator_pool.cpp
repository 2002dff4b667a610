#include "measure/generator_pool.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>

#include "shared/wakeup.hpp"

extern char** environ;

namespace pspdr {

Generators::Generators(size_t count) : mapping_(create_shared_state()), count_(count) {
  shared().spider_wakeup = make_wakeup(true);
  for (size_t i = 0; i < count; ++i) shared().generator_wakeups[i] = make_wakeup(true);
}

Generators::~Generators() {
  for (size_t i = 0; i < count_; ++i) close(shared().generator_wakeups[i]);
  close(shared().spider_wakeup);
}

void Generators::reset_channel(size_t i) {
  GeneratorChannel* ch = &shared().channels[i];
  ch->~GeneratorChannel();
  new (ch) GeneratorChannel;
}

GeneratorPool::GeneratorPool(size_t count, size_t max_in_flight)
    : Generators(count), max_in_flight_(max_in_flight), pids_(count, -1) {
  for (size_t i = 0; i < count; ++i) spawn(i);
}

GeneratorPool::~GeneratorPool() {
  for (size_t i = 0; i < pids_.size(); ++i) {
    channel(i).stop.store(true);
    wake(shared().generator_wakeups[i]);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (pid_t pid : pids_) {
    while (pid > 0 && waitpid(pid, nullptr, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
}

std::vector<size_t> GeneratorPool::restart_dead() {
  std::vector<size_t> dead;
  for (size_t i = 0; i < pids_.size(); ++i) {
    int status;
    if (waitpid(pids_[i], &status, WNOHANG) == pids_[i]) {
      dead.push_back(i);
      spawn(i);
    }
  }
  return dead;
}

void GeneratorPool::spawn(size_t i) {
  reset_channel(i);
  std::string fd = std::to_string(mapping_.fd), index = std::to_string(i),
              max = std::to_string(max_in_flight_);
  const char* argv[] = {"pspdr",       "generate", "--shm",     fd.c_str(), "--index",
                        index.c_str(), "--max",    max.c_str(), nullptr};
  pid_t pid;
  int err =
      posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, const_cast<char**>(argv), environ);
  if (err) throw std::runtime_error(std::string("cannot start a generator: ") + strerror(err));
  pids_[i] = pid;
}

}  // namespace pspdr
