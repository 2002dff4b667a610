// Reads pcap (micro- and nanosecond, either byte order) and pcapng traces, detected by
// their magic number whatever the file is called, compressed (gzip, bzip2, xz, zstd) or
// not. The file is memory-mapped and frames point straight into it: nothing is copied
// (a compressed trace is decompressed into memory once).
//
// libpcap reads these formats too, but it copies every record and cannot say where a
// damaged file went wrong; users of a measurement tool need the byte offset.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "shared/packet.hpp"

namespace pspdr {

// The file cannot be used at all (missing, unreadable, not a trace).
struct TraceOpenError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class TraceFile {
 public:
  explicit TraceFile(const std::string& path);  // throws TraceOpenError
  // Another reader of the same mapped bytes, from where `other` is: workers of one trace
  // each read it whole, so none waits for another to hand frames over.
  TraceFile(const TraceFile& other) = default;
  TraceFile& operator=(const TraceFile&) = delete;

  // The next frame; false at the end of the file or where it is damaged (see damage()).
  bool next(Frame& f);

  const std::string& path() const { return path_; }
  const char* format() const { return pcapng_ ? "pcapng" : "pcap"; }
  uint64_t size() const { return size_; }
  uint64_t offset() const { return pos_; }  // bytes consumed so far
  // Empty unless reading stopped early: then what was wrong and at which byte offset.
  const std::string& damage() const { return damage_; }
  // Link types seen that the dissector does not know (their frames count as non-IP).
  const std::vector<uint32_t>& unsupported_links() const { return unsupported_; }

 private:
  struct Interface {
    LinkType link = LinkType::ethernet;
    uint64_t units_per_second = 1000000;
    int64_t offset_seconds = 0;
    uint32_t snaplen = 0;  // 0: no limit
  };

  bool next_pcap(Frame& f);
  bool next_pcapng(Frame& f);
  bool read_section_header(uint64_t at);
  bool read_interface(uint64_t at, const uint8_t* body, uint32_t len);
  bool stop(uint64_t at, const std::string& what);
  LinkType checked_link(uint32_t number);
  uint32_t u32(const uint8_t* p) const;
  uint16_t u16(const uint8_t* p) const;

  std::string path_;
  std::shared_ptr<const uint8_t> mapping_;  // unmapped when its last reader goes
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  uint64_t pos_ = 0;
  uint64_t populated_ = 0;   // page tables are filled up to here
  uint64_t prefetched_ = 0;  // the file is in the cache, or on its way, up to here
  bool pcapng_ = false;
  bool swapped_ = false;  // file byte order differs from ours
  // pcap
  bool nanoseconds_ = false;
  uint32_t record_header_ = 16;
  LinkType link_ = LinkType::ethernet;
  // pcapng
  std::vector<Interface> interfaces_;
  std::string damage_;
  std::vector<uint32_t> unsupported_;
};

}  // namespace pspdr
