// Writes classic pcap files (microsecond or nanosecond timestamps). Used by the trace
// synthesiser, the tests that build their own traces, and per-flow trace output.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "shared/link.hpp"

namespace pspdr {

struct PcapWriterOptions {
  uint32_t snaplen = 262144;
  bool nanoseconds = false;
  bool append = false;       // add records to a file an earlier writer left (no header)
  size_t buffer = 1u << 20;  // bytes; many files open at once want small ones
};

class PcapWriter {
 public:
  // Throws std::runtime_error if the file cannot be created.
  PcapWriter(const std::string& path, LinkType link, const PcapWriterOptions& opts = {});
  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  // `ts` in seconds; `wirelen` defaults to the captured length. Frames longer than the
  // snap length are cut to it, as a capture with that snap length would record them.
  void write(double ts, const uint8_t* data, uint32_t caplen, uint32_t wirelen = 0);
  void write(double ts, const std::vector<uint8_t>& frame) {
    write(ts, frame.data(), uint32_t(frame.size()));
  }
  void close();

 private:
  FILE* f_ = nullptr;
  bool nanoseconds_;
  uint32_t snaplen_;
  std::string path_;
};

}  // namespace pspdr
