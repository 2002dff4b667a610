// An IPv4 or IPv6 address held by value, printed the way inet_ntop prints it.
#pragma once

#include <arpa/inet.h>

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

  // Formats into `buf` (kMaxText bytes) and returns a view of it.
  std::string_view format(char* buf) const {
    if (version_ == 0) return {};
    inet_ntop(version_ == 4 ? AF_INET : AF_INET6, bytes_, buf, kMaxText);
    return buf;
  }

 private:
  uint8_t bytes_[16] = {};
  uint8_t version_ = 0;
};

}  // namespace pspdr
