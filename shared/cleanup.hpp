// What a process must undo however it ends (an XDP program attached to an interface, a
// sysctl changed, ...), and the stop flag SIGINT/SIGTERM raise. Process-wide.
//
// The signal handler only sets the flag and wakes a helper thread through a pipe: the
// cleanups themselves run on that thread, in ordinary context, so they may allocate,
// lock and talk netlink (none of which is async-signal-safe).
#pragma once

#include <atomic>
#include <cstdint>

namespace pspdr {

using CleanupFn = void (*)(void* arg);

// Registers fn(arg) to run once: at run_cleanup(id), run_all_cleanups(), exit(), or when
// a stop signal ends the process. fn must not call the functions of this header.
uint64_t add_cleanup(CleanupFn fn, void* arg);
// Runs cleanup `id` now unless it already ran, and forgets it. If it is running on
// another thread, waits for it to finish: `arg` may be freed once this returns.
void run_cleanup(uint64_t id);
// Runs every registered cleanup, newest first: what a terminating signal does.
void run_all_cleanups();

// Set by the first SIGINT/SIGTERM once handle_stop_signals() ran; long loops poll it
// (relaxed loads are enough).
extern std::atomic<bool> stop_requested;

enum class OnStopSignal {
  // The first signal sets stop_requested: the program winds down and its destructors
  // undo what they did. A second one runs the cleanups and ends the process by it.
  stop_flag,
  // The first signal runs the cleanups and ends the process by it.
  terminate,
};
// Installs the SIGINT/SIGTERM handlers, the helper thread (created once, in the calling
// thread's network namespace, where its cleanups then talk netlink) and an exit() hook
// running the cleanups. Calling it again only changes the mode.
void handle_stop_signals(OnStopSignal mode);

}  // namespace pspdr
