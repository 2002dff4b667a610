// A small ndjson writer: appends objects to a buffer that the owner flushes. Numbers are
// printed the way Python's json module prints them (shortest round-trip floats), so
// records read back identically to PATHspider's. The buffer grows ahead of the text in
// it, so each write is one bounds check and a copy: records are written per flow, and
// on busy links that is often.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace pspdr {

// `v` as Python's repr() prints a float (shortest round trip, "1.0" for one), into `buf`.
std::string_view python_float(double v, char (&buf)[32]);

class JsonWriter {
 public:
  void begin_object() {
    append("{", 1);
    first_ = true;
  }
  void end_object() {
    append("}", 1);
    first_ = false;
  }
  // Arrays: element() before each value writes the separator.
  void begin_array() {
    append("[", 1);
    first_ = true;
  }
  void element() {
    if (!first_) append(", ", 2);
    first_ = false;
  }
  void end_array() {
    append("]", 1);
    first_ = false;
  }
  void end_line() { append("\n", 1); }

  // Keys are field names written in the code (identifiers): no escaping. Inlined into
  // each field() so the name's length is a constant and its copy a few moves.
  [[gnu::always_inline]] JsonWriter& key(std::string_view k) {
    char* p = room(k.size() + 6);
    char* start = p;
    if (!first_) {
      std::memcpy(p, ", ", 2);
      p += 2;
    }
    *p++ = '"';
    std::memcpy(p, k.data(), k.size());
    p += k.size();
    std::memcpy(p, "\": ", 3);
    len_ += size_t(p + 3 - start);
    first_ = false;
    return *this;
  }

  // A key from input (a job's member names): escaped as any string.
  JsonWriter& quoted_key(std::string_view k) {
    if (!first_) append(", ", 2);
    string_value(k);
    append(": ", 2);
    first_ = false;
    return *this;
  }

  [[gnu::always_inline]] void null() { append("null", 4); }
  [[gnu::always_inline]] void boolean(bool b) { b ? append("true", 4) : append("false", 5); }
  template <class Int>
  [[gnu::always_inline]] void integer(Int v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    append(buf, size_t(r.ptr - buf));
  }
  void number(double v);
  void string_value(std::string_view s);
  void raw(std::string_view s) { append(s.data(), s.size()); }

  // Optional values print null when empty, as PATHspider's None does.
  template <class T>
  [[gnu::always_inline]] void optional_integer(const std::optional<T>& v) {
    v ? integer(*v) : null();
  }
  [[gnu::always_inline]] void optional_boolean(const std::optional<bool>& v) {
    v ? boolean(*v) : null();
  }

  // Convenience for the common "key: value" pairs of flow records.
  template <class T>
  [[gnu::always_inline]] void field(std::string_view k, const T& v) {
    key(k);
    if constexpr (std::is_same_v<T, bool>)
      boolean(v);
    else if constexpr (std::is_same_v<T, std::optional<bool>>)
      optional_boolean(v);
    else if constexpr (std::is_same_v<T, double>)
      number(v);
    else if constexpr (std::is_integral_v<T>)
      integer(v);
    else if constexpr (std::is_convertible_v<T, std::string_view>)
      string_value(v);
    else
      optional_integer(v);
  }

  std::string_view text() const { return {out_.data(), len_}; }
  size_t size() const { return len_; }
  void clear() { len_ = 0; }
  // Moves the text into `s`, no copy made; the writer goes on, empty, in s's buffer.
  void swap_text(std::string& s) {
    out_.resize(len_);
    out_.swap(s);  // its length is now the room: as much as the chunk before held
    len_ = 0;
  }

 private:
  // Space for n more bytes at the end of the text (not yet counted in it).
  [[gnu::always_inline]] char* room(size_t n) {
    if (len_ + n > out_.size()) grow(n);
    return out_.data() + len_;
  }
  [[gnu::always_inline]] void append(const char* p, size_t n) {
    std::memcpy(room(n), p, n);
    len_ += n;
  }
  [[gnu::noinline]] void grow(size_t n) { out_.resize(std::max(out_.size() * 2, len_ + n + 4096)); }
  void escape(unsigned char c);

  std::string out_;  // out_.size() is room; the text is its first len_ bytes
  size_t len_ = 0;
  bool first_ = true;
};

}  // namespace pspdr
