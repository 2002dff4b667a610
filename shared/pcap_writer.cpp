#include "shared/pcap_writer.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace pspdr {

PcapWriter::PcapWriter(const std::string& path, LinkType link, const PcapWriterOptions& opts)
    : nanoseconds_(opts.nanoseconds), snaplen_(opts.snaplen), path_(path) {
  f_ = std::fopen(path.c_str(), opts.append ? "ab" : "wb");
  if (!f_) throw std::runtime_error(path + ": " + std::strerror(errno));
  std::setvbuf(f_, nullptr, _IOFBF, opts.buffer);
  if (opts.append) return;
  uint32_t hdr[6] = {
      nanoseconds_ ? 0xa1b23c4du : 0xa1b2c3d4u, 0x00040002u, 0, 0, snaplen_, uint32_t(link)};
  std::fwrite(hdr, sizeof hdr, 1, f_);
}

PcapWriter::~PcapWriter() {
  if (f_) std::fclose(f_);  // close() reports errors; a destructor cannot
}

void PcapWriter::write(double ts, const uint8_t* data, uint32_t caplen, uint32_t wirelen) {
  double whole = std::floor(ts);
  double scale = nanoseconds_ ? 1e9 : 1e6;
  uint32_t frac = uint32_t(std::llround((ts - whole) * scale));
  uint32_t sec = uint32_t(whole);
  if (frac >= uint32_t(scale)) {  // rounding carried into the next second
    frac -= uint32_t(scale);
    ++sec;
  }
  if (!wirelen) wirelen = caplen;
  caplen = std::min(caplen, snaplen_);
  uint32_t rec[4] = {sec, frac, caplen, wirelen};
  if (std::fwrite(rec, sizeof rec, 1, f_) != 1 || std::fwrite(data, 1, caplen, f_) != caplen)
    throw std::runtime_error(path_ + ": write failed: " + std::strerror(errno));
}

void PcapWriter::close() {
  if (f_ && std::fclose(f_) != 0) {
    f_ = nullptr;
    throw std::runtime_error(path_ + ": write failed: " + std::strerror(errno));
  }
  f_ = nullptr;
}

}  // namespace pspdr
