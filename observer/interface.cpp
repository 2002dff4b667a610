#include "observer/interface.hpp"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace pspdr {

std::string interface_problem(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ || if_nametoindex(name.c_str()) == 0)
    return "no interface " + name + " (see ip link; in a namespace, run inside it)";
  int probe = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name.c_str(), name.size());
  bool up = probe >= 0 && ioctl(probe, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP);
  if (probe >= 0) close(probe);
  return up ? "" : name + " is down: ip link set " + name + " up";
}

}  // namespace pspdr
