#include "shared/compressed_file.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string_view>

namespace pspdr {
namespace {

struct Filter {
  std::string_view suffix;
  int (*add)(archive*);
};
constexpr std::array<Filter, 4> kFilters = {{{".gz", archive_write_add_filter_gzip},
                                             {".bz2", archive_write_add_filter_bzip2},
                                             {".xz", archive_write_add_filter_xz},
                                             {".zst", archive_write_add_filter_zstd}}};

const Filter* filter_for(const std::string& path) {
  for (const Filter& f : kFilters)
    if (path.ends_with(f.suffix)) return &f;
  return nullptr;
}

archive* open_reader(const std::string& path, std::string& error) {
  archive* a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_raw(a);
  archive_entry* entry;
  if (archive_read_open_filename(a, path.c_str(), 1 << 16) != ARCHIVE_OK ||
      archive_read_next_header(a, &entry) != ARCHIVE_OK) {
    error = archive_error_string(a) ? archive_error_string(a) : "not readable";
    errno = archive_errno(a) > 0 ? archive_errno(a) : EINVAL;
    archive_read_free(a);
    return nullptr;
  }
  return a;
}

archive* open_writer(const std::string& path, std::string& error) {
  archive* a = archive_write_new();
  filter_for(path)->add(a);
  archive_write_set_format_raw(a);
  archive_write_set_bytes_in_last_block(a, 1);  // no padding after the stream
  archive_entry* entry = archive_entry_new();
  archive_entry_set_filetype(entry, AE_IFREG);
  bool ok = archive_write_open_filename(a, path.c_str()) == ARCHIVE_OK &&
            archive_write_header(a, entry) == ARCHIVE_OK;
  archive_entry_free(entry);
  if (!ok) {
    error = archive_error_string(a) ? archive_error_string(a) : "not writable";
    errno = archive_errno(a) > 0 ? archive_errno(a) : EIO;
    archive_write_free(a);
    return nullptr;
  }
  return a;
}

ssize_t read_cookie(void* a, char* buf, size_t n) {
  la_ssize_t got = archive_read_data(static_cast<archive*>(a), buf, n);
  if (got < 0) errno = EIO;
  return got < 0 ? -1 : got;
}

ssize_t write_cookie(void* a, const char* buf, size_t n) {
  la_ssize_t put = archive_write_data(static_cast<archive*>(a), buf, n);
  if (put < 0)
    errno =
        archive_errno(static_cast<archive*>(a)) > 0 ? archive_errno(static_cast<archive*>(a)) : EIO;
  return put < 0 ? -1 : put;
}

int close_reader(void* a) {
  return archive_read_free(static_cast<archive*>(a)) == ARCHIVE_OK ? 0 : -1;
}

// Closing writes the end of the stream: a full disk shows here too.
int close_writer(void* a) {
  auto* w = static_cast<archive*>(a);
  int rc = archive_write_close(w);
  if (rc != ARCHIVE_OK) errno = archive_errno(w) > 0 ? archive_errno(w) : EIO;
  archive_write_free(w);
  return rc == ARCHIVE_OK ? 0 : -1;
}

}  // namespace

bool compressed_name(const std::string& path) {
  return filter_for(path) != nullptr;
}

FILE* open_compressed(const std::string& path, bool write, std::string& error) {
  archive* a = write ? open_writer(path, error) : open_reader(path, error);
  if (!a) return nullptr;
  cookie_io_functions_t io{};
  if (write) {
    io.write = write_cookie;
    io.close = close_writer;
  } else {
    io.read = read_cookie;
    io.close = close_reader;
  }
  return fopencookie(a, write ? "w" : "r", io);
}

int decompressed_copy(const std::string& path) {
  static constexpr std::array<std::string_view, 4> kMagics = {std::string_view("\x1f\x8b", 2),
                                                              "BZh",
                                                              std::string_view("\xfd"
                                                                               "7zXZ\0",
                                                                               6),
                                                              "\x28\xb5\x2f\xfd"};
  char head[6] = {};
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;  // the trace reader says why
  ssize_t n = ::read(fd, head, sizeof head);
  ::close(fd);
  bool compressed = false;
  for (std::string_view m : kMagics)
    compressed |= n >= ssize_t(m.size()) && std::string_view(head, m.size()) == m;
  if (!compressed) return -1;
  std::string error;
  archive* a = open_reader(path, error);
  if (!a) throw std::runtime_error(path + ": cannot decompress: " + error);
  int copy = memfd_create("pspdr-trace", MFD_CLOEXEC);
  char buf[1 << 16];
  la_ssize_t got;
  while ((got = archive_read_data(a, buf, sizeof buf)) > 0)
    if (::write(copy, buf, size_t(got)) != got) got = -1;
  if (got < 0) error = archive_error_string(a) ? archive_error_string(a) : std::strerror(errno);
  archive_read_free(a);
  if (got < 0) {
    ::close(copy);
    throw std::runtime_error(path + ": cannot decompress: " + error);
  }
  return copy;
}

}  // namespace pspdr
