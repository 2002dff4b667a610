#include "shared/cleanup.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace pspdr {

std::atomic<bool> stop_requested{false};

namespace {

struct Entry {
  uint64_t id;
  CleanupFn fn;
  void* arg;
};

// Cleanups run with the mutex held, so run_cleanup() returning means none is running.
struct Registry {
  std::mutex mutex;
  std::vector<Entry> entries;
  uint64_t next_id = 1;
};

// Never destroyed: cleanups may run from exit(), after static destructors began.
Registry& registry() {
  static Registry* r = new Registry;
  return *r;
}

std::atomic<bool> graceful{true};
int wake_fd = -1;  // write end of the pipe to the helper thread; set before the handlers

void on_signal(int sig) {
  int saved = errno;
  bool again = stop_requested.exchange(true);
  if (again || !graceful.load()) {
    unsigned char s = static_cast<unsigned char>(sig);
    [[maybe_unused]] ssize_t n = write(wake_fd, &s, 1);
  }
  errno = saved;
}

[[noreturn]] void helper_thread(int read_fd) {
  unsigned char sig = 0;
  while (read(read_fd, &sig, 1) != 1) {
  }
  run_all_cleanups();
  // End the process by the signal itself, so its parent sees how it ended.
  std::signal(sig, SIG_DFL);
  kill(getpid(), sig);
  for (;;) pause();
}

void start_helper() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) std::abort();
  wake_fd = fds[1];
  std::thread(helper_thread, fds[0]).detach();
  std::atexit(run_all_cleanups);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

}  // namespace

uint64_t add_cleanup(CleanupFn fn, void* arg) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  r.entries.push_back({r.next_id, fn, arg});
  return r.next_id++;
}

void run_cleanup(uint64_t id) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  for (auto it = r.entries.begin(); it != r.entries.end(); ++it) {
    if (it->id != id) continue;
    Entry e = *it;
    r.entries.erase(it);
    e.fn(e.arg);
    return;
  }
}

void run_all_cleanups() {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  while (!r.entries.empty()) {
    Entry e = r.entries.back();
    r.entries.pop_back();
    e.fn(e.arg);
  }
}

void handle_stop_signals(OnStopSignal mode) {
  graceful.store(mode == OnStopSignal::stop_flag);
  static std::once_flag once;
  std::call_once(once, start_helper);
}

}  // namespace pspdr
