#include "cli/options.hpp"

#include <cstring>

#include "shared/compressed_file.hpp"

namespace pspdr::options {

namespace {
// A file named FILE.gz, .bz2, .xz or .zst is read or written through its compression.
FILE* open_file(const char* program, const std::string& path, const char* mode, FILE* standard) {
  if (path.empty() || path == "-") return standard;
  std::string why;
  FILE* f = compressed_name(path) ? open_compressed(path, *mode == 'w', why)
                                  : std::fopen(path.c_str(), mode);
  if (!f)
    std::fprintf(stderr, "%s: cannot %s %s: %s\n", program, *mode == 'r' ? "read" : "write",
                 path.c_str(), why.empty() ? std::strerror(errno) : why.c_str());
  return f;
}
}  // namespace

FILE* open_input(const char* program, const std::string& path) {
  return open_file(program, path, "r", stdin);
}

FILE* open_output(const char* program, const std::string& path) {
  return open_file(program, path, "w", stdout);
}

void close_input(FILE* in) {
  if (in != stdin) std::fclose(in);
}

bool close_output(const char* program, FILE* out, bool written, const std::string& path) {
  written = std::fflush(out) == 0 && written;
  if (out != stdout) written = std::fclose(out) == 0 && written;
  if (!written)
    std::fprintf(stderr, "%s: writing %s failed: %s\n", program,
                 path.empty() || path == "-" ? "standard output" : path.c_str(),
                 std::strerror(errno));
  return written;
}

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
