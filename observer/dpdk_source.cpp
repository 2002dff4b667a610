#include "observer/dpdk_source.hpp"

#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_kvargs.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string_view>

#include "shared/clock.hpp"

namespace pspdr {
namespace {

// net_pcap has no end-of-file signal. It reads its file inside rx_burst, so an empty
// burst means the end of the file, or an mbuf allocation that failed (counted in
// rx_nombuf) and is retried at the next burst. This many empty bursts in a row, on every
// queue, are taken as the end -- also before any packet: the file is open from the start,
// so an empty trace ends at once rather than never.
constexpr uint32_t kEndPolls = 32;

[[noreturn]] void fail(const std::string& what) {
  throw SourceError(what);
}

std::string err(int e) {
  return rte_strerror(e < 0 ? -e : e);
}

// The devices named by --vdev, as "NAME" from "NAME,key=value,...".
std::vector<std::string> vdev_names(const std::vector<std::string>& args) {
  std::vector<std::string> names;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string spec;
    if (args[i].starts_with("--vdev="))
      spec = args[i].substr(7);
    else if (args[i] == "--vdev" && i + 1 < args.size())
      spec = args[++i];
    else
      continue;
    names.push_back(spec.substr(0, spec.find(',')));
  }
  return names;
}

// A vdev's driver is its name without the instance number: net_pcap0 -> net_pcap.
std::string driver_library(const std::string& vdev) {
  std::string driver = vdev;
  while (!driver.empty() && std::isdigit(static_cast<unsigned char>(driver.back())))
    driver.pop_back();
  return std::string(RTE_EAL_PMD_PATH) + "/librte_" + driver + ".so";
}

std::string eal_init_error(int e, const std::vector<std::string>& args) {
  if (e == EALREADY)
    return "DPDK's EAL has already run in this process, and it runs once: open one DPDK source";
  std::vector<std::string> vdevs = vdev_names(args);
  if (e == ENODEV && !vdevs.empty()) {
    std::string names, loads;
    for (const std::string& v : vdevs) {
      std::string so = driver_library(v);
      if (!std::filesystem::exists(so))
        return "DPDK EAL has no driver for --vdev " + v + " (no " + so +
               "): check the device name, or install its PMD";
      names += (names.empty() ? "" : ", ") + v;
      loads += " -d " + so;
    }
    return "DPDK EAL has no driver for --vdev " + names + ": load it with" + loads;
  }
  // EAL reports missing hugepages as EACCES, also to root.
  if (e == EACCES && geteuid() == 0)
    return "DPDK EAL init failed: no hugepages: reserve some (sysctl vm.nr_hugepages=N) or pass "
           "--no-huge -m MB";
  if (e == EACCES || e == EPERM) return "DPDK EAL init failed: " + err(e) + ": run as root";
  if (e == EINVAL)
    return "DPDK EAL init failed: invalid EAL arguments (EAL's message above says which)";
  return "DPDK EAL init failed: " + err(e) + " (EAL's message above says why)";
}

// Whether net_pcap's devargs make it read a trace file once (rx_pcap without
// infinite_rx), rather than replay it forever or capture from an interface.
bool reads_trace_once(const rte_eth_dev_info& info) {
  const rte_devargs* da = info.device ? rte_dev_devargs(info.device) : nullptr;
  if (!da || !da->args) return false;
  rte_kvargs* kv = rte_kvargs_parse(da->args, nullptr);
  if (!kv) return false;
  const char* infinite = rte_kvargs_get(kv, "infinite_rx");
  bool once = rte_kvargs_count(kv, "rx_pcap") > 0 && (!infinite || std::atoi(infinite) == 0);
  rte_kvargs_free(kv);
  return once;
}

}  // namespace

