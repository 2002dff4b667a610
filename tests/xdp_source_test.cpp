// XdpSource on real veth pairs with real traffic (root only; skips otherwise).
//
// Two private network namespaces, held only by file descriptors of this process: they
// vanish with their interfaces and any XDP program on them when the process ends,
// however it ends, so no test can leave anything behind. Interface names are private to
// them, so they cannot clash with anything else on the machine.
//
//   obs: obs0 (XDP and the AF_XDP sockets, 2 queues)   cli0 10.203.0.1 (TCP client)
//          |                                             |
//   net: mir0 (crafted frames are sent here)           srv0 10.203.0.2 (TCP server)
//
// tc mirrors everything srv0 sends and receives out of mir0, so obs0 sees the kernel's
// TCP connection as a tap would, while the XDP program (which takes every packet away
// from the kernel) stays off the connection's own path.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
// After <net/if.h>: the linux/ headers would redefine its IFF_* names.
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "observer/xdp_source.hpp"
#include "shared/builder.hpp"
#include "shared/cleanup.hpp"
#include "shared/packet.hpp"

namespace pspdr {
namespace {

using build::Buffer;
using namespace std::chrono_literals;

// Runs a shell command; its output, or an exception saying what failed.
std::string sh(const std::string& cmd) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) throw std::runtime_error("popen: " + cmd);
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  if (pclose(p) != 0) throw std::runtime_error(cmd + " failed: " + out);
  return out;
}

class Netns {
 public:
  Netns() {
    int err = 0;
    // unshare() moves the calling thread only: a short-lived one makes the namespace,
    // which the descriptor keeps alive after it ends.
    std::thread([&] {
      if (unshare(CLONE_NEWNET) == 0)
        fd_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
      else
        err = errno;
    }).join();
    if (fd_ < 0) throw std::runtime_error(std::string("unshare(CLONE_NEWNET): ") + strerror(err));
    // No IPv6 chatter (router solicitations, MLD): only the test's own packets arrive.
    run("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1");
  }
  ~Netns() { close(fd_); }
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;

  int fd() const { return fd_; }
  // What `ip ... netns` and `nsenter --net` accept.
  std::string path() const {
    return "/proc/" + std::to_string(getpid()) + "/fd/" + std::to_string(fd_);
  }
  std::string run(const std::string& cmd) const {
    return sh("nsenter --net=" + path() + " " + cmd);
  }

 private:
  int fd_ = -1;
};

// The calling thread is in `ns` for this object's lifetime. Sockets keep the namespace
// they were made in, so they can be used from any thread afterwards.
class Enter {
 public:
  explicit Enter(const Netns& ns) : home_(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) {
    if (setns(ns.fd(), CLONE_NEWNET) != 0) throw std::runtime_error("setns failed");
  }
  ~Enter() {
    setns(home_, CLONE_NEWNET);
    close(home_);
  }
  Enter(const Enter&) = delete;
  Enter& operator=(const Enter&) = delete;

 private:
  int home_;
};

struct Lab {
  Netns obs, net;
  Lab() {
    obs.run(
        "ip link add obs0 numtxqueues 2 numrxqueues 2 type veth peer name mir0 "
        "numtxqueues 2 numrxqueues 2 netns " +
        net.path());
    obs.run("ip link add cli0 type veth peer name srv0 netns " + net.path());
    obs.run("ip addr add 10.203.0.1/24 dev cli0");
    net.run("ip addr add 10.203.0.2/24 dev srv0");
    for (const char* dev : {"obs0", "cli0"}) obs.run(std::string("ip link set up dev ") + dev);
    for (const char* dev : {"mir0", "srv0"}) net.run(std::string("ip link set up dev ") + dev);
    net.run("tc qdisc add dev srv0 clsact");
    for (const char* dir : {"ingress", "egress"})
      net.run(std::string("tc filter add dev srv0 ") + dir +
              " protocol all u32 match u32 0 0 action mirred egress mirror dev mir0");
  }
  bool xdp_attached() const {
    return obs.run("ip link show dev obs0").find("xdp") != std::string::npos;
  }
};

