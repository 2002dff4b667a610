// Sleeping on work instead of polling for it: an eventfd one side signals when it has
// handed something over (a ring push) and the other side sleeps on, alone or in an
// epoll set. Threads share it; processes inherit it across exec (`inheritable`), the
// descriptor number travelling in shared memory.
#pragma once

namespace pspdr {

// A new eventfd (non-blocking); throws std::runtime_error when none can be made.
int make_wakeup(bool inheritable);
// Something is waiting for the other side. Cheap enough to call after every batch.
void wake(int fd);
// Sleeps until woken or timeout_ms passes (-1: no limit), and resets the wakeup.
void sleep_until_woken(int fd, int timeout_ms);
// Resets a wakeup that an epoll set reported.
void clear_wakeup(int fd);
// Sleeps until `fd` is readable or timeout_ms passes; whether it is readable. For any
// descriptor: a capture socket as well as a wakeup.
bool wait_readable(int fd, int timeout_ms);

}  // namespace pspdr
