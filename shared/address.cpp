#include "shared/address.hpp"

namespace pspdr {
namespace {

size_t format_ipv4(const uint8_t* b, char* buf) {
  size_t n = 0;
  for (int i = 0; i < 4; ++i) {
    if (i) buf[n++] = '.';
    unsigned v = b[i];
    if (v >= 100) buf[n++] = char('0' + v / 100);
    if (v >= 10) buf[n++] = char('0' + v / 10 % 10);
    buf[n++] = char('0' + v % 10);
  }
  return n;
}

size_t format_hex(unsigned v, char* buf) {
  static constexpr char hex[] = "0123456789abcdef";
  size_t n = 0;
  for (int shift = 12; shift >= 0; shift -= 4)
    if (unsigned d = (v >> shift) & 15; d || n || shift == 0) buf[n++] = hex[d];
  return n;
}

// glibc's inet_ntop6: the longest run of two or more zero groups (the first of equal
// ones) becomes "::"; ::a.b.c.d and ::ffff:a.b.c.d keep the IPv4 address dotted.
size_t format_ipv6(const uint8_t* b, char* buf) {
  unsigned words[8];
  for (int i = 0; i < 8; ++i) words[i] = unsigned(b[2 * i]) << 8 | b[2 * i + 1];
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    int j = i;
    while (j < 8 && words[j] == 0) ++j;
    if (j - i > best_len && j - i >= 2) best = i, best_len = j - i;
    i = j > i ? j : i + 1;
  }
  size_t n = 0;
  for (int i = 0; i < 8; ++i) {
    if (best >= 0 && i >= best && i < best + best_len) {
      if (i == best) buf[n++] = ':';
      continue;
    }
    if (i) buf[n++] = ':';
    if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && words[5] == 0xffff)))
      return n + format_ipv4(b + 12, buf + n);
    n += format_hex(words[i], buf + n);
  }
  if (best >= 0 && best + best_len == 8) buf[n++] = ':';
  return n;
}

}  // namespace

std::string_view IpAddress::format(char* buf) const {
  if (version_ == 0) return {};
  return {buf, version_ == 4 ? format_ipv4(bytes_, buf) : format_ipv6(bytes_, buf)};
}

}  // namespace pspdr
