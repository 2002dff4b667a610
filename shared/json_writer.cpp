#include "shared/json_writer.hpp"

#include <cmath>

namespace pspdr {

void JsonWriter::number(double v) {
  if (!std::isfinite(v)) {
    null();  // JSON has no NaN or infinity
    return;
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  std::string_view s(buf, size_t(r.ptr - buf));
  out_ += s;
  // Python prints integral floats with ".0"; keep the type visible the same way.
  if (s.find_first_of(".e") == std::string_view::npos) out_ += ".0";
}

void JsonWriter::string_value(std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out_.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out_ += "\\\"";
        break;
      case '\\':
        out_ += "\\\\";
        break;
      case '\n':
        out_ += "\\n";
        break;
      case '\r':
        out_ += "\\r";
        break;
      case '\t':
        out_ += "\\t";
        break;
      default:
        if (c < 0x20) {
          out_ += "\\u00";
          out_.push_back(hex[c >> 4]);
          out_.push_back(hex[c & 15]);
        } else {
          out_.push_back(char(c));
        }
    }
  }
  out_.push_back('"');
}

}  // namespace pspdr
