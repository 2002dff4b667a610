#include "observer/xdp_source.hpp"

#include <net/if.h>
// After <net/if.h>: the linux/ headers would redefine its IFF_* names.
#include <bpf/libbpf.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <thread>

#include "observer/xdp_redirect_bpf.h"
#include "shared/cleanup.hpp"
#include "shared/clock.hpp"
#include "shared/wakeup.hpp"

namespace pspdr {
namespace {

constexpr uint32_t kFrameSize = XSK_UMEM__DEFAULT_FRAME_SIZE;
constexpr uint32_t kMaxQueues = 256;  // max_entries of the program's XSKMAP
// Receive only, but the kernel insists on a completion ring: keep it small.
constexpr uint32_t kCompletionRing = 64;
const char* const kPrivileges = "needs root or CAP_NET_ADMIN+CAP_BPF+CAP_NET_RAW";

// libbpf and libxdp print warnings on stderr. While a source opens, the last one is kept
// instead, to end the error message if opening fails (it often carries the kernel's own
// explanation).
std::string last_warning;

void keep(const char* fmt, va_list ap) {
  char line[512];
  std::vsnprintf(line, sizeof line, fmt, ap);
  std::string s(line);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (!s.empty()) last_warning = s;
}
int keep_libbpf(libbpf_print_level level, const char* fmt, va_list ap) {
  if (level == LIBBPF_WARN) keep(fmt, ap);
  return 0;
}
int keep_libxdp(libxdp_print_level level, const char* fmt, va_list ap) {
  if (level == LIBXDP_WARN) keep(fmt, ap);
  return 0;
}

class KeepLibraryWarnings {
 public:
  KeepLibraryWarnings() : bpf_(libbpf_set_print(keep_libbpf)), xdp_(libxdp_set_print(keep_libxdp)) {
    last_warning.clear();
  }
  ~KeepLibraryWarnings() {
    libbpf_set_print(bpf_);
    libxdp_set_print(xdp_);
  }

 private:
  libbpf_print_fn_t bpf_;
  libxdp_print_fn_t xdp_;
};

[[noreturn]] void fail(const std::string& what) {
  throw SourceError(what);
}

// `what`: strerror(err) (and the libraries' last warning).
std::string explain(const std::string& what, int err) {
  std::string s = what + ": " + std::strerror(err);
  if (!last_warning.empty()) s += " (" + last_warning + ")";
  return s;
}

bool denied(int err) {
  return err == EPERM || err == EACCES;
}

// Receive queues: combined channels plus receive-only ones. Drivers without channel
// support (ETHTOOL_GCHANNELS fails) have one.
uint32_t receive_queues(int fd, const std::string& ifname) {
  ethtool_channels ch{};
  ch.cmd = ETHTOOL_GCHANNELS;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  ifr.ifr_data = reinterpret_cast<char*>(&ch);
  if (ioctl(fd, SIOCETHTOOL, &ifr) != 0) return 1;
  return std::max(1u, ch.combined_count + ch.rx_count);
}

}  // namespace

void XdpOptions::size_umem(uint64_t bytes) {
  frame_count = uint32_t(std::clamp<uint64_t>(std::bit_floor(bytes / kFrameSize), 64, 1u << 20));
}

struct alignas(64) XdpSource::Queue {
  xsk_ring_prod fill{};
  xsk_ring_cons completion{};
  xsk_ring_cons rx{};
  xsk_umem* umem = nullptr;
  xsk_socket* xsk = nullptr;
  uint8_t* area = nullptr;
  size_t area_size = 0;
  int fd = -1;
  uint32_t held = 0;        // descriptors of the last burst, handed back at the next receive
  uint32_t held_first = 0;  // RX ring index of the first of them
  std::atomic<uint64_t> received{0};  // written by the queue's worker only

