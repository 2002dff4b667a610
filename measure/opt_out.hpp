// The opt-out list: addresses and prefixes a campaign never contacts (--opt-out).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pspdr {

class OptOut {
 public:
  // Each text an address or "address/length"; throws std::runtime_error naming a bad one.
  explicit OptOut(const std::vector<std::string>& texts);
  // Whether the target `addr` (network byte order) is in the list.
  bool contains(uint8_t family, const uint8_t* addr) const;

 private:
  struct Prefix {
    uint8_t family;
    uint8_t addr[16];
    int len;
  };
  std::vector<Prefix> prefixes_;
};

}  // namespace pspdr
