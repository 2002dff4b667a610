// An IPv4 or IPv6 address held by value, printed the way inet_ntop prints it.
#pragma once

#include <arpa/inet.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace pspdr {

class IpAddress {
 public:
  static constexpr size_t kMaxText = INET6_ADDRSTRLEN;

  IpAddress() = default;
  IpAddress(uint8_t version, const uint8_t* bytes) : version_(version) {
    std::memcpy(bytes_, bytes, version == 4 ? 4 : 16);
  }
  uint8_t version() const { return version_; }
  const uint8_t* bytes() const { return bytes_; }
  bool operator==(const IpAddress& o) const {
    return version_ == o.version_ && std::memcmp(bytes_, o.bytes_, sizeof bytes_) == 0;
  }

  // Formats into `buf` (kMaxText bytes) and returns a view of it: exactly inet_ntop's
  // text, written by hand (inet_ntop goes through printf, a cost paid on every record).
  std::string_view format(char* buf) const;

 private:
  uint8_t bytes_[16] = {};
  uint8_t version_ = 0;
};

// Why a measurement must never send to `addr` (family 4 or 6, network byte order), or
// nullptr if it is a unicast address. Unspecified, broadcast, multicast and reserved
// addresses reach no single target: a job naming one would flood or probe a network.
inline const char* not_a_target(uint8_t family, const uint8_t* addr) {
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (family == 6 && std::memcmp(addr, kMapped, 12) == 0) return not_a_target(4, addr + 12);
  if (family == 6) {
    static constexpr uint8_t kZero[16] = {};
    if (std::memcmp(addr, kZero, 16) == 0) return "the unspecified address";
    if (addr[0] == 0xff) return "a multicast address";
    return nullptr;
  }
  if (addr[0] == 0) return "an unspecified address (0.0.0.0/8)";
  if (addr[0] >= 224 && addr[0] < 240) return "a multicast address";
  if (addr[0] == 255 && addr[1] == 255 && addr[2] == 255 && addr[3] == 255)
    return "the broadcast address";
  if (addr[0] >= 240) return "a reserved address (240.0.0.0/4)";
  return nullptr;
}

}  // namespace pspdr
