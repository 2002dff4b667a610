#include "observer/trace_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "shared/compressed_file.hpp"

namespace pspdr {
namespace {

constexpr uint32_t kPcapMicro = 0xa1b2c3d4;
constexpr uint32_t kPcapNano = 0xa1b23c4d;
constexpr uint32_t kPcapKuznetzov = 0xa1b2cd34;  // "modified pcap": 24-byte records
constexpr uint32_t kPcapngShb = 0x0a0d0d0a;
constexpr uint32_t kPcapngByteOrder = 0x1a2b3c4d;
constexpr uint32_t kMaxSnap = 256 * 1024;  // libpcap's own ceiling for a record
constexpr uint64_t kPrefetchAhead = 4096;
constexpr uint64_t kPopulateWindow = 32 << 20;  // a multiple of the page size
constexpr int kMadvPopulateRead = 22;           // MADV_POPULATE_READ, newer than glibc 2.36

enum Block : uint32_t { kIdb = 1, kOpb = 2, kSpb = 3, kEpb = 6 };

std::string hex32(uint32_t v) {
  char b[16];
  snprintf(b, sizeof b, "0x%08x", v);
  return b;
}

// A compressed trace (gzip, bzip2, xz, zstd) is decompressed into memory first and
// mapped from there; the check is one read of its first bytes.
int open_trace(const std::string& path) {
  try {
    if (int copy = decompressed_copy(path); copy >= 0) return copy;
  } catch (const std::runtime_error& e) {
    throw TraceOpenError(e.what());
  }
  return ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
}

}  // namespace

TraceFile::TraceFile(const std::string& path) : path_(path) {
  int fd = open_trace(path);
  if (fd < 0) throw TraceOpenError(path + ": " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw TraceOpenError(path + ": not a regular file (live sources come with pspdr-observe)");
  }
  size_ = uint64_t(st.st_size);
  if (size_ < 4) {
    ::close(fd);
    throw TraceOpenError(path + ": not a pcap or pcapng file (only " + std::to_string(size_) +
                         " bytes)");
  }
  void* map = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) throw TraceOpenError(path + ": cannot map: " + std::strerror(errno));
  // Two hints (they are not flags to combine): read ahead, and drop pages once passed.
  madvise(map, size_, MADV_SEQUENTIAL);
  madvise(map, size_, MADV_WILLNEED);
  data_ = static_cast<const uint8_t*>(map);
  mapping_.reset(data_,
                 [size = size_](const uint8_t* p) { munmap(const_cast<uint8_t*>(p), size); });

  uint32_t magic;
  std::memcpy(&magic, data_, 4);
  if (magic == kPcapngShb) {
    pcapng_ = true;
    if (!read_section_header(0)) {
      throw TraceOpenError(path + ": not a usable pcapng file: " + damage_);
    }
    return;
  }
  uint32_t swapped = __builtin_bswap32(magic);
  auto is_pcap = [](uint32_t v) {
    return v == kPcapMicro || v == kPcapNano || v == kPcapKuznetzov;
  };
  if (!is_pcap(magic) && !is_pcap(swapped)) {
    throw TraceOpenError(path + ": not a pcap or pcapng file (starts with " + hex32(magic) + ")");
  }
  swapped_ = !is_pcap(magic);
  uint32_t m = swapped_ ? swapped : magic;
  nanoseconds_ = m == kPcapNano;
  record_header_ = m == kPcapKuznetzov ? 24 : 16;
  if (size_ < 24) {
    throw TraceOpenError(path + ": pcap file header cut short (" + std::to_string(size_) +
                         " bytes)");
  }
  // The upper bits of the link field carry FCS information, not the type.
  link_ = checked_link(u32(data_ + 20) & 0xffff);
  pos_ = 24;
}

uint32_t TraceFile::u32(const uint8_t* p) const {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return swapped_ ? __builtin_bswap32(v) : v;
}

uint16_t TraceFile::u16(const uint8_t* p) const {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return swapped_ ? __builtin_bswap16(v) : v;
}

LinkType TraceFile::checked_link(uint32_t number) {
  if (auto t = link_type_from_number(number)) return *t;
  if (std::find(unsupported_.begin(), unsupported_.end(), number) == unsupported_.end())
    unsupported_.push_back(number);
  return LinkType::unknown;
}

bool TraceFile::stop(uint64_t at, const std::string& what) {
  damage_ = what + " at byte offset " + std::to_string(at);
  pos_ = size_;
  return false;
}

bool TraceFile::next(Frame& f) {
  // Mapping the file page by page on first touch costs a fault per 4 KiB; populating the
  // page tables a window ahead costs one call per window (Linux 5.14+; older kernels
  // refuse the advice and fault as before).
  if (pos_ + kPopulateWindow / 2 > populated_ && populated_ < size_) {
    uint64_t len = std::min<uint64_t>(kPopulateWindow, size_ - populated_);
    madvise(const_cast<uint8_t*>(data_) + populated_, len, kMadvPopulateRead);
    populated_ += len;
  }
  // Each record is found from the one before, so reading them is a chain of cache misses
  // the hardware cannot overlap; prefetching the file ahead of the reader breaks it.
  for (uint64_t end = std::min(pos_ + kPrefetchAhead, size_); prefetched_ < end; prefetched_ += 64)
    __builtin_prefetch(data_ + prefetched_);
  return pcapng_ ? next_pcapng(f) : next_pcap(f);
}

