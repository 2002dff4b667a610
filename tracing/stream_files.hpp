// Where traced streams go: one file per stream in a directory (pcap: the frames as
// captured; json: one `pspdr dissect` line per frame; none), and one index line per
// stream (ndjson) naming its label, file and frame numbers, as pcapkit's
// TraceFlow.submit() returns them.
#pragma once

#include <cstdio>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "shared/json_writer.hpp"
#include "shared/pcap_writer.hpp"
#include "tracing/tcp_stream_tracer.hpp"

namespace pspdr {

enum class StreamFormat { pcap, json, none };

class StreamFiles : public TcpStreamSink {
 public:
  // At most `max_open` stream files are open at once: beyond that the one written least
  // recently is closed, and reopened to append when its stream gets another packet.
  StreamFiles(std::string dir, StreamFormat format, size_t max_open, FILE* index);
  ~StreamFiles() override;

  void packet(const TcpStream& stream, const Frame& frame) override;
  void finished(const TcpStream& stream) override;

  // The first write that failed ("PATH: reason"); empty while all is well. After a
  // failure nothing more is written.
  const std::string& error() const { return error_; }
  uint64_t files_written() const { return files_; }

 private:
  struct Open {
    std::unique_ptr<PcapWriter> pcap;
    FILE* json = nullptr;
    std::string path;
    std::list<uint64_t>::iterator lru;
  };

  std::string path_of(const TcpStream& stream) const;
  Open& open_file(const TcpStream& stream, LinkType link);
  void close_file(uint64_t number);
  void fail(const std::string& what);

  std::string dir_;
  StreamFormat format_;
  size_t max_open_;
  FILE* index_;
  std::unordered_map<uint64_t, Open> open_;
  std::list<uint64_t> lru_;               // open streams' numbers, least recent first
  std::unordered_set<uint64_t> created_;  // streams whose file exists (open or not)
  JsonWriter json_;
  std::string error_;
  uint64_t files_ = 0;
};

}  // namespace pspdr
