// Option values every pspdr command parses the same way, and the one-line usage error.
#pragma once

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli/command.hpp"

namespace pspdr::options {

// A whole number in [lo, hi] (decimal, or 0x hex); false on anything else.
template <class T>
bool parse_count(const char* text, uint64_t lo, uint64_t hi, T& out) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(text, &end, 0);
  if (errno || end == text || *end || *text == '-' || v < lo || v > hi) return false;
  out = T(v);
  return true;
}

// A positive number of seconds, at most a year.
inline bool parse_seconds(const char* text, double& out) {
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(text, &end);
  if (errno || end == text || *end || !(v > 0) || !std::isfinite(v) || v > 86400 * 365)
    return false;
  out = v;
  return true;
}

// "" or "-": standard input (output); otherwise the named file. nullptr, after a
// one-line error naming PROGRAM, if it cannot be opened.
FILE* open_input(const char* program, const std::string& path);
FILE* open_output(const char* program, const std::string& path);
void close_input(FILE* in);
// Closes `out` (unless standard output); false, after a one-line error, if anything
// written was lost (`written` false: something already was).
bool close_output(const char* program, FILE* out, bool written, const std::string& path);

// "2,3" or "2-5,8": CPU numbers; false on anything else.
bool parse_cores(const std::string& text, std::vector<int>& cores);

// Prints "PROGRAM: MESSAGE (see PROGRAM --help)" and returns the usage exit status.
inline int usage_error(const char* program, const std::string& msg) {
  std::fprintf(stderr, "%s: %s (see %s --help)\n", program, msg.c_str(), program);
  return exit_status::usage;
}

}  // namespace pspdr::options
