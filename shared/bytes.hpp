// Unaligned big-endian loads and stores. Every header view reads the wire through these.
#pragma once

#include <cstdint>
#include <cstring>

namespace pspdr {

inline uint16_t load_be16(const uint8_t* p) {
  return uint16_t(p[0] << 8 | p[1]);
}
inline uint32_t load_be32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}
inline uint64_t load_be64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return __builtin_bswap64(v);
}
inline uint16_t load_le16(const uint8_t* p) {
  return uint16_t(p[1] << 8 | p[0]);
}
inline uint32_t load_le32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

inline void store_be16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}
inline void store_be32(uint8_t* p, uint32_t v) {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
}
inline void store_be64(uint8_t* p, uint64_t v) {
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
}

// A read-only byte range. Views never own the bytes they point at.
struct Bytes {
  const uint8_t* data = nullptr;
  uint32_t size = 0;

  bool empty() const { return size == 0; }
  const uint8_t* begin() const { return data; }
  const uint8_t* end() const { return data + size; }
  uint8_t operator[](uint32_t i) const { return data[i]; }
  Bytes sub(uint32_t off, uint32_t len) const {
    if (off > size) return {data + size, 0};
    return {data + off, len < size - off ? len : size - off};
  }
  Bytes from(uint32_t off) const {
    return off > size ? Bytes{data + size, 0} : Bytes{data + off, size - off};
  }
};

}  // namespace pspdr
