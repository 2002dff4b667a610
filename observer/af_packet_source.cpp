#include "observer/af_packet_source.hpp"

#include <arpa/inet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
// After <net/if.h>: the linux/ headers would redefine its IFF_* names.
#include <linux/if_packet.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstring>

#include "shared/wakeup.hpp"

namespace pspdr {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw SourceError(what);
}

std::string errno_hint(const std::string& ifname, const char* call) {
  if (errno == EPERM || errno == EACCES)
    return "AF_PACKET on " + ifname + " needs root or CAP_NET_RAW (" + call + ": " +
           std::strerror(errno) + ")";
  return "AF_PACKET on " + ifname + ": " + call + ": " + std::strerror(errno);
}

tpacket_block_desc* block_at(uint8_t* map, uint32_t block_size, uint32_t i) {
  return reinterpret_cast<tpacket_block_desc*>(map + size_t(i) * block_size);
}

}  // namespace

void AfPacketOptions::size_ring(uint64_t bytes) {
  block_size = uint32_t(std::clamp<uint64_t>(std::bit_floor(bytes / 8), 4096, 1 << 20));
  blocks = uint32_t(std::clamp<uint64_t>(bytes / block_size, 2, 1u << 16));
}

AfPacketSource::AfPacketSource(const std::string& ifname, const AfPacketOptions& opts)
    : ifname_(ifname), opts_(opts) {
  if (std::string problem = interface_problem(ifname); !problem.empty()) fail(problem);
  unsigned index = if_nametoindex(ifname.c_str());
  int probe = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  if (probe >= 0 && ioctl(probe, SIOCGIFHWADDR, &ifr) == 0) {
    // Interfaces without a link header (tun, wireguard) deliver bare IP.
    int type = ifr.ifr_hwaddr.sa_family;
    link_ = (type == ARPHRD_ETHER || type == ARPHRD_LOOPBACK) ? LinkType::ethernet : LinkType::raw;
  }
  if (probe >= 0) close(probe);

  int fanout_group = int(getpid() & 0xffff);
  for (uint32_t q = 0; q < std::max(1u, opts.queues); ++q) {
    Ring& ring = rings_.emplace_back();  // closed by the destructor from here on
    ring.fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (ring.fd < 0) fail(errno_hint(ifname, "socket"));
    // Without a socket asking for timestamps the kernel leaves packets unstamped and each
    // packet socket reads the clock itself on delivery; asking makes it stamp every packet
    // once on receipt, so this source and any other capture (tcpdump) agree. Packets that
    // arrive carrying their sender's departure time are still stamped per socket, a few
    // microseconds apart (tests/live_equality_test.sh measures it).
    int on = 1;
    setsockopt(ring.fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
    int version = TPACKET_V3;
    if (setsockopt(ring.fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version) != 0)
      fail(errno_hint(ifname, "PACKET_VERSION"));
    tpacket_req3 req{};
    req.tp_block_size = opts.block_size;
    req.tp_block_nr = opts.blocks;
    req.tp_frame_size = 2048;
    req.tp_frame_nr = opts.block_size / 2048 * opts.blocks;
    req.tp_retire_blk_tov = 10;  // ms: a partly filled block still reaches us promptly
    if (setsockopt(ring.fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) != 0)
      fail(errno_hint(ifname, "PACKET_RX_RING"));
    ring.map_size = size_t(opts.block_size) * opts.blocks;
    void* m =
        mmap(nullptr, ring.map_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, ring.fd, 0);
    if (m == MAP_FAILED)
      m = mmap(nullptr, ring.map_size, PROT_READ | PROT_WRITE, MAP_SHARED, ring.fd, 0);
    if (m == MAP_FAILED) fail(errno_hint(ifname, "mmap"));
    ring.map = static_cast<uint8_t*>(m);
    sockaddr_ll addr{};
    addr.sll_family = AF_PACKET;
    addr.sll_protocol = htons(ETH_P_ALL);
    addr.sll_ifindex = int(index);
    if (bind(ring.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      fail(errno_hint(ifname, "bind"));
    if (opts.queues > 1) {
      int fanout = fanout_group | (PACKET_FANOUT_HASH << 16);
      if (setsockopt(ring.fd, SOL_PACKET, PACKET_FANOUT, &fanout, sizeof fanout) != 0)
        fail(errno_hint(ifname, "PACKET_FANOUT"));
    }
  }
}

AfPacketSource::~AfPacketSource() {
  for (Ring& r : rings_) {
    if (r.map) munmap(r.map, r.map_size);
    if (r.fd >= 0) close(r.fd);
  }
}

void AfPacketSource::release_block(Ring& r) {
  tpacket_block_desc* b = block_at(r.map, opts_.block_size, r.block);
  std::atomic_thread_fence(std::memory_order_release);
  b->hdr.bh1.block_status = TP_STATUS_KERNEL;
  r.block = (r.block + 1) % opts_.blocks;
  r.next = nullptr;
  r.release_pending = false;
}

uint32_t AfPacketSource::receive(uint32_t queue, std::span<Frame> frames) {
  Ring& r = rings_[queue];
  if (r.release_pending) release_block(r);
  if (!r.next) {
    tpacket_block_desc* b = block_at(r.map, opts_.block_size, r.block);
    if (!(__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) return 0;
    r.next = reinterpret_cast<const uint8_t*>(b) + b->hdr.bh1.offset_to_first_pkt;
    r.left = b->hdr.bh1.num_pkts;
  }
  uint32_t n = 0;
  while (n < frames.size() && r.left > 0) {
    auto* h = reinterpret_cast<const tpacket3_hdr*>(r.next);
    frames[n++] = Frame{r.next + h->tp_mac, h->tp_snaplen, h->tp_len,
                        double(h->tp_sec) + double(h->tp_nsec) * 1e-9, link_};
    r.next += h->tp_next_offset;
    --r.left;
  }
  r.received.store(r.received.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  // The frames point into the block: hand it back only at the next receive.
  if (r.left == 0) r.release_pending = true;
  return n;
}

// The socket polls readable once the kernel hands a block to us (a full one, or a partly
// filled one after tp_retire_blk_tov).
void AfPacketSource::sleep_until_ready(uint32_t queue, int timeout_ms) {
  wait_readable(rings_[queue].fd, timeout_ms);
}

QueueCounters AfPacketSource::counters(uint32_t queue) const {
  const Ring& r = rings_[queue];
  tpacket_stats_v3 st{};
  socklen_t len = sizeof st;
  // The kernel resets these counters on read: keep a running total.
  if (getsockopt(r.fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
    r.dropped.fetch_add(st.tp_drops, std::memory_order_relaxed);
  return {r.received.load(std::memory_order_relaxed), r.dropped.load(std::memory_order_relaxed)};
}

std::string AfPacketSource::describe() const {
  return "AF_PACKET " + ifname_ + " (" + std::to_string(rings_.size()) + " socket" +
         (rings_.size() > 1 ? "s, fanout by flow hash" : "") + ", TPACKET_V3)";
}

}  // namespace pspdr
