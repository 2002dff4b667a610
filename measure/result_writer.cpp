#include "measure/result_writer.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pspdr {

namespace {

// Writes all of `text` to `fd`; if it cannot, a regular file is cut back to where it
// was (`start`; a pipe, -1, cannot be) and errno says why.
bool write_whole(int fd, std::string_view text, off_t start) {
  for (size_t done = 0; done < text.size();) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : ENOSPC;
      if (start >= 0 && ftruncate(fd, start) == 0) lseek(fd, start, SEEK_SET);
      errno = err;
      return false;
    }
    done += size_t(n);
  }
  return true;
}

}  // namespace

// One write() per line, so the output holds complete lines only; on a failure the run
// stops saying so.
void ResultWriter::write_line() {
  const int fd = fileno(out_);
  // A compressed output (no descriptor of its own) takes whole lines through its stream.
  if (fd < 0)
    ok_ = std::fwrite(w_.text().data(), 1, w_.size(), out_) == w_.size() && std::fflush(out_) == 0;
  else
    ok_ = std::fflush(out_) == 0 && write_whole(fd, w_.text(), lseek(fd, 0, SEEK_CUR));
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
