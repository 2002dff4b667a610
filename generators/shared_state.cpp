#include "generators/shared_state.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

namespace pspdr {

SharedMapping create_shared_state() {
  int fd = memfd_create("pspdr-measure", 0);  // no MFD_CLOEXEC: generators inherit it
  if (fd < 0 || ftruncate(fd, sizeof(SharedState)) != 0)
    throw std::runtime_error(std::string("shared memory for the generators: ") +
                             std::strerror(errno));
  SharedState* s = map_shared_state(fd);
  if (!s) throw std::runtime_error(std::string("mapping shared memory: ") + std::strerror(errno));
  return {new (s) SharedState, fd};
}

SharedState* map_shared_state(int fd) {
  void* p = mmap(nullptr, sizeof(SharedState), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  return p == MAP_FAILED ? nullptr : static_cast<SharedState*>(p);
}

}  // namespace pspdr