bool TraceFile::next_pcap(Frame& f) {
  if (pos_ == size_) return false;
  if (size_ - pos_ < record_header_)
    return stop(pos_, "record header cut short (" + std::to_string(size_ - pos_) + " of " +
                          std::to_string(record_header_) + " bytes)");
  const uint8_t* h = data_ + pos_;
  uint32_t sec = u32(h), frac = u32(h + 4), caplen = u32(h + 8), wirelen = u32(h + 12);
  if (caplen > kMaxSnap && caplen > wirelen)
    return stop(pos_, "implausible record length " + std::to_string(caplen));
  if (size_ - pos_ - record_header_ < caplen)
    return stop(pos_, "record of " + std::to_string(caplen) + " bytes cut short (" +
                          std::to_string(size_ - pos_ - record_header_) + " left)");
  f.data = h + record_header_;
  f.caplen = caplen;
  f.wirelen = wirelen;
  f.ts = double(sec) + double(frac) / (nanoseconds_ ? 1e9 : 1e6);
  f.link = link_;
  pos_ += record_header_ + caplen;
  return true;
}

bool TraceFile::read_section_header(uint64_t at) {
  if (size_ - at < 28) return stop(at, "section header block cut short");
  uint32_t order;
  std::memcpy(&order, data_ + at + 8, 4);
  if (order == kPcapngByteOrder)
    swapped_ = false;
  else if (__builtin_bswap32(order) == kPcapngByteOrder)
    swapped_ = true;
  else
    return stop(at, "bad byte-order magic " + hex32(order));
  uint32_t len = u32(data_ + at + 4);
  if (len < 28 || len % 4 || len > size_ - at)
    return stop(at, "bad section header length " + std::to_string(len));
  if (u32(data_ + at + len - 4) != len) return stop(at, "section header trailer length mismatch");
  interfaces_.clear();
  pos_ = at + len;
  return true;
}

bool TraceFile::read_interface(uint64_t at, const uint8_t* body, uint32_t len) {
  if (len < 8) return stop(at, "interface description block cut short");
  Interface ifc;
  uint32_t number = u16(body);
  ifc.link = checked_link(number);
  ifc.snaplen = u32(body + 4);
  // Options: code(2) length(2) value padded to 4.
  uint32_t p = 8;
  while (p + 4 <= len) {
    uint16_t code = u16(body + p), olen = u16(body + p + 2);
    if (code == 0) break;
    if (p + 4 + olen > len) return stop(at, "interface option runs past its block");
    const uint8_t* v = body + p + 4;
    if (code == 9 && olen >= 1) {  // if_tsresol
      uint8_t r = v[0];
      uint64_t ups = 1;
      for (int i = 0; i < (r & 0x7f) && ups < (uint64_t(1) << 62); ++i) ups *= (r & 0x80) ? 2 : 10;
      ifc.units_per_second = ups;
    } else if (code == 14 && olen >= 8) {  // if_tsoffset
      uint64_t off = uint64_t(u32(v)) | uint64_t(u32(v + 4)) << 32;
      if (swapped_) off = uint64_t(u32(v)) << 32 | u32(v + 4);
      ifc.offset_seconds = int64_t(off);
    }
    p += 4 + ((olen + 3u) & ~3u);
  }
  interfaces_.push_back(ifc);
  return true;
}

bool TraceFile::next_pcapng(Frame& f) {
  for (;;) {
    if (pos_ == size_) return false;
    uint64_t at = pos_;
    if (size_ - at < 12) return stop(at, "block header cut short");
    uint32_t type = u32(data_ + at);
    if (type == kPcapngShb) {
      if (!read_section_header(at)) return false;
      continue;
    }
    uint32_t len = u32(data_ + at + 4);
    if (len < 12 || len % 4) return stop(at, "bad block length " + std::to_string(len));
    if (len > size_ - at)
      return stop(at, "block of " + std::to_string(len) + " bytes cut short (" +
                          std::to_string(size_ - at) + " left)");
    if (u32(data_ + at + len - 4) != len) return stop(at, "block trailer length mismatch");
    const uint8_t* body = data_ + at + 8;
    uint32_t body_len = len - 12;
    pos_ = at + len;

    uint32_t ifid = 0, caplen = 0, wirelen = 0;
    uint64_t ts_units = 0;
    const uint8_t* pkt = nullptr;
    if (type == kIdb) {
      if (!read_interface(at, body, body_len)) return false;
      continue;
    } else if (type == kEpb || type == kOpb) {
      if (body_len < 20) return stop(at, "packet block cut short");
      ifid = type == kEpb ? u32(body) : u16(body);
      ts_units = uint64_t(u32(body + 4)) << 32 | u32(body + 8);
      caplen = u32(body + 12);
      wirelen = u32(body + 16);
      if (caplen > body_len - 20)
        return stop(at, "captured length " + std::to_string(caplen) + " exceeds its block");
      pkt = body + 20;
    } else if (type == kSpb) {
      if (body_len < 4) return stop(at, "simple packet block cut short");
      wirelen = u32(body);
      caplen = std::min(wirelen, body_len - 4);
      pkt = body + 4;
    } else {
      continue;  // name resolution, statistics, custom blocks: nothing to observe
    }
    if (ifid >= interfaces_.size())
      return stop(at, "packet for undeclared interface " + std::to_string(ifid));
    const Interface& ifc = interfaces_[ifid];
    // An SPB's captured length is its original length cut to the interface's snap
    // length (pcapng spec, as libpcap reads it); its block's padding is not packet data.
    if (type == kSpb && ifc.snaplen != 0) caplen = std::min(caplen, ifc.snaplen);
    uint64_t ups = ifc.units_per_second;
    f.data = pkt;
    f.caplen = caplen;
    f.wirelen = wirelen;
    f.ts =
        double(int64_t(ts_units / ups) + ifc.offset_seconds) + double(ts_units % ups) / double(ups);
    f.link = ifc.link;
    return true;
  }
}

}  // namespace pspdr
