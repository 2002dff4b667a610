#include "tracing/stream_files.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "shared/packet_json.hpp"

namespace pspdr {
namespace {

constexpr size_t kFileBuffer = 16 * 1024;  // per open stream file; hundreds may be open

const char* extension(StreamFormat f) {
  return f == StreamFormat::pcap ? ".pcap" : ".json";
}

}  // namespace

StreamFiles::StreamFiles(std::string dir, StreamFormat format, size_t max_open, FILE* index)
    : dir_(std::move(dir)), format_(format), max_open_(max_open), index_(index) {}

StreamFiles::~StreamFiles() {
  while (!lru_.empty()) close_file(lru_.front());
}

std::string StreamFiles::path_of(const TcpStream& stream) const {
  return dir_ + "/" + stream.label() + extension(format_);
}

void StreamFiles::fail(const std::string& what) {
  if (error_.empty()) error_ = what;
}

StreamFiles::Open& StreamFiles::open_file(const TcpStream& stream, LinkType link) {
  auto found = open_.find(stream.number);
  if (found != open_.end()) {
    lru_.splice(lru_.end(), lru_, found->second.lru);
    return found->second;
  }
  if (open_.size() >= max_open_) close_file(lru_.front());
  bool append = !created_.insert(stream.number).second;
  if (!append) ++files_;
  std::string path = path_of(stream);
  Open& o = open_[stream.number];
  o.path = path;
  o.lru = lru_.insert(lru_.end(), stream.number);
  if (format_ == StreamFormat::pcap) {
    try {
      o.pcap = std::make_unique<PcapWriter>(
          path, link, PcapWriterOptions{.append = append, .buffer = kFileBuffer});
    } catch (...) {
      close_file(stream.number);
      throw;
    }
  } else {
    o.json = std::fopen(path.c_str(), append ? "ab" : "wb");
    if (!o.json) {
      int err = errno;
      close_file(stream.number);
      throw std::runtime_error(path + ": " + std::strerror(err));
    }
    std::setvbuf(o.json, nullptr, _IOFBF, kFileBuffer);
  }
  return o;
}

void StreamFiles::close_file(uint64_t number) {
  auto it = open_.find(number);
  if (it == open_.end()) return;
  Open& o = it->second;
  try {
    if (o.pcap) o.pcap->close();
  } catch (const std::exception& e) {
    fail(e.what());
  }
  if (o.json && std::fclose(o.json) != 0) fail(o.path + ": write failed: " + std::strerror(errno));
  lru_.erase(o.lru);
  open_.erase(it);
}

void StreamFiles::packet(const TcpStream& stream, const Frame& frame) {
  if (format_ == StreamFormat::none || !error_.empty()) return;
  try {
    Open& o = open_file(stream, frame.link);
    if (o.pcap) {
      o.pcap->write(frame.ts, frame.data, frame.caplen, frame.wirelen);
    } else {
      json_.clear();
      write_packet_json(json_, stream.frames.back(), frame);
      json_.end_line();
      if (std::fwrite(json_.text().data(), 1, json_.size(), o.json) != json_.size())
        throw std::runtime_error(path_of(stream) + ": write failed: " + std::strerror(errno));
    }
  } catch (const std::exception& e) {
    fail(e.what());
  }
}

void StreamFiles::finished(const TcpStream& stream) {
  close_file(stream.number);
  created_.erase(stream.number);
  json_.clear();
  json_.begin_object();
  json_.field("stream", stream.number);
  json_.field("label", stream.label());
  json_.key("fpout");
  if (format_ == StreamFormat::none)
    json_.null();
  else
    json_.string_value(path_of(stream));
  json_.key("index");
  json_.begin_array();
  for (uint64_t f : stream.frames) {
    json_.element();
    json_.integer(f);
  }
  json_.end_array();
  char buf[IpAddress::kMaxText];
  json_.field("src", stream.src.format(buf));
  json_.field("srcport", stream.srcport);
  json_.field("dst", stream.dst.format(buf));
  json_.field("dstport", stream.dstport);
  json_.field("packets", uint64_t(stream.frames.size()));
  json_.field("first", stream.first_ts);
  json_.field("last", stream.last_ts);
  json_.end_object();
  json_.end_line();
  if (std::fwrite(json_.text().data(), 1, json_.size(), index_) != json_.size())
    fail(std::string("index: write failed: ") + std::strerror(errno));
}

}  // namespace pspdr