// Frames sent out of mir0 as they are, through a packet socket made in `net`.
class FrameSender {
 public:
  explicit FrameSender(const Netns& net) {
    Enter in(net);
    fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    sockaddr_ll addr{};
    addr.sll_family = AF_PACKET;
    addr.sll_ifindex = int(if_nametoindex("mir0"));
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error(std::string("packet socket on mir0: ") + strerror(errno));
  }
  ~FrameSender() { close(fd_); }
  FrameSender(const FrameSender&) = delete;
  FrameSender& operator=(const FrameSender&) = delete;

  void send(const Buffer& frame) const {
    ASSERT_EQ(::send(fd_, frame.data(), frame.size(), 0), ssize_t(frame.size())) << strerror(errno);
  }

 private:
  int fd_ = -1;
};

// A UDP frame of one flow whose payload (of varied length, up to 1472 bytes) tells `i`.
Buffer crafted_udp(uint32_t i) {
  build::Udp udp{.sport = 4242, .dport = 4343};
  udp.payload.resize(8 + (i * 131) % 1465);
  for (size_t k = 0; k < udp.payload.size(); ++k) udp.payload[k] = uint8_t(i * 7 + k);
  std::memcpy(udp.payload.data(), &i, sizeof i);
  return build::frame(
      LinkType::ethernet,
      build::udp_packet({.src = "10.9.0.1", .dst = "10.9.0.2", .id = uint16_t(i)}, udp));
}

// Polls every queue, `burst` frames at a time, keeping copies of the frames (they live
// only until the next receive), until `enough` says so or two seconds pass.
std::vector<Buffer> drain(XdpSource& src,
                          const std::function<bool(const std::vector<Buffer>&)>& enough,
                          size_t burst = 64) {
  std::vector<Buffer> got;
  std::vector<Frame> frames(burst);
  auto end = std::chrono::steady_clock::now() + 2s;
  while (!enough(got) && std::chrono::steady_clock::now() < end) {
    uint32_t n = 0;
    for (uint32_t q = 0; q < src.queues(); ++q) {
      uint32_t k = src.receive(q, frames);
      timespec now;
      clock_gettime(CLOCK_REALTIME, &now);
      for (uint32_t i = 0; i < k; ++i) {
        const Frame& f = frames[i];
        EXPECT_EQ(f.caplen, f.wirelen);
        EXPECT_EQ(f.link, LinkType::ethernet);
        EXPECT_NEAR(f.ts, double(now.tv_sec), 2.0);
        got.emplace_back(f.data, f.data + f.caplen);
      }
      n += k;
    }
    if (n == 0) std::this_thread::sleep_for(1ms);
  }
  return got;
}

auto at_least(size_t n) {
  return [n](const std::vector<Buffer>& got) { return got.size() >= n; };
}

QueueCounters totals(const XdpSource& src) {
  QueueCounters t;
  for (uint32_t q = 0; q < src.queues(); ++q) {
    t.received += src.counters(q).received;
    t.dropped += src.counters(q).dropped;
  }
  return t;
}

// A TCP exchange between cli0 and srv0 through the kernel; returns the client's port.
uint16_t tcp_exchange(const Lab& lab, const std::string& request, const std::string& reply) {
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(7777);
  inet_pton(AF_INET, "10.203.0.2", &server.sin_addr);
  int listener, client;
  {
    Enter in(lab.net);
    listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(listener, reinterpret_cast<sockaddr*>(&server), sizeof server) != 0 ||
        listen(listener, 1) != 0)
      throw std::runtime_error(std::string("listen: ") + strerror(errno));
  }
  {
    Enter in(lab.obs);
    client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  }
  std::thread serve([&] {
    int c = accept(listener, nullptr, nullptr);
    if (c < 0) return;
    char buf[256];
    recv(c, buf, sizeof buf, MSG_WAITALL);
    send(c, reply.data(), reply.size(), 0);
    close(c);
  });
  timeval timeout{5, 0};
  setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  if (connect(client, reinterpret_cast<sockaddr*>(&server), sizeof server) != 0) {
    ADD_FAILURE() << "connect: " << strerror(errno);
    shutdown(listener, SHUT_RDWR);  // lets the server thread's accept() return
  }
  send(client, request.data(), request.size(), 0);
  shutdown(client, SHUT_WR);  // the server's MSG_WAITALL ends at our FIN
  std::string answer(256, '\0');
  answer.resize(
      size_t(std::max<ssize_t>(0, recv(client, answer.data(), answer.size(), MSG_WAITALL))));
  EXPECT_EQ(answer, reply);
  sockaddr_in local{};
  socklen_t len = sizeof local;
  getsockname(client, reinterpret_cast<sockaddr*>(&local), &len);
  serve.join();
  close(client);
  close(listener);
  return ntohs(local.sin_port);
}

class XdpSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0)
      GTEST_SKIP() << "needs root: network namespaces, veth pairs and XDP programs";
    int fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (fd < 0) GTEST_SKIP() << "this kernel has no AF_XDP sockets: " << strerror(errno);
    close(fd);
    lab_ = std::make_unique<Lab>();
  }
  std::unique_ptr<Lab> lab_;
};

class XdpModeTest : public XdpSourceTest, public ::testing::WithParamInterface<XdpOptions::Mode> {};

// Kernel TCP (handshake and data both ways, through the mirror) and 300 crafted UDP
// frames sent straight at obs0: every one arrives once, byte for byte, whatever its queue.
TEST_P(XdpModeTest, ReceivesRealTrafficIntact) {
  const Lab& lab = *lab_;
  Enter in(lab.obs);
  {
    XdpSource src("obs0", {.mode = GetParam()});
    ASSERT_TRUE(lab.xdp_attached());
    EXPECT_EQ(src.queues(), 2u);
    EXPECT_EQ(src.native(), GetParam() != XdpOptions::Mode::generic) << src.describe();
    EXPECT_FALSE(src.zero_copy()) << "veth has no zero-copy AF_XDP";
    EXPECT_EQ(src.describe(), std::string("AF_XDP obs0, 2 queues, ") +
                                  (src.native() ? "native" : "generic") + " mode, copy");

    std::string request = "pspdr xdp request", reply = "pspdr xdp reply, a little longer";
    uint16_t port = tcp_exchange(lab, request, reply);
    std::vector<Buffer> sent;
    FrameSender sender(lab.net);
    for (uint32_t i = 0; i < 300; ++i) {
      sent.push_back(crafted_udp(i));
      sender.send(sent.back());
    }

    bool syn = false, syn_ack = false, got_request = false, got_reply = false;
    size_t udp_frames = 0;
    std::vector<int> seen(sent.size(), 0);
    auto look = [&](const Buffer& b) {
      Packet p;
      dissect(Frame{b.data(), uint32_t(b.size()), uint32_t(b.size()), 0, LinkType::ethernet}, p);
      if (p.udp && p.udp.dport() == 4343) {
        ++udp_frames;
        uint32_t i = 0;
        std::memcpy(&i, p.udp.payload().data, sizeof i);
        if (i < sent.size() && sent[i] == b) ++seen[i];
      }
      if (!p.tcp) return;
      std::string data(reinterpret_cast<const char*>(p.tcp.hdr + p.tcp.hdr_len()),
                       size_t(std::max(0, p.tcp.payload_caplen())));
      bool from_client = p.tcp.sport() == port && p.tcp.dport() == 7777;
      bool from_server = p.tcp.sport() == 7777 && p.tcp.dport() == port;
      syn |= from_client && p.tcp.syn() && !p.tcp.ack();
      syn_ack |= from_server && p.tcp.syn() && p.tcp.ack();
      got_request |= from_client && data == request;
      got_reply |= from_server && data == reply;
    };
    size_t looked = 0;
    std::vector<Buffer> got = drain(src, [&](const std::vector<Buffer>& g) {
      for (; looked < g.size(); ++looked) look(g[looked]);
      return udp_frames >= sent.size() && syn && syn_ack && got_request && got_reply;
    });
    EXPECT_TRUE(syn && syn_ack && got_request && got_reply)
        << "syn " << syn << " syn-ack " << syn_ack << " request " << got_request << " reply "
        << got_reply << " in " << got.size() << " frames";
    EXPECT_EQ(udp_frames, sent.size());
    EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), ptrdiff_t(sent.size()))
        << "crafted frames must arrive once each, unchanged";
    QueueCounters t = totals(src);
    EXPECT_EQ(t.received, got.size());
    EXPECT_EQ(t.dropped, 0u);
  }
  EXPECT_FALSE(lab.xdp_attached()) << lab.obs.run("ip link show dev obs0");
}

