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
    if (version_ == 6) {
      inet_ntop(AF_INET6, bytes_, buf, kMaxText);
      return buf;
    }
    // Dotted quads by hand: inet_ntop goes through printf, a cost paid on every record.
    size_t n = 0;
    for (int i = 0; i < 4; ++i) {
      if (i) buf[n++] = '.';
      unsigned v = bytes_[i];
      if (v >= 100) buf[n++] = char('0' + v / 100);
      if (v >= 10) buf[n++] = char('0' + v / 10 % 10);
      buf[n++] = char('0' + v % 10);
    }
    return {buf, n};
  }

 private:
  uint8_t bytes_[16] = {};
  uint8_t version_ = 0;
};

}  // namespace pspdr
