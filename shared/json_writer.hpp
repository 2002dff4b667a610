// A small ndjson writer: appends objects to a buffer that the owner flushes. Numbers are
// printed the way Python's json module prints them (shortest round-trip floats), so
// records read back identically to PATHspider's.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pspdr {

class JsonWriter {
 public:
  void begin_object() {
    out_.push_back('{');
    first_ = true;
  }
  void end_object() { out_.push_back('}'); }
  void end_line() { out_.push_back('\n'); }

  // Keys are field names written in the code (identifiers): appended without escaping.
  JsonWriter& key(std::string_view k) {
    out_.append(first_ ? "\"" : ", \"", first_ ? 1 : 3);
    first_ = false;
    out_ += k;
    out_.append("\": ", 3);
    return *this;
  }

  void null() { out_ += "null"; }
  void boolean(bool b) { out_ += b ? "true" : "false"; }
  template <class Int>
  void integer(Int v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
  }
  void number(double v);
  void string_value(std::string_view s);
  void raw(std::string_view s) { out_ += s; }

  // Optional values print null when empty, as PATHspider's None does.
  template <class T>
  void optional_integer(const std::optional<T>& v) {
    v ? integer(*v) : null();
  }
  void optional_boolean(const std::optional<bool>& v) { v ? boolean(*v) : null(); }

  // Convenience for the common "key: value" pairs of flow records.
  template <class T>
  void field(std::string_view k, const T& v) {
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

  std::string& buffer() { return out_; }
  void clear() { out_.clear(); }

 private:
  void escape(unsigned char c);

  std::string out_;
  bool first_ = true;
};

}  // namespace pspdr