  ~Queue() {
    if (xsk) xsk_socket__delete(xsk);
    if (umem) xsk_umem__delete(umem);
    if (area) munmap(area, area_size);
  }
};

XdpSource::XdpSource(const std::string& ifname, const XdpOptions& opts)
    : ifname_(ifname), opts_(opts) {
  KeepLibraryWarnings keep_warnings;
  uint32_t frames = opts.frame_count;
  if (frames == 0 || (frames & (frames - 1)) != 0)
    fail("AF_XDP frame_count must be a power of two (got " + std::to_string(frames) + ")");
  if (std::string problem = interface_problem(ifname); !problem.empty()) fail(problem);
  ifindex_ = int(if_nametoindex(ifname.c_str()));

  int probe = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (probe < 0) fail(explain("AF_XDP on " + ifname + ": socket", errno));
  uint32_t available = receive_queues(probe, ifname);
  close(probe);
  uint32_t count = opts.queues ? opts.queues : available;
  if (count > available)
    fail(ifname + " has " + std::to_string(available) + " receive queues, not " +
         std::to_string(count) + " (see ethtool -l " + ifname + ")");
  if (count > kMaxQueues)
    fail("AF_XDP reads at most " + std::to_string(kMaxQueues) + " queues (" + ifname + " has " +
         std::to_string(count) + "): ask for fewer");

  int xsk_probe = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (xsk_probe < 0) {
    if (denied(errno)) fail("AF_XDP on " + ifname + " " + kPrivileges);
    if (errno == EAFNOSUPPORT) fail("this kernel has no AF_XDP sockets (CONFIG_XDP_SOCKETS)");
    fail(explain("AF_XDP on " + ifname + ": socket", errno));
  }
  close(xsk_probe);

  try {
    object_ = bpf_object__open_mem(kXdpRedirectObject, sizeof kXdpRedirectObject, nullptr);
    if (!object_) fail(explain("cannot open the AF_XDP redirect program", errno));
    program_ = xdp_program__from_bpf_obj(object_, nullptr);
    if (int err = int(libxdp_get_error(program_))) {
      program_ = nullptr;
      fail(explain("cannot open the AF_XDP redirect program", -err));
    }

    // Native first (unless generic is asked for), generic when native is refused.
    int err = attach(opts.mode != XdpOptions::Mode::generic);
    if (err && opts.mode == XdpOptions::Mode::automatic && !denied(-err)) err = attach(false);
    if (err) {
      err = -err;
      if (denied(err)) fail("XDP on " + ifname + " " + kPrivileges);
      if (err == EBUSY || err == EEXIST)
        fail(ifname + " already has an XDP program (ip link show " + ifname +
             "; if it is stale: ip link set " + ifname + " xdp off)");
      if (opts.mode == XdpOptions::Mode::native)
        fail(explain("the driver of " + ifname + " refuses native XDP (try generic mode)", err));
      fail(explain("cannot attach an XDP program to " + ifname, err));
    }
    cleanup_id_ = add_cleanup(&XdpSource::detach_cleanup, this);
    // Alone on the interface (where libxdp's dispatcher cannot load) the program is
    // detached by netlink alone; a dispatcher must be asked through bpf() as well.
    xdp_multiprog* attached = xdp_multiprog__get_from_ifindex(ifindex_);
    alone_ = !libxdp_get_error(attached) && xdp_multiprog__is_legacy(attached);
    if (!libxdp_get_error(attached)) xdp_multiprog__close(attached);
    map_fd_ = bpf_map__fd(bpf_object__find_map_by_name(object_, "xsks"));

    if (opts.copy == XdpOptions::Copy::zero_copy && !native_)
      fail("zero-copy AF_XDP needs native XDP, which " + ifname + " does not run");
    zero_copy_ = native_ && opts.copy != XdpOptions::Copy::copy;
    for (uint32_t q = 0; q < count; ++q) {
      err = open_queue(q, zero_copy_);
      // Drivers without zero-copy support refuse it at the first bind.
      if (err && q == 0 && zero_copy_ && opts.copy == XdpOptions::Copy::automatic) {
        zero_copy_ = false;
        err = open_queue(q, false);
      }
      // A socket closed a moment ago (the previous capture's) frees its queue later, in
      // a kernel work item: busy for a while is not taken.
      for (int tries = 0; err == -EBUSY && tries < 40; ++tries) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        err = open_queue(q, zero_copy_);
      }
      if (!err) continue;
      err = -err;
      std::string where = "AF_XDP socket on queue " + std::to_string(q) + " of " + ifname;
      if (denied(err)) fail(where + " " + kPrivileges);
      if (err == EBUSY) fail(where + ": the queue is taken by another AF_XDP socket");
      if (zero_copy_ && (err == EOPNOTSUPP || err == EPROTONOSUPPORT))
        fail(where + ": the driver has no zero-copy AF_XDP (use copy mode)");
      if (err == ENOMEM || err == ENOBUFS)
        fail(explain(where + " (UMEM of " + std::to_string(size_t(frames) * kFrameSize >> 20) +
                         " MiB: lower frame_count or raise ulimit -l)",
                     err));
      fail(explain(where, err));
    }
  } catch (...) {
    release();
    throw;
  }
}

