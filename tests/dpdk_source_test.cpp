// DpdkSource on DPDK's net_pcap virtual device: a trace written here arrives frame for
// frame with identical bytes, then the source says it is exhausted; several queues use
// symmetric RSS where the PMD has it; each way of failing to start gives a one-line
// message naming the cause and the fix.
//
// DPDK's EAL starts once per process. The start cases therefore each run in a forked
// child, before the parent starts EAL for the reading test (tests run in file order).
#include <gtest/gtest.h>
#include <rte_lcore.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "observer/dpdk_source.hpp"
#include "shared/builder.hpp"
#include "shared/pcap_writer.hpp"
#include "tests/support/temp_dir.hpp"

namespace pspdr {
namespace {

bool g_eal_started = false;

// Debian installs the PMDs under a directory named after DPDK's ABI version.
std::string pcap_pmd() {
  std::error_code ec;
  for (const auto& lib : std::filesystem::directory_iterator("/usr/lib", ec)) {
    std::filesystem::path pmds = lib.path() / "dpdk";
    for (const auto& dir : std::filesystem::directory_iterator(pmds, ec))
      if (std::filesystem::exists(dir.path() / "librte_net_pcap.so"))
        return (dir.path() / "librte_net_pcap.so").string();
  }
  return "";
}

// Memory without hugepages, no PCI scan, and no shared files, so that tests running in
// parallel (or a testpmd) do not contend for DPDK's runtime directory.
std::string eal_base() {
  return "--no-huge -m 512 --no-pci --no-shconf -d " + pcap_pmd();
}

std::string skip_reason() {
  if (geteuid() != 0) return "DPDK needs root: run the test as root";
  if (pcap_pmd().empty()) return "no librte_net_pcap.so under /usr/lib/*/dpdk (apt install dpdk)";
  return "";
}

std::vector<build::Buffer> sample_frames() {
  std::vector<build::Buffer> frames;
  for (int i = 0; i < 300; ++i) {
    build::Ip ip;
    ip.id = uint16_t(i);
    build::Buffer pkt;
    if (i % 3 == 0) {
      build::Tcp tcp;
      tcp.sport = uint16_t(40000 + i);
      tcp.payload.assign(size_t(i * 5 % 1400), uint8_t(i));  // up to a full-size frame
      pkt = build::tcp_packet(ip, tcp);
    } else if (i % 3 == 1) {
      ip.src = "2001:db8::1";
      ip.dst = "2001:db8::2";
      build::Udp udp;
      udp.payload.assign(size_t(i % 40), 0xab);
      pkt = build::udp_packet(ip, udp);
    } else {
      pkt = build::tcp_packet(ip, build::Tcp{});
    }
    frames.push_back(build::frame(LinkType::ethernet, pkt, i % 7 == 0 ? 1 : 0));
  }
  return frames;
}

// Constructs a DpdkSource in a child process; returns its error message, or
// "started: " and its description.
std::string start_in_child(const std::string& eal_args, const DpdkOptions& opts = {}) {
  int fds[2];
  if (pipe(fds) != 0) return "pipe failed";
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string result;
    try {
      DpdkSource source(eal_args, opts);
      result = "started: " + source.describe() + " queues=" + std::to_string(source.queues());
    } catch (const SourceError& e) {
      result = e.what();
    }
    ssize_t written = write(fds[1], result.data(), result.size());
    _exit(written == ssize_t(result.size()) ? 0 : 1);
  }
  close(fds[1]);
  std::string out;
  char buf[512];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, size_t(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return out;
}

TEST(SplitShellWords, QuotesAndEscapes) {
  using V = std::vector<std::string>;
  EXPECT_EQ(split_shell_words(""), V{});
  EXPECT_EQ(split_shell_words("  -l 0-1\t--no-huge \n"), (V{"-l", "0-1", "--no-huge"}));
  EXPECT_EQ(split_shell_words("--vdev='net_pcap0,rx_pcap=/a b.pcap'"),
            V{"--vdev=net_pcap0,rx_pcap=/a b.pcap"});
  EXPECT_EQ(split_shell_words(R"("a \"b\" \$c \d" e\ f '' "")"),
            (V{R"(a "b" $c \d)", "e f", "", ""}));
  EXPECT_EQ(split_shell_words(R"('it'\''s')"), V{"it's"});
  EXPECT_EQ(split_shell_words("a \\\n b\\\nc"), (V{"a", "bc"}));
  EXPECT_THROW(split_shell_words("--vdev='net_pcap0"), SourceError);
  EXPECT_THROW(split_shell_words("\"abc"), SourceError);
}

TEST(DpdkSource, StartsOrNamesCauseAndFix) {
  if (std::string why = skip_reason(); !why.empty()) GTEST_SKIP() << why;
  if (g_eal_started) GTEST_SKIP() << "EAL already started in this process (run tests in order)";
  testing::TempDir dir;
  std::string trace = dir.file("one.pcap");
  {
    PcapWriter w(trace, LinkType::ethernet);
    w.write(1.0, sample_frames().front());
  }
  std::string vdev = " --vdev=net_pcap0,rx_pcap=" + trace;

  std::string none = start_in_child(eal_base());
  if (none.find("EAL init failed") != std::string::npos)
    GTEST_SKIP() << "DPDK cannot init: " << none;
  EXPECT_EQ(none, "EAL found no ports: pass a --vdev or allow a PCI device");

  EXPECT_NE(start_in_child(eal_base() + vdev, {.port = 3})
                .find("no DPDK port 3: EAL found 1 port, port 0"),
            std::string::npos);
  std::string missing = start_in_child(eal_base() + " --vdev=net_pcap0,rx_pcap=/nonexistent");
  EXPECT_NE(missing.find("--vdev net_pcap0 failed to probe"), std::string::npos) << missing;
  std::string bogus = start_in_child(eal_base() + " --vdev=net_bogus0");
  EXPECT_NE(bogus.find("no driver for --vdev net_bogus0"), std::string::npos) << bogus;
  std::string memory = start_in_child(eal_base() + vdev, {.mbufs = 1'000'000});
  EXPECT_NE(memory.find("give EAL more memory"), std::string::npos) << memory;

  // net_null offers RSS: two queues, spread with the symmetric key.
  EXPECT_EQ(start_in_child(eal_base() + " --vdev=net_null0", {.queues = 2}),
            "started: DPDK port 0 net_null (2 queues, symmetric RSS) queues=2");
  // net_pcap has none: two queues asked for, one used, and the description says why.
  EXPECT_EQ(start_in_child(eal_base() + vdev, {.queues = 2}),
            "started: DPDK port 0 net_pcap (1 queue, not 2: net_pcap has no RSS; trace read once) "
            "queues=1");
}

TEST(DpdkSource, DeliversEveryFrameThenEnds) {
  if (std::string why = skip_reason(); !why.empty()) GTEST_SKIP() << why;
  testing::TempDir dir;
  std::string trace = dir.file("sample.pcap");
  std::vector<build::Buffer> expected = sample_frames();
  {
    PcapWriter w(trace, LinkType::ethernet);
    for (size_t i = 0; i < expected.size(); ++i) w.write(1.7e9 + double(i), expected[i]);
  }

  g_eal_started = true;
  std::unique_ptr<DpdkSource> source;
  try {
    source = std::make_unique<DpdkSource>(eal_base() + " --vdev=net_pcap0,rx_pcap=" + trace,
                                          DpdkOptions{});
  } catch (const SourceError& e) {
    if (std::string(e.what()).find("EAL init failed") != std::string::npos)
      GTEST_SKIP() << "DPDK cannot init: " << e.what();
    FAIL() << e.what();
  }
  ASSERT_EQ(source->queues(), 1u);
  EXPECT_EQ(source->describe(), "DPDK port 0 net_pcap (1 queue; trace read once)");

  double before = double(std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count()) *
                  1e-6;
  std::vector<build::Buffer> got;
  Frame frames[64];
  // On a thread of its own, as a worker: EAL knows it (an lcore id, so a mempool cache)
  // from worker_started to worker_stopped only.
  unsigned lcore_before = 0, lcore_while = 0, lcore_after = 0;
  std::thread worker([&] {
    lcore_before = rte_lcore_id();
    source->worker_started(0);
    lcore_while = rte_lcore_id();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!source->exhausted() && std::chrono::steady_clock::now() < deadline) {
      uint32_t n = source->receive(0, frames);
      for (uint32_t i = 0; i < n; ++i) {
        EXPECT_EQ(frames[i].link, LinkType::ethernet);
        EXPECT_EQ(frames[i].caplen, frames[i].wirelen);
        EXPECT_GE(frames[i].ts, before - 1);  // the wall clock at reception, not the trace's
        got.emplace_back(frames[i].data, frames[i].data + frames[i].caplen);
      }
    }
    source->worker_stopped(0);
    lcore_after = rte_lcore_id();
  });
  worker.join();
  EXPECT_EQ(lcore_before, LCORE_ID_ANY);
  EXPECT_NE(lcore_while, LCORE_ID_ANY);
  EXPECT_EQ(lcore_after, LCORE_ID_ANY);
  ASSERT_TRUE(source->exhausted()) << "still not exhausted after 10 s";
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(got[i], expected[i]) << "frame " << i;
  QueueCounters c = source->counters(0);
  EXPECT_EQ(c.received, expected.size());
  EXPECT_EQ(c.dropped, 0u);
  EXPECT_EQ(source->receive(0, frames), 0u);
  EXPECT_TRUE(source->exhausted());
}

}  // namespace
}  // namespace pspdr