std::vector<std::string> split_shell_words(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size() && text[i + 1] == '\n') {  // a continued line
      ++i;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    if (c == '\\') {
      if (++i < text.size()) word += text[i];
    } else if (c == '\'') {
      size_t end = text.find('\'', i + 1);
      if (end == std::string::npos) throw SourceError("unterminated ' in DPDK EAL arguments");
      word.append(text, i + 1, end - i - 1);
      i = end;
    } else if (c == '"') {
      for (++i;; ++i) {
        if (i >= text.size()) throw SourceError("unterminated \" in DPDK EAL arguments");
        if (text[i] == '"') break;
        if (text[i] == '\\' && i + 1 < text.size() &&
            std::string_view("\"\\$`").find(text[i + 1]) != std::string_view::npos)
          ++i;
        word += text[i];
      }
    } else {
      word += c;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

DpdkSource::DpdkSource(const std::string& eal_args, const DpdkOptions& opts) : opts_(opts) {
  args_.push_back("pspdr");
  for (std::string& w : split_shell_words(eal_args)) args_.push_back(std::move(w));
  std::vector<char*> argv;
  for (std::string& a : args_) argv.push_back(a.data());
  argv.push_back(nullptr);
  if (rte_eal_init(int(args_.size()), argv.data()) < 0) fail(eal_init_error(rte_errno, args_));
  try {
    open_port();
  } catch (...) {
    release();
    throw;
  }
}

DpdkSource::~DpdkSource() {
  release();
}

void DpdkSource::open_port() {
  const uint16_t port = opts_.port;
  for (const std::string& name : vdev_names(args_)) {
    uint16_t id;
    if (rte_eth_dev_get_port_by_name(name.c_str(), &id) != 0)
      fail("--vdev " + name + " failed to probe: its driver's message above says why (an " +
           "argument, or a file or interface it cannot open)");
  }
  uint16_t ports = rte_eth_dev_count_avail();
  if (ports == 0) fail("EAL found no ports: pass a --vdev or allow a PCI device");
  if (!rte_eth_dev_is_valid_port(port))
    fail("no DPDK port " + std::to_string(port) + ": EAL found " +
         (ports == 1 ? "1 port, port 0"
                     : std::to_string(ports) + " ports, 0 to " + std::to_string(ports - 1)));

  rte_eth_dev_info info{};
  if (int rc = rte_eth_dev_info_get(port, &info); rc != 0)
    fail("DPDK port " + std::to_string(port) + ": no device info: " + err(rc));
  driver_ = info.driver_name ? info.driver_name : "unknown PMD";
  const std::string where = "DPDK port " + std::to_string(port) + " (" + driver_ + ")";
  const std::string pool_hint =
      driver_ == "net_pcap"
          ? " (net_pcap's message above says why; with infinite_rx the pool must hold the "
            "whole trace, mbufs > its packets, and each packet must fit one mbuf's 2048 bytes)"
          : "";
  finite_ = driver_ == "net_pcap" && reads_trace_once(info);

  uint16_t queues = std::max<uint16_t>(1, opts_.queues);
  rte_eth_conf conf{};
  // The Toeplitz hash with this repeated 16-bit pattern gives the same value with source
  // and destination swapped (Woo and Park, 2012), so one flow's two directions share a queue.
  std::vector<uint8_t> key(info.hash_key_size ? info.hash_key_size : 40);
  for (size_t i = 0; i < key.size(); ++i) key[i] = i % 2 ? 0x5a : 0x6d;
  const uint64_t hash_fields =
      (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
  if (queues > 1 && hash_fields == 0) {
    rss_note_ = "not " + std::to_string(queues) + ": " + driver_ + " has no RSS";
    queues = 1;
  } else if (queues > 1) {
    if (queues > info.max_rx_queues)
      fail(where + " has at most " + std::to_string(info.max_rx_queues) + " RX queues, not " +
           std::to_string(queues) + ": ask for fewer queues");
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_key = key.data();
    conf.rx_adv_conf.rss_conf.rss_key_len = uint8_t(key.size());
    conf.rx_adv_conf.rss_conf.rss_hf = hash_fields;
    rss_ = true;
  }

  // Receive only: no TX queues.
  if (int rc = rte_eth_dev_configure(port, queues, 0, &conf); rc != 0)
    fail(where + ": configuring " + std::to_string(queues) + " RX queues failed: " + err(rc));
  port_open_ = true;
  uint16_t ring = opts_.ring_size;
  if (int rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &ring, nullptr); rc != 0)
    fail(where + ": RX ring of " + std::to_string(opts_.ring_size) + " descriptors: " + err(rc));

  // A NIC fills every descriptor with an mbuf at start; the last burst of each queue is
  // held until the next receive.
  const uint64_t in_use = uint64_t(queues) * (ring + kMaxBurst);
  if (opts_.mbufs < in_use)
    fail(where + ": " + std::to_string(opts_.mbufs) + " mbufs cannot fill " +
         std::to_string(queues) + " RX rings of " + std::to_string(ring) +
         " plus a burst each: use at least " + std::to_string(in_use) + " mbufs");
  const int socket = rte_eth_dev_socket_id(port);
  // The mempool cache must stay below 1/1.5 of the pool (rte_mempool's rule).
  const unsigned cache = std::min<unsigned>(256, opts_.mbufs * 2 / 3);
  pool_ =
      rte_pktmbuf_pool_create("pspdr_rx", opts_.mbufs, cache, 0, RTE_MBUF_DEFAULT_BUF_SIZE, socket);
  if (!pool_)
    fail(where + ": no pool of " + std::to_string(opts_.mbufs) + " mbufs: " + err(rte_errno) +
         ": give EAL more memory (-m MB) or use fewer mbufs");

  for (uint16_t q = 0; q < queues; ++q) {
    if (int rc = rte_eth_rx_queue_setup(port, q, ring, socket, nullptr, pool_); rc != 0)
      fail(where + ": RX queue " + std::to_string(q) + " setup failed: " + err(rc) + pool_hint);
  }
  if (int rc = rte_eth_dev_start(port); rc != 0)
    fail(where + ": start failed: " + err(rc) + pool_hint);
  port_started_ = true;
  // Some PMDs (files, rings) have no notion of promiscuity; they see everything anyway.
  if (int rc = rte_eth_promiscuous_enable(port); rc != 0 && rc != -ENOTSUP)
    fail(where + ": promiscuous mode: " + err(rc));

  queue_count_ = queues;
  queue_ = std::make_unique<Queue[]>(queues);
}

void DpdkSource::release() noexcept {
  for (uint32_t q = 0; q < queue_count_; ++q) {
    rte_pktmbuf_free_bulk(queue_[q].held, queue_[q].held_count);
    queue_[q].held_count = 0;
  }
  if (port_started_) rte_eth_dev_stop(opts_.port);
  if (port_open_) rte_eth_dev_close(opts_.port);
  // After the port: its queues may hold mbufs of the pool until it is closed.
  if (pool_) rte_mempool_free(pool_);
  // EAL leaves its runtime directory (shared config, memory maps) for secondary
  // processes; this source is always the primary, so it removes what it made.
  std::string runtime_dir = rte_eal_get_runtime_dir();
  rte_eal_cleanup();
  std::error_code ignored;
  if (!runtime_dir.empty()) std::filesystem::remove_all(runtime_dir, ignored);
}

void DpdkSource::worker_started(uint32_t queue) {
  // Without an lcore id, rte_mempool bypasses its per-core cache: every mbuf then comes
  // cold from the far end of the whole pool (on bench/capacity: 1.98 Mpps, not 2.85).
  if (rte_thread_register() != 0)
    std::fprintf(stderr,
                 "pspdr-observe: queue %u: DPDK has no free lcore for its worker (%s); it "
                 "receives without a per-core mbuf cache, more slowly\n",
                 queue, err(rte_errno).c_str());
}

void DpdkSource::worker_stopped(uint32_t /*queue*/) {
  rte_thread_unregister();
}

uint32_t DpdkSource::receive(uint32_t queue, std::span<Frame> frames) {
  Queue& q = queue_[queue];
  if (q.held_count) {
    rte_pktmbuf_free_bulk(q.held, q.held_count);
    q.held_count = 0;
  }
  const uint16_t want = uint16_t(std::min<size_t>(frames.size(), kMaxBurst));
  const uint16_t n = rte_eth_rx_burst(opts_.port, uint16_t(queue), q.held, want);
  if (n == 0) {
    uint32_t empty = q.empty_polls.load(std::memory_order_relaxed);
    if (empty < kEndPolls) q.empty_polls.store(empty + 1, std::memory_order_relaxed);
    return 0;
  }
  q.empty_polls.store(0, std::memory_order_relaxed);
  q.held_count = n;
  // One wall-clock reading per burst: a burst arrives within microseconds, and the
  // observer's clock counts whole seconds.
  const double ts = realtime_seconds();
  // A frame larger than one mbuf continues in chained segments: the observer sees the
  // first segment (2048 bytes, headers and then some), as if cut by a snap length.
  for (uint16_t i = 0; i < n; ++i) {
    const rte_mbuf* m = q.held[i];
    frames[i] = Frame{rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m),
                      rte_pktmbuf_pkt_len(m), ts, LinkType::ethernet};
  }
  q.received.store(q.received.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  return n;
}

bool DpdkSource::exhausted() const {
  if (!finite_) return false;
  for (uint32_t q = 0; q < queue_count_; ++q)
    if (queue_[q].empty_polls.load(std::memory_order_relaxed) < kEndPolls) return false;
  return true;
}

QueueCounters DpdkSource::counters(uint32_t queue) const {
  QueueCounters c;
  c.received = queue_[queue].received.load(std::memory_order_relaxed);
  rte_eth_stats st{};
  if (rte_eth_stats_get(opts_.port, &st) == 0) {
    if (queue < RTE_ETHDEV_QUEUE_STAT_CNTRS) c.dropped = st.q_errors[queue];
    // Port-wide losses belong to no queue in particular: they are counted on queue 0.
    if (queue == 0) c.dropped += st.imissed + st.rx_nombuf;
  }
  return c;
}

std::string DpdkSource::describe() const {
  std::string d = "DPDK port " + std::to_string(opts_.port) + " " + driver_ + " (" +
                  std::to_string(queue_count_) + (queue_count_ > 1 ? " queues" : " queue");
  if (rss_) d += ", symmetric RSS";
  if (!rss_note_.empty()) d += ", " + rss_note_;
  if (finite_) d += "; trace read once";
  return d + ")";
}

}  // namespace pspdr
