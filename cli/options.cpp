#include "cli/options.hpp"

namespace pspdr::options {

bool parse_cores(const std::string& text, std::vector<int>& cores) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t comma = text.find(',', pos);
    std::string part =
        text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    int lo, hi;
    char extra;
    if (std::sscanf(part.c_str(), "%d-%d%c", &lo, &hi, &extra) == 2 && lo >= 0 && lo <= hi &&
        hi < 4096) {
      for (int c = lo; c <= hi; ++c) cores.push_back(c);
    } else if (std::sscanf(part.c_str(), "%d%c", &lo, &extra) == 1 && lo >= 0 && lo < 4096) {
      cores.push_back(lo);
    } else {
      return false;
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return !cores.empty();
}

}  // namespace pspdr::options
