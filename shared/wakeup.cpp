#include "shared/wakeup.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace pspdr {

int make_wakeup(bool inheritable) {
  int fd = eventfd(0, EFD_NONBLOCK | (inheritable ? 0 : EFD_CLOEXEC));
  if (fd < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
  return fd;
}

void wake(int fd) {
  uint64_t one = 1;
  // Fails only when the counter is full, and then the sleeper is woken already.
  [[maybe_unused]] ssize_t n = write(fd, &one, sizeof one);
}

void clear_wakeup(int fd) {
  uint64_t count;
  [[maybe_unused]] ssize_t n = read(fd, &count, sizeof count);
}

bool wait_readable(int fd, int timeout_ms) {
  pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
  return poll(&p, 1, timeout_ms) > 0;
}

void sleep_until_woken(int fd, int timeout_ms) {
  if (wait_readable(fd, timeout_ms)) clear_wakeup(fd);
}

}  // namespace pspdr
