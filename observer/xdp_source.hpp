// AF_XDP: the project's XDP program (xdp_redirect.bpf.c) redirects every packet of each
// receive queue to an AF_XDP socket bound to that queue, one UMEM per queue, so each
// worker reads its queue's frames in place with no system call on the hot path. Flows
// reach queues by the NIC's RSS hash: give it a symmetric key (6d:5a repeated, with
// `ethtool -X IFACE hkey ...`) so both directions of a flow land on one queue.
//
// The program takes the packets away from the kernel stack: observe a mirror port, a
// tap or a `tc ... action mirred` copy, not an interface whose own connections must
// keep working.
//
// The program is detached by the destructor and, through the process-wide cleanups
// (shared/cleanup.hpp), on exit() and on the SIGINT/SIGTERM that end the process once
// it called handle_stop_signals(). Construct and destroy a source in the same network
// namespace; construct sources from one thread at a time (libbpf's and libxdp's log
// hooks are process-wide).
#pragma once

#include <linux/capability.h>

#include <memory>
#include <string>
#include <vector>

#include "observer/interface.hpp"
#include "observer/packet_source.hpp"

struct bpf_object;
struct xdp_program;

namespace pspdr {

struct XdpOptions {
  enum class Mode { automatic, native, generic };
  enum class Copy { automatic, zero_copy, copy };
  uint32_t queues = 0;  // queues 0..queues-1 are read; 0: all the interface's channels
  // automatic tries native (driver) XDP first, then generic (skb) XDP; zero-copy is tried
  // first where the program runs native.
  Mode mode = Mode::automatic;
  Copy copy = Copy::automatic;
  uint32_t frame_count = 4096;  // UMEM frames (4 KiB each) per queue; a power of two

  // About `bytes` of UMEM per queue (tcpdump's -B), in at least 64 frames.
  void size_umem(uint64_t bytes);
};

class XdpSource final : public PacketSource {
 public:
  XdpSource(const std::string& ifname, const XdpOptions& opts);  // throws SourceError
  ~XdpSource() override;
  XdpSource(const XdpSource&) = delete;
  XdpSource& operator=(const XdpSource&) = delete;

  uint32_t queues() const override { return uint32_t(queues_.size()); }
  uint32_t receive(uint32_t queue, std::span<Frame> frames) override;
  void sleep_until_ready(uint32_t queue, int timeout_ms) override;
  QueueCounters counters(uint32_t queue) const override;
  // Detaching the program at the end: netlink, and bpf() to reach it through a dispatcher.
  std::optional<std::vector<int>> capabilities_kept() const override {
    if (alone_) return {{CAP_NET_ADMIN}};
    return {{CAP_NET_ADMIN, CAP_SYS_ADMIN, CAP_BPF}};
  }
  std::string problem() const override { return interface_problem(ifname_); }
  std::string describe() const override;

  // What automatic selection settled on.
  bool native() const { return native_; }
  bool zero_copy() const { return zero_copy_; }

 private:
  struct Queue;

  int attach(bool native);
  int open_queue(uint32_t id, bool zero_copy);
  void detach();
  static void detach_cleanup(void* self);
  void release();

  std::string ifname_;
  int ifindex_ = 0;
  XdpOptions opts_;
  bool native_ = false;
  bool zero_copy_ = false;
  bpf_object* object_ = nullptr;
  xdp_program* program_ = nullptr;
  bool attached_ = false;
  bool alone_ = false;  // attached without libxdp's dispatcher
  uint64_t cleanup_id_ = 0;
  int map_fd_ = -1;
  std::vector<std::unique_ptr<Queue>> queues_;
};

}  // namespace pspdr
