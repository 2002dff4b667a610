// A packet source: one or more receive queues, each polled by its own worker core (the
// l3fwd model). Sources spread flows over queues symmetrically -- a symmetric RSS key on
// NICs, the kernel's symmetric flow hash for AF_PACKET fanout, the flow hash in software
// for a trace -- so both directions of a flow reach the same worker.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "shared/packet.hpp"

namespace pspdr {

// Counters per queue, read by the stats thread while workers run: only the owning
// worker writes them.
struct QueueCounters {
  uint64_t received = 0;
  uint64_t dropped = 0;  // lost before the observer saw them (NIC, XDP ring, kernel)
};

// A source that cannot start: the message names the cause and the fix, in one line.
struct SourceError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class PacketSource {
 public:
  virtual ~PacketSource() = default;

  // Number of receive queues; the pipeline runs one worker per queue.
  virtual uint32_t queues() const = 0;
  // Fills up to frames.size() frames from `queue` without blocking (0 if none are
  // waiting). Called only by that queue's worker; the frames stay valid until the next
  // receive() on the same queue, which also returns their buffers to the source.
  virtual uint32_t receive(uint32_t queue, std::span<Frame> frames) = 0;
  // Called by the worker once `queue` has stayed empty for a while: sleeps until frames
  // may be waiting or timeout_ms passes, so an idle capture leaves the core to others.
  // Sources that can only be polled (DPDK) pause briefly instead.
  virtual void sleep_until_ready(uint32_t /*queue*/, int /*timeout_ms*/) {
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  // Each queue's worker thread calls these before its first receive() and after its
  // last, on that thread.
  virtual void worker_started(uint32_t /*queue*/) {}
  virtual void worker_stopped(uint32_t /*queue*/) {}
  // Finite sources (a replayed trace) say when they have nothing more; live ones never.
  virtual bool exhausted() const { return false; }
  // Live frames carry wall-clock stamps, so the packet clock may follow the wall clock
  // while nothing arrives; a trace's clock is only ever what its frames say.
  virtual bool follows_wall_clock() const { return true; }
  virtual QueueCounters counters(uint32_t queue) const = 0;
  // The capabilities (CAP_*) the open source still needs, to be kept when the process
  // drops the rest (shared/privileges.hpp); nullopt: it cannot run without root.
  virtual std::optional<std::vector<int>> capabilities_kept() const { return std::vector<int>{}; }
  // Why nothing can arrive now (the interface went down), or "": checked once a second.
  virtual std::string problem() const { return ""; }
  // A one-line description for logs, e.g. "AF_XDP veth0 (2 queues, zero-copy)".
  virtual std::string describe() const = 0;
};

}  // namespace pspdr
