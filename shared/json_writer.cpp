#include "shared/json_writer.hpp"

#include <cmath>
#include <cstring>

namespace pspdr {

std::string_view python_float(double v, char (&buf)[32]) {
  auto r = std::to_chars(buf, buf + 29, v);
  std::string_view s(buf, size_t(r.ptr - buf));
  // Python prints integral floats with ".0"; keep the type visible the same way.
  // (A plain loop: find_first_of calls memchr once per character, on every timestamp.)
  for (char c : s)
    if (c == '.' || c == 'e' || c == 'n') return s;
  std::memcpy(r.ptr, ".0", 2);
  return {buf, s.size() + 2};
}

void JsonWriter::number(double v) {
  if (!std::isfinite(v)) {
    null();  // JSON has no NaN or infinity
    return;
  }
  char buf[32];
  raw(python_float(v, buf));
}

namespace {

// Whether any byte of `w` needs a look: a control character, a quote, a backslash (to
// escape) or a byte outside ASCII (UTF-8 to check). Exact, by the has-byte-less-than and
// has-zero-byte tricks (Bit Twiddling Hacks).
bool any_to_escape(uint64_t w) {
  constexpr uint64_t ones = 0x0101010101010101, highs = ones * 0x80;
  auto zero_byte = [](uint64_t x) { return (x - ones) & ~x & highs; };
  return (((w - ones * 0x20) & ~w & highs) | zero_byte(w ^ (ones * '"')) |
          zero_byte(w ^ (ones * '\\')) | (w & highs)) != 0;
}

// The length of the well-formed UTF-8 sequence starting at s[i] (RFC 3629: no overlong
// forms, no surrogates, nothing past U+10FFFF), or 0 if there is none.
size_t utf8_length(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return i + k < s.size() ? (unsigned char)s[i + k] : 0u; };
  auto cont = [&](size_t k) { return (byte(k) & 0xc0) == 0x80; };
  unsigned c = byte(0), c1 = byte(1);
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    bool second = c == 0xe0 ? c1 >= 0xa0 : c == 0xed ? c1 <= 0x9f : true;
    return second && cont(1) && cont(2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    bool second = c == 0xf0 ? c1 >= 0x90 : c == 0xf4 ? c1 <= 0x8f : true;
    return second && cont(1) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

}  // namespace

void JsonWriter::string_value(std::string_view s) {
  append("\"", 1);
  // Eight bytes at a time while none needs escaping (every key, nearly every value),
  // then byte by byte, appending the runs that need none whole.
  size_t i = 0;
  for (uint64_t w; i + 8 <= s.size(); i += 8) {
    std::memcpy(&w, s.data() + i, 8);
    if (any_to_escape(w)) break;
  }
  // Bytes that are not UTF-8 (hostile input, a packet's bytes) become U+FFFD, so the
  // output is always valid JSON.
  size_t run = 0;
  for (; i < s.size(); ++i) {
    unsigned char c = s[i];
    if (c >= 0x80) {
      if (size_t n = utf8_length(s, i)) {
        i += n - 1;
        continue;
      }
      append(s.data() + run, i - run);
      append("\\ufffd", 6);
      run = i + 1;
      continue;
    }
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    append(s.data() + run, i - run);
    escape(c);
    run = i + 1;
  }
  append(s.data() + run, s.size() - run);
  append("\"", 1);
}

void JsonWriter::escape(unsigned char c) {
  static constexpr char hex[] = "0123456789abcdef";
  switch (c) {
    case '"':
      return append("\\\"", 2);
    case '\\':
      return append("\\\\", 2);
    case '\n':
      return append("\\n", 2);
    case '\r':
      return append("\\r", 2);
    case '\t':
      return append("\\t", 2);
    default: {  // the other control characters
      const char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      return append(u, 6);
    }
  }
}

}  // namespace pspdr
