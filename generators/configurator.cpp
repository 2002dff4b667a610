#include "generators/configurator.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace pspdr {
namespace {

std::string proc_path(const std::string& name) {
  std::string path = "/proc/sys/" + name;
  std::replace(path.begin() + 10, path.end(), '.', '/');
  return path;
}

bool read_value(const char* path, std::string& value) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[64];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n < 0) return false;
  value.assign(buf, size_t(n));
  while (!value.empty() && value.back() == '\n') value.pop_back();
  return true;
}

bool write_value(const char* path, const char* value) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  size_t len = std::strlen(value);
  bool ok = write(fd, value, len) == ssize_t(len);
  close(fd);
  return ok;
}

}  // namespace

void Configurator::apply(const std::vector<std::pair<std::string, std::string>>& sysctls) {
  for (const auto& [name, value] : sysctls) {
    std::string path = proc_path(name);
    bool saved = false;
    for (uint32_t i = 0; i < shared_.sysctls_saved.load(); ++i)
      saved = saved || path == shared_.sysctls[i].path;
    if (!saved) {
      std::string original;
      uint32_t i = shared_.sysctls_saved.load();
      if (i == kMaxSysctls || path.size() >= sizeof shared_.sysctls[i].path ||
          !read_value(path.c_str(), original) || original.size() >= sizeof shared_.sysctls[i].value)
        throw std::runtime_error("cannot read sysctl " + name + ": " + std::strerror(errno));
      std::strcpy(shared_.sysctls[i].path, path.c_str());
      std::strcpy(shared_.sysctls[i].value, original.c_str());
      shared_.sysctls_saved.store(i + 1);
    }
    if (!write_value(path.c_str(), value.c_str()))
      throw std::runtime_error("cannot set sysctl " + name + "=" + value + ": " +
                               std::strerror(errno) + (errno == EACCES ? " (run as root)" : ""));
  }
}

void Configurator::restore(SharedState& shared) {
  for (uint32_t i = 0; i < shared.sysctls_saved.load(); ++i)
    write_value(shared.sysctls[i].path, shared.sysctls[i].value);
}

}  // namespace pspdr