INSTANTIATE_TEST_SUITE_P(Modes, XdpModeTest,
                         ::testing::Values(XdpOptions::Mode::generic, XdpOptions::Mode::automatic,
                                           XdpOptions::Mode::native),
                         [](const auto& param_info) {
                           switch (param_info.param) {
                             case XdpOptions::Mode::generic:
                               return "generic";
                             case XdpOptions::Mode::native:
                               return "native";
                             default:
                               return "automatic";
                           }
                         });

// A UMEM of 64 frames: bursts of 7 handed back at each receive keep 3000 frames flowing
// through it; frames sent while nobody reads fill it, and the rest count as dropped.
TEST_F(XdpSourceTest, RecyclesFramesAndCountsDrops) {
  const Lab& lab = *lab_;
  Enter in(lab.obs);
  XdpSource src("obs0", {.frame_count = 64});
  FrameSender sender(lab.net);
  size_t total = 0;
  for (uint32_t round = 0; round < 60; ++round) {
    for (uint32_t i = 0; i < 50; ++i) sender.send(crafted_udp(round * 50 + i));
    total += drain(src, at_least(50), 7).size();
  }
  EXPECT_EQ(total, 3000u);
  EXPECT_EQ(totals(src).dropped, 0u);

  // The last burst goes back to the kernel at the next receive: all 64 frames are free.
  std::vector<Frame> none(8);
  for (uint32_t q = 0; q < src.queues(); ++q) EXPECT_EQ(src.receive(q, none), 0u);
  for (uint32_t i = 0; i < 200; ++i) sender.send(crafted_udp(i));
  auto end = std::chrono::steady_clock::now() + 2s;
  while (totals(src).dropped < 136 && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(1ms);
  EXPECT_EQ(drain(src, at_least(64)).size(), 64u);
  for (uint32_t q = 0; q < src.queues(); ++q) EXPECT_EQ(src.receive(q, none), 0u);
  QueueCounters t = totals(src);
  EXPECT_EQ(t.received, 3064u);
  EXPECT_EQ(t.dropped, 136u);
}

TEST_F(XdpSourceTest, ErrorsNameCauseAndFix) {
  const Lab& lab = *lab_;
  Enter in(lab.obs);
  auto error = [](const std::string& ifname, const XdpOptions& opts) -> std::string {
    try {
      XdpSource src(ifname, opts);
    } catch (const SourceError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(error("nosuch0", {}),
            "no interface nosuch0 (see ip link; in a namespace, run inside it)");
  EXPECT_EQ(error("obs0", {.frame_count = 1000}),
            "AF_XDP frame_count must be a power of two (got 1000)");
  EXPECT_EQ(error("obs0", {.queues = 3}), "obs0 has 2 receive queues, not 3 (see ethtool -l obs0)");
  // veth runs native XDP but has no zero-copy AF_XDP; nothing stays attached after.
  EXPECT_EQ(error("obs0", {.copy = XdpOptions::Copy::zero_copy}),
            "AF_XDP socket on queue 0 of obs0: the driver has no zero-copy AF_XDP (use copy mode)");
  EXPECT_EQ(error("obs0", {.mode = XdpOptions::Mode::generic, .copy = XdpOptions::Copy::zero_copy}),
            "zero-copy AF_XDP needs native XDP, which obs0 does not run");
  EXPECT_FALSE(lab.xdp_attached());
  {
    // A second observer on the interface must fail without detaching the first's program.
    XdpSource first("obs0", {});
    std::string second = error("obs0", {});
    EXPECT_TRUE(second ==
                    "obs0 already has an XDP program (ip link show obs0; if it is stale: "
                    "ip link set obs0 xdp off)" ||
                second.find("taken by another AF_XDP socket") != std::string::npos)
        << second;
    EXPECT_TRUE(lab.xdp_attached());
  }
  lab.obs.run("ip link set down dev obs0");
  EXPECT_EQ(error("obs0", {}), "obs0 is down: ip link set obs0 up");

  // Without privileges (a child that became nobody).
  lab.obs.run("ip link set up dev obs0");
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    bool dropped = setgroups(0, nullptr) == 0 && setresgid(65534, 65534, 65534) == 0 &&
                   setresuid(65534, 65534, 65534) == 0;
    std::string msg = dropped ? error("obs0", {}) : "could not drop privileges";
    ssize_t n = write(fds[1], msg.data(), msg.size());
    _exit(n == ssize_t(msg.size()) ? 0 : 1);
  }
  close(fds[1]);
  std::string msg(512, '\0');
  msg.resize(size_t(std::max<ssize_t>(0, read(fds[0], msg.data(), msg.size()))));
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_EQ(msg, "AF_XDP on obs0 needs root or CAP_NET_ADMIN+CAP_BPF+CAP_NET_RAW");
  EXPECT_FALSE(lab.xdp_attached());
}

// Loopback has no native XDP: automatic mode falls back to generic, native mode says so.
TEST_F(XdpSourceTest, FallsBackToGenericXdp) {
  const Lab& lab = *lab_;
  Enter in(lab.obs);
  lab.obs.run("ip link set up dev lo");
  {
    XdpSource src("lo", {});
    EXPECT_EQ(src.describe(), "AF_XDP lo, 1 queue, generic mode, copy");
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(9);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string hello = "pspdr over loopback";
    sendto(fd, hello.data(), hello.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    close(fd);
    std::vector<Buffer> got = drain(src, at_least(1));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(std::string(got[0].end() - hello.size(), got[0].end()), hello);
  }
  EXPECT_EQ(lab.obs.run("ip link show dev lo").find("xdp"), std::string::npos);
  try {
    XdpSource src("lo", {.mode = XdpOptions::Mode::native});
    ADD_FAILURE() << "native XDP on lo: " << src.describe();
  } catch (const SourceError& e) {
    EXPECT_EQ(
        std::string(e.what()).rfind("the driver of lo refuses native XDP (try generic mode): ", 0),
        0u)
        << e.what();
  }
}

// The path a SIGTERM takes, called directly: the program is detached while the source
// lives; its destructor then has nothing left to detach.
TEST_F(XdpSourceTest, CleanupsDetachTheProgram) {
  const Lab& lab = *lab_;
  Enter in(lab.obs);
  XdpSource src("obs0", {});
  ASSERT_TRUE(lab.xdp_attached());
  run_all_cleanups();
  EXPECT_FALSE(lab.xdp_attached()) << lab.obs.run("ip link show dev obs0");
}

// Real signals, in a child process that holds a source: SIGTERM in `terminate` mode ends
// it by the signal after the cleanups; in `stop_flag` mode it sets the flag the child
// polls, and the child's own destructor detaches.
TEST_F(XdpSourceTest, SignalsDetachTheProgram) {
  const Lab& lab = *lab_;
  Enter in(lab.obs);
  for (OnStopSignal mode : {OnStopSignal::terminate, OnStopSignal::stop_flag}) {
    int ready[2];
    ASSERT_EQ(pipe(ready), 0);
    pid_t child = fork();
    if (child == 0) {
      close(ready[0]);
      handle_stop_signals(mode);
      {
        XdpSource src("obs0", {});
        if (write(ready[1], "r", 1) != 1) _exit(2);
        // In terminate mode the signal alone must end the process: never return.
        while (mode == OnStopSignal::terminate || !stop_requested.load())
          std::this_thread::sleep_for(1ms);
      }
      _exit(0);
    }
    close(ready[1]);
    char c = 0;
    ASSERT_EQ(read(ready[0], &c, 1), 1) << "the child could not open the source";
    close(ready[0]);
    EXPECT_TRUE(lab.xdp_attached());
    kill(child, SIGTERM);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    if (mode == OnStopSignal::terminate)
      EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << status;
    else
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    EXPECT_FALSE(lab.xdp_attached()) << lab.obs.run("ip link show dev obs0");
  }
}

}  // namespace
}  // namespace pspdr
