// A DPDK port as a packet source: any device an EAL argument list can bring up -- a NIC
// bound to vfio-pci, or a virtual device (net_pcap, net_af_packet, net_af_xdp, ...).
// Several queues are spread by RSS with a symmetric key, so both directions of a flow
// reach the same queue and so the same worker. Frames are read in place from the mbufs.
//
// DPDK's EAL starts once per process: construct at most one DpdkSource per process.
// Nothing here includes a DPDK header, so users of this header need none on their path.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "observer/packet_source.hpp"

struct rte_mbuf;
struct rte_mempool;

namespace pspdr {

struct DpdkOptions {
  uint16_t port = 0;
  uint16_t queues = 1;
  uint32_t mbufs = 8191;      // in the one mempool; net_pcap with infinite_rx holds its whole trace
  uint16_t ring_size = 1024;  // RX descriptors per queue (the PMD may round it)
};

// Splits `text` into words as a POSIX shell does: blanks separate words, single quotes
// keep everything literally, double quotes keep blanks and honour \" \\ \$ \`, a
// backslash outside quotes escapes the next character. No expansion of any kind.
// Throws SourceError on an unterminated quote.
std::vector<std::string> split_shell_words(const std::string& text);

class DpdkSource final : public PacketSource {
 public:
  // `eal_args`: the EAL arguments, as on a DPDK program's command line (without the
  // program name and without "--"). Throws SourceError.
  DpdkSource(const std::string& eal_args, const DpdkOptions& opts);
  ~DpdkSource() override;
  DpdkSource(const DpdkSource&) = delete;
  DpdkSource& operator=(const DpdkSource&) = delete;

  uint32_t queues() const override { return queue_count_; }
  uint32_t receive(uint32_t queue, std::span<Frame> frames) override;
  // Makes the worker an EAL thread (an lcore id), so it takes and returns mbufs through
  // its own mempool cache.
  void worker_started(uint32_t queue) override;
  void worker_stopped(uint32_t queue) override;
  bool exhausted() const override;
  QueueCounters counters(uint32_t queue) const override;
  std::string describe() const override;
  // EAL's own threads, started with root's powers, and its device access stay as they are.
  std::optional<std::vector<int>> capabilities_kept() const override { return std::nullopt; }

  // Most frames one receive() returns; a larger span is filled only this far.
  static constexpr uint32_t kMaxBurst = 256;

 private:
  // Written by the queue's worker only; `received` and `empty_polls` are also read by
  // other threads (stats, exhausted()), hence atomics, each on its own cache line.
  struct alignas(64) Queue {
    rte_mbuf* held[kMaxBurst];  // the last burst, freed at the next receive
    uint32_t held_count = 0;
    std::atomic<uint64_t> received{0};
    std::atomic<uint32_t> empty_polls{0};  // consecutive empty receives
  };

  void open_port();
  void release() noexcept;

  std::vector<std::string> args_;  // EAL may keep pointers into argv: they live as long as EAL
  DpdkOptions opts_;
  std::string driver_;
  std::string rss_note_;  // why one queue is used where several were asked for
  bool rss_ = false;
  bool finite_ = false;  // a net_pcap trace read once: it ends where the file does
  bool port_open_ = false;
  bool port_started_ = false;
  rte_mempool* pool_ = nullptr;
  uint32_t queue_count_ = 0;
  std::unique_ptr<Queue[]> queue_;
};

}  // namespace pspdr