XdpSource::~XdpSource() {
  release();
}

int XdpSource::attach(bool native) {
  last_warning.clear();  // only this step's explanation belongs in its error
  int err = xdp_program__attach(program_, ifindex_, native ? XDP_MODE_NATIVE : XDP_MODE_SKB, 0);
  if (err == 0) {
    attached_ = true;
    native_ = native;
  }
  return err;
}

int XdpSource::open_queue(uint32_t id, bool zero_copy) {
  last_warning.clear();
  auto q = std::make_unique<Queue>();
  uint32_t frames = opts_.frame_count;
  q->area_size = size_t(frames) * kFrameSize;
  void* area = mmap(nullptr, q->area_size, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (area == MAP_FAILED) return -errno;
  q->area = static_cast<uint8_t*>(area);
  // The rings hold every frame, so handing a burst back never finds them full.
  xsk_umem_config umem_config{.fill_size = frames,
                              .comp_size = kCompletionRing,
                              .frame_size = kFrameSize,
                              .frame_headroom = 0,
                              .flags = 0};
  if (int err =
          xsk_umem__create(&q->umem, area, q->area_size, &q->fill, &q->completion, &umem_config))
    return err;
  xsk_socket_config config{};
  config.rx_size = frames;
  config.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;  // our own program is attached
  config.bind_flags = XDP_USE_NEED_WAKEUP | (zero_copy ? XDP_ZEROCOPY : XDP_COPY);
  if (int err = xsk_socket__create(&q->xsk, ifname_.c_str(), id, q->umem, &q->rx, nullptr, &config))
    return err;
  if (int err = xsk_socket__update_xskmap(q->xsk, map_fd_)) return err;
  q->fd = xsk_socket__fd(q->xsk);
  uint32_t idx = 0;
  xsk_ring_prod__reserve(&q->fill, frames, &idx);
  for (uint32_t i = 0; i < frames; ++i)
    *xsk_ring_prod__fill_addr(&q->fill, idx + i) = uint64_t(i) * kFrameSize;
  xsk_ring_prod__submit(&q->fill, frames);
  queues_.push_back(std::move(q));
  return 0;
}

void XdpSource::detach() {
  if (!attached_) return;
  attached_ = false;
  // Our program only (REPLACE with it as the expected one): netlink, CAP_NET_ADMIN.
  LIBBPF_OPTS(bpf_xdp_attach_opts, ours, .old_prog_fd = xdp_program__fd(program_));
  int err = bpf_xdp_detach(
      ifindex_, (native_ ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE) | XDP_FLAGS_REPLACE, &ours);
  if (err == -EEXIST)  // a dispatcher runs it
    err = xdp_program__detach(program_, ifindex_, native_ ? XDP_MODE_NATIVE : XDP_MODE_SKB, 0);
  if (err)
    std::fprintf(stderr,
                 "pspdr: cannot detach the XDP program from %s: %s (ip link set %s xdp off)\n",
                 ifname_.c_str(), std::strerror(-err), ifname_.c_str());
}

void XdpSource::detach_cleanup(void* self) {
  static_cast<XdpSource*>(self)->detach();
}

void XdpSource::release() {
  // The program goes first, so no packet is redirected to a socket being closed.
  if (cleanup_id_) run_cleanup(cleanup_id_);
  cleanup_id_ = 0;
  queues_.clear();
  xdp_program__close(program_);
  bpf_object__close(object_);
  program_ = nullptr;
  object_ = nullptr;
}

uint32_t XdpSource::receive(uint32_t queue, std::span<Frame> frames) {
  Queue& q = *queues_[queue];
  if (q.held) {
    // The caller is done with the last burst: its frames go back to the fill ring (the
    // descriptors stay readable until released).
    uint32_t idx = 0;
    xsk_ring_prod__reserve(&q.fill, q.held, &idx);
    for (uint32_t i = 0; i < q.held; ++i) {
      uint64_t addr = xsk_ring_cons__rx_desc(&q.rx, q.held_first + i)->addr;
      *xsk_ring_prod__fill_addr(&q.fill, idx + i) = addr & ~uint64_t(kFrameSize - 1);
    }
    xsk_ring_prod__submit(&q.fill, q.held);
    xsk_ring_cons__release(&q.rx, q.held);
    q.held = 0;
  }
  uint32_t first = 0;
  uint32_t n = xsk_ring_cons__peek(&q.rx, uint32_t(frames.size()), &first);
  if (n == 0) {
    // A zero-copy driver that ran out of fill-ring frames sleeps until told to look again.
    if (xsk_ring_prod__needs_wakeup(&q.fill))
      recvfrom(q.fd, nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
    return 0;
  }
  double ts = realtime_seconds();
  for (uint32_t i = 0; i < n; ++i) {
    const xdp_desc* d = xsk_ring_cons__rx_desc(&q.rx, first + i);
    frames[i] = Frame{q.area + d->addr, d->len, d->len, ts, LinkType::ethernet};
  }
  q.held = n;
  q.held_first = first;
  q.received.store(q.received.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  return n;
}

// The socket polls readable when its RX ring holds descriptors (and, in need-wakeup
// mode, the poll itself tells the driver to look at the fill ring).
void XdpSource::sleep_until_ready(uint32_t queue, int timeout_ms) {
  wait_readable(queues_[queue]->fd, timeout_ms);
}

QueueCounters XdpSource::counters(uint32_t queue) const {
  const Queue& q = *queues_[queue];
  QueueCounters c;
  c.received = q.received.load(std::memory_order_relaxed);
  xdp_statistics st{};
  socklen_t len = sizeof st;
  if (getsockopt(q.fd, SOL_XDP, XDP_STATISTICS, &st, &len) != 0) return c;
  // Kernels filling only the first three fields add rx_ring_full into rx_dropped.
  c.dropped = st.rx_dropped;
  if (len == sizeof st) {
    c.dropped += st.rx_ring_full;
    // In copy mode a packet finding the fill ring empty is already in rx_dropped; a
    // zero-copy driver reports that loss only here (as empty-ring events).
    if (zero_copy_) c.dropped += st.rx_fill_ring_empty_descs;
  }
  return c;
}

std::string XdpSource::describe() const {
  size_t n = queues_.size();
  return "AF_XDP " + ifname_ + ", " + std::to_string(n) + (n == 1 ? " queue, " : " queues, ") +
         (native_ ? "native" : "generic") + " mode, " + (zero_copy_ ? "zero-copy" : "copy");
}

}  // namespace pspdr
