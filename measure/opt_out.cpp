#include "measure/opt_out.hpp"

#include <arpa/inet.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace pspdr {

OptOut::OptOut(const std::vector<std::string>& texts) {
  for (const std::string& t : texts) {
    Prefix p{};
    size_t slash = t.find('/');
    std::string addr = t.substr(0, slash);
    p.family = addr.find(':') == std::string::npos ? 4 : 6;
    int bits = p.family == 4 ? 32 : 128;
    p.len = slash == std::string::npos ? bits : std::atoi(t.c_str() + slash + 1);
    if (inet_pton(p.family == 4 ? AF_INET : AF_INET6, addr.c_str(), p.addr) != 1 || p.len < 0 ||
        p.len > bits)
      throw std::runtime_error("opt-out list: not an address or prefix: " + t);
    prefixes_.push_back(p);
  }
}

bool OptOut::contains(uint8_t family, const uint8_t* addr) const {
  for (const Prefix& p : prefixes_) {
    if (p.family != family) continue;
    int full = p.len / 8, rest = p.len % 8;
    if (std::memcmp(p.addr, addr, size_t(full)) != 0) continue;
    uint8_t mask = uint8_t(0xff << (8 - rest));
    if (rest == 0 || (p.addr[full] & mask) == (addr[full] & mask)) return true;
  }
  return false;
}

}  // namespace pspdr
