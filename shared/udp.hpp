// UDP header view.
#pragma once

#include <cstdint>

#include "shared/bytes.hpp"

namespace pspdr {

struct UdpView {
  const uint8_t* hdr = nullptr;
  uint32_t caplen = 0;  // captured bytes from hdr to the end of the frame

  explicit operator bool() const { return hdr != nullptr; }
  uint16_t sport() const { return load_be16(hdr); }
  uint16_t dport() const { return load_be16(hdr + 2); }
  uint16_t length() const { return load_be16(hdr + 4); }
  uint16_t checksum() const { return load_be16(hdr + 6); }
  // Captured bytes after the header (link padding included, as libtrace reports them).
  Bytes payload() const { return Bytes{hdr + 8, caplen - 8}; }
};

}  // namespace pspdr
