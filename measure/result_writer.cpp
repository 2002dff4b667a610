#include "measure/result_writer.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pspdr {

// One write() per line; if it cannot be written whole, a regular file is cut back to its
// last complete line, and the run stops saying so.
void ResultWriter::write_line() {
  std::string_view text = w_.text();
  const int fd = fileno(out_);
  const off_t start = std::fflush(out_) == 0 ? lseek(fd, 0, SEEK_CUR) : -2;  // -1: a pipe
  for (size_t done = 0; start != -2 && done < text.size();) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : ENOSPC;
      if (start >= 0 && ftruncate(fd, start) == 0) lseek(fd, start, SEEK_SET);
      errno = err;
      ok_ = false;
      break;
    }
    done += size_t(n);
  }
  if (start == -2) ok_ = false;
  if (ok_) {
    ++lines_;
    return;
  }
  std::fprintf(stderr,
               "\npspdr measure: writing a result failed after %llu lines: %s; stopping (the "
               "lines written are complete: rerun with --resume to measure the rest)\n",
               (unsigned long long)lines_, std::strerror(errno));
}

}  // namespace pspdr
