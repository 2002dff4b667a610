// A tcpdump filter expression (pcap-filter(7)) applied to frames read from a trace:
// libpcap compiles it once per link type met, and runs the BPF program on each frame.
#pragma once

#include <pcap/pcap.h>

#include <map>
#include <string>

#include "shared/packet.hpp"

namespace pspdr {

class PacketFilter {
 public:
  // An empty expression matches everything.
  explicit PacketFilter(std::string expression) : expression_(std::move(expression)) {}
  ~PacketFilter();
  PacketFilter(const PacketFilter&) = delete;
  PacketFilter& operator=(const PacketFilter&) = delete;

  // Whether the expression compiles (for `link`); else `error` says why.
  bool check(LinkType link, std::string& error);
  // Whether `frame` matches. A frame whose link the expression cannot be compiled for
  // does not.
  bool matches(const Frame& frame);

 private:
  struct Compiled {
    bool ok = false;
    bpf_program program{};
    std::string error;
  };
  Compiled& compiled(LinkType link);

  std::string expression_;
  std::map<LinkType, Compiled> by_link_;
};

}  // namespace pspdr
