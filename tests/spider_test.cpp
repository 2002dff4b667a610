// The spider and the merger without root: the spider runs its real loop, observer and
// merger against generators the test serves itself (threads on the same shared-memory
// channels the generator processes use) and a packet source the test feeds with each
// connection's packets. Pairing by port and time, a flow that never appears, a
// generator that dies, every job one line.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <atomic>
#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "measure/merger.hpp"
#include "measure/spider.hpp"
#include "shared/builder.hpp"
#include "shared/clock.hpp"
#include "shared/rate_limiter.hpp"
#include "shared/wakeup.hpp"

namespace pspdr {
namespace {

// The client's address in each family.
const char* client(const std::string& target) {
  return target.find(':') == std::string::npos ? "192.0.2.100" : "2001:db8::100";
}

// Frames the test hands in, received in that order by the spider's observer.
class FedSource final : public PacketSource {
 public:
  uint32_t queues() const override { return 1; }
  void feed(build::Buffer frame, double ts) {
    std::lock_guard g(lock_);
    pending_.push_back({std::move(frame), ts});
  }
  uint32_t receive(uint32_t, std::span<Frame> frames) override {
    std::lock_guard g(lock_);
    held_.clear();
    held_.reserve(frames.size());  // no reallocation: the frames point into it
    uint32_t n = 0;
    for (; n < frames.size() && !pending_.empty(); ++n) {
      held_.push_back(std::move(pending_.front()));
      pending_.pop_front();
      const Held& h = held_.back();
      frames[n] = Frame{.data = h.bytes.data(),
                        .caplen = uint32_t(h.bytes.size()),
                        .wirelen = uint32_t(h.bytes.size()),
                        .ts = h.ts};
    }
    return n;
  }
  QueueCounters counters(uint32_t) const override { return {}; }
  std::string describe() const override { return "the test's packets"; }
  bool drained() {
    std::lock_guard g(lock_);
    return pending_.empty();
  }

 private:
  struct Held {
    build::Buffer bytes;
    double ts;
  };
  std::mutex lock_;
  std::deque<Held> pending_;
  std::vector<Held> held_;
};

// Each target's connection comes from its own port, so a test knows it beforehand.
uint16_t port_for(const ConnectionRequest& r) {
  return uint16_t(40000 + (r.family == 4 ? r.addr[3] : 256 + r.addr[15]));
}

std::string address_text(const ConnectionRequest& r) {
  char buf[64];
  inet_ntop(r.family == 4 ? AF_INET : AF_INET6, r.addr, buf, sizeof buf);
  return buf;
}

// A connection's packets as the observer would capture them: handshake (the target's
// SYN-ACK with MSS `mss`), then a reset that completes the flow.
void send_handshake(FedSource& source, const std::string& target, uint16_t sport, uint16_t dport,
                    uint16_t mss, double t) {
  using namespace build;
  Ip out{.src = client(target), .dst = target}, back{.src = target, .dst = client(target)};
  auto send = [&](const Ip& ip, Tcp tcp, double at) {
    source.feed(frame(LinkType::ethernet, tcp_packet(ip, tcp)), at);
  };
  send(out, {.sport = sport, .dport = dport, .flags = 0x02, .options = opt::mss(1460)}, t);
  send(back,
       {.sport = dport,
        .dport = sport,
        .seq = 5000,
        .ack = 1001,
        .flags = 0x12,
        .options = opt::mss(mss)},
       t + 0.002);
  send(out, {.sport = sport, .dport = dport, .seq = 1001, .ack = 5001, .flags = 0x10}, t + 0.003);
  send(out, {.sport = sport, .dport = dport, .seq = 1001, .flags = 0x04}, t + 0.004);
}

// What a test generator does with a connection request.
enum class Act {
  answer,  // a handshake the target answers with MSS 1400, then a reset; result ok
  reused,  // the same once the source has delivered what it holds (older traffic)
  silent,  // the result says ok, but no packet of it reaches the observer
  die,     // the generator dies holding it (once per target)
};

// Generators served by threads of the test on the spider's channels.
class TestGenerators final : public Generators {
 public:
  TestGenerators(size_t count, FedSource& source, std::function<Act(const std::string&)> act)
      : Generators(count), source_(source), act_(std::move(act)), dead_(count) {
    thread_ = std::thread([this] { serve(); });
  }
  ~TestGenerators() override {
    stop_ = true;
    thread_.join();
  }
  std::vector<size_t> restart_dead() override {
    std::vector<size_t> dead;
    for (size_t i = 0; i < size(); ++i)
      if (dead_[i].load(std::memory_order_acquire)) {
        reset_channel(i);  // the serving thread keeps off a dead generator's channel
        dead_[i].store(false, std::memory_order_release);
        dead.push_back(i);
      }
    return dead;
  }

 private:
  void serve() {
    while (!stop_) {
      for (size_t i = 0; i < size(); ++i)
        if (!dead_[i].load(std::memory_order_acquire)) serve(i);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  void serve(size_t i) {
    ConnectionRequest req;
    bool pushed = false;
    while (channel(i).requests.pop(std::span<ConnectionRequest>(&req, 1)) == 1) {
      std::string target = address_text(req);
      Act act = act_(target);
      if (act == Act::die && died_for_.insert(target).second) {
        dead_[i].store(true, std::memory_order_release);
        return;
      }
      ConnectionResult r = connect(req, act);
      while (!channel(i).results.push(r)) std::this_thread::yield();
      pushed = true;
    }
    if (pushed) wake(shared().spider_wakeup);
  }
  ConnectionResult connect(const ConnectionRequest& req, Act act) {
    uint16_t sport = port_for(req);
    double t = realtime_seconds();
    if (act == Act::reused) {
      // Captured, and expired as the packet clock moved on, before this connection.
      while (!source_.drained()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      t = realtime_seconds();
    }
    if (act != Act::silent) send_handshake(source_, address_text(req), sport, req.dport, 1400, t);
    return ConnectionResult{.id = req.id,
                            .state = SpdrState::ok,
                            .family = req.family,
                            .sport = sport,
                            .started = t,
                            .finished = t + 0.01};
  }
  FedSource& source_;
  std::function<Act(const std::string&)> act_;
  std::vector<std::atomic<bool>> dead_;
  std::set<std::string> died_for_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

struct Campaign {
  SpiderResult result;
  std::vector<std::string> lines;
};

// Runs the spider on `input`; `before` may feed packets it captures first.
Campaign run(const std::string& input, std::function<Act(const std::string&)> act,
             std::vector<std::string> opt_out = {},
             const std::function<void(FedSource&)>& before = {},
             ConnectMode mode = ConnectMode::tcp,
             const std::function<void(SpiderSettings&)>& tune = {}) {
  SpiderSettings s;
  s.plugin = find_plugin("mss");
  s.plugin_options.connect = mode;
  s.interface = "";  // the test's source: no interface to check
  s.workers = 4;
  s.timeout = 1;
  s.generators = 2;
  s.rate = 0;
  s.output_flows = true;
  s.opt_out = std::move(opt_out);
  if (tune) tune(s);
  FILE* in = fmemopen(const_cast<char*>(input.data()), input.size(), "r");
  FILE* out = std::tmpfile();
  JobReader jobs(in, JobFormat::ndjson);
  auto source = std::make_unique<FedSource>();
  if (before) before(*source);
  auto generators = std::make_unique<TestGenerators>(s.generators, *source, std::move(act));
  std::atomic<bool> stop{false};
  Campaign r;
  r.result = run_spider(s, SpiderParts{std::move(source), std::move(generators)}, jobs, out, stop);
  std::rewind(out);
  char* line = nullptr;
  size_t cap = 0;
  for (ssize_t n; (n = getline(&line, &cap, out)) > 0;) r.lines.emplace_back(line, size_t(n) - 1);
  std::free(line);
  std::fclose(out);
  std::fclose(in);
  return r;
}

struct Result {
  std::string dip;
  std::vector<std::string> conditions;
  std::vector<int64_t> flow_sp;  // each flow's observed source port, -1 if not observed
  std::vector<int64_t> flow_dp;  // and destination port
  std::vector<int64_t> states;
  std::string error;
};

Result parse(const std::string& line) {
  simdjson::dom::parser p;
  simdjson::dom::element e = p.parse(line);
  Result r;
  std::string_view s;
  if (!e["dip"].get(s)) r.dip = std::string(s);
  if (!e["error"].get(s)) r.error = std::string(s);
  simdjson::dom::array a;
  if (!e["conditions"].get(a))
    for (auto c : a) r.conditions.emplace_back(std::string_view(c));
  if (!e["flow_results"].get(a))
    for (auto f : a) {
      int64_t sp;
      r.flow_sp.push_back(!bool(f["observed"]) || f["sp"].get(sp) ? -1 : sp);
      r.flow_dp.push_back(f["dp"].get(sp) ? -1 : sp);
      r.states.push_back(int64_t(f["spdr_state"]));
    }
  return r;
}

std::map<std::string, Result> by_dip(const Campaign& r) {
  std::map<std::string, Result> out;
  for (const std::string& l : r.lines) {
    Result res = parse(l);
    out[res.dip] = res;
  }
  return out;
}

const std::vector<std::string> kOnline = {"mss.connectivity.online", "mss.option.local.value:1460",
                                          "mss.option.remote.value:1400",
                                          "mss.option.received.deflated"};

TEST(Spider, PairsEachConnectionWithItsFlow) {
  std::string input;
  for (int i = 1; i <= 12; ++i) input += "{\"dip\": \"198.51.100." + std::to_string(i) + "\"}\n";
  input += "{\"dip\": \"2001:db8::7\", \"dp\": 8080}\n";
  // Traffic 30 s earlier on the very port of one job's connection is not its flow.
  auto earlier = [](FedSource& source) {
    send_handshake(source, "198.51.100.1", 40001, 80, 536, realtime_seconds() - 30);
  };
  Campaign r = run(
      input,
      [](const std::string& dip) { return dip == "198.51.100.1" ? Act::reused : Act::answer; }, {},
      earlier);
  ASSERT_EQ(r.lines.size(), 13u);
  EXPECT_EQ(r.result.jobs, 13u);
  EXPECT_EQ(r.result.unobserved, 0u);
  for (const auto& [dip, res] : by_dip(r)) {
    EXPECT_EQ(res.conditions, kOnline) << dip;
    ASSERT_EQ(res.flow_sp.size(), 1u);
    ConnectionRequest req;
    req.family = dip.find(':') == std::string::npos ? 4 : 6;
    inet_pton(req.family == 4 ? AF_INET : AF_INET6, dip.c_str(), req.addr);
    EXPECT_EQ(res.flow_sp[0], port_for(req)) << dip;  // its own connection's flow
  }
}

TEST(Spider, AFlowThatNeverAppearsIsNotObserved) {
  std::string input = "{\"dip\": \"198.51.100.1\"}\n{\"dip\": \"198.51.100.2\"}\n";
  Campaign r = run(input, [](const std::string& dip) {
    return dip == "198.51.100.2" ? Act::silent : Act::answer;
  });
  auto res = by_dip(r);
  ASSERT_EQ(res.size(), 2u);
  EXPECT_EQ(res["198.51.100.1"].conditions, kOnline);
  EXPECT_EQ(res["198.51.100.2"].conditions,
            (std::vector<std::string>{"pathspider.not_observed", "pathspider.missed_flows:1"}));
  EXPECT_EQ(res["198.51.100.2"].flow_sp, (std::vector<int64_t>{-1}));
  EXPECT_EQ(r.result.unobserved, 1u);
}

TEST(Spider, AGeneratorThatDiesFailsItsConnectionsOnly) {
  std::string input;
  for (int i = 1; i <= 6; ++i) input += "{\"dip\": \"198.51.100." + std::to_string(i) + "\"}\n";
  Campaign r = run(
      input, [](const std::string& dip) { return dip == "198.51.100.3" ? Act::die : Act::answer; });
  auto res = by_dip(r);
  ASSERT_EQ(res.size(), 6u);
  EXPECT_EQ(r.result.generator_restarts, 1u);
  EXPECT_EQ(res["198.51.100.3"].states, (std::vector<int64_t>{int64_t(SpdrState::failed)}));
  EXPECT_EQ(res["198.51.100.3"].conditions,
            (std::vector<std::string>{"pathspider.not_observed", "pathspider.missed_flows:1"}));
  for (int i : {1, 2, 4, 5, 6})
    EXPECT_EQ(res["198.51.100." + std::to_string(i)].conditions, kOnline) << i;
}

TEST(Spider, EveryInputLineYieldsOneResultLine) {
  std::string input =
      "{\"dip\": \"198.51.100.1\"}\nnot json\n\n{\"dip\": \"203.0.113.9\"}\n"
      "{\"dip\": \"198.51.100.1\"}\n{\"dip\": \"224.0.0.1\"}\n{\"dp\": 80}\n";
  Campaign r = run(input, [](const std::string&) { return Act::answer; }, {"203.0.113.0/24"});
  ASSERT_EQ(r.lines.size(), 6u);  // the blank line is no job
  EXPECT_EQ(r.result.rejected, 4u);
  EXPECT_EQ(r.result.skipped, 1u);
  size_t errors = 0;
  for (const std::string& l : r.lines) errors += !parse(l).error.empty();
  EXPECT_EQ(errors, 5u);
  EXPECT_EQ(by_dip(r)["198.51.100.1"].conditions, kOnline);
  EXPECT_EQ(by_dip(r)["203.0.113.9"].error, "opted out");
}

// A job without "dp" goes to its connection mode's port (https: 443), as PATHspider's.
TEST(Spider, AJobWithoutAPortGoesToItsModesPort) {
  std::string input = "{\"dip\": \"198.51.100.1\"}\n{\"dip\": \"198.51.100.2\", \"dp\": 8443}\n";
  Campaign r = run(
      input, [](const std::string&) { return Act::answer; }, {}, {}, ConnectMode::https);
  auto res = by_dip(r);
  EXPECT_EQ(res["198.51.100.1"].flow_dp, (std::vector<int64_t>{443}));
  EXPECT_EQ(res["198.51.100.2"].flow_dp, (std::vector<int64_t>{8443}));
  EXPECT_EQ(res["198.51.100.1"].conditions, kOnline);
}

// The merger alone: either order, the time window, giving up.
Flow flow_of(const char* dst, uint16_t sport, double first) {
  Flow f;
  f.key.version = 4;
  inet_pton(AF_INET, dst, f.key.dst);
  f.key.sport = sport;
  f.key.dport = 80;
  f.key.proto = 6;
  f.pkt_first = first;
  return f;
}

// --rate on a simulated clock that wakes the loop late and unevenly (up to 3 ms, now and
// then 40 ms): no one-second window ever holds more than the rate, and the rate is kept
// within 5% below over the run, whatever the size of a take.
TEST(RateLimiter, NeverAboveTheRateInAnySecondAndNotFarBelow) {
  for (size_t packets : {1, 3}) {
    RateLimiter limit(5000, packets);
    std::mt19937 random(7);
    auto start = RateLimiter::Clock::time_point{} + std::chrono::hours(1000);
    auto now = start;
    std::deque<RateLimiter::Clock::time_point> window;
    size_t sent = 0, most = 0;
    while (now - start < std::chrono::seconds(10)) {
      while (limit.take(packets, now)) {
        sent += packets;
        for (size_t i = 0; i < packets; ++i) window.push_back(now);
      }
      while (!window.empty() && window.front() <= now - std::chrono::seconds(1)) window.pop_front();
      most = std::max(most, window.size());
      int wait = limit.wait_ms(packets, now);
      EXPECT_GE(wait, 0);
      auto late = std::chrono::microseconds(random() % 50 == 0 ? 40000 : random() % 3000);
      now += std::max<RateLimiter::Clock::duration>(std::chrono::milliseconds(wait), late);
    }
    EXPECT_LE(most, 5000u) << packets << " a take";
    EXPECT_GE(double(sent) / 10, 5000 * 0.95) << packets << " a take";
  }
}

TEST(Merger, PairsInEitherOrderWithinTheConnectionsTime) {
  Merger<int> m;
  uint8_t addr[16] = {};
  inet_pton(AF_INET, "198.51.100.1", addr);
  MergeKey k = merge_key(4, addr, 40000, 80, 6);
  // The flow first: claimed by the connection that ran when it began, not another.
  EXPECT_EQ(m.flow(flow_of("198.51.100.1", 40000, 100.0)), std::nullopt);
  EXPECT_EQ(m.connection(k, 200.0, 201.0, 1), std::nullopt);  // too late for that flow
  EXPECT_TRUE(m.connection(k, 99.5, 100.5, 2).has_value());
  EXPECT_EQ(m.flows(), 0u);
  // The connection first: the flow finds it.
  EXPECT_EQ(m.flow(flow_of("198.51.100.1", 40000, 200.2)), std::optional<int>(1));
  EXPECT_EQ(m.waiting(), 0u);
  // Another port or address is another connection's.
  EXPECT_EQ(m.connection(k, 300.0, 301.0, 3), std::nullopt);
  EXPECT_EQ(m.flow(flow_of("198.51.100.1", 40001, 300.1)), std::nullopt);
  EXPECT_EQ(m.flow(flow_of("198.51.100.2", 40000, 300.1)), std::nullopt);
  m.give_up(k, 3);
  EXPECT_EQ(m.waiting(), 0u);
  m.forget(1000);
  EXPECT_EQ(m.flows(), 0u);
}

// Every field PATHspider 2.0.1 adds to a result line, by name and type, in its order.
TEST(Spider, ResultLinesCarryWhatPathspiderAdds) {
  std::string input =
      "{\"dip\": \"198.51.100.1\", \"dip_asn\": \"64511\", \"sip\": \"old\"}\n"
      "{\"dip\": \"198.51.100.2\"}\n";
  auto vantage = [](SpiderSettings& s) {
    uint8_t a[16];
    inet_pton(AF_INET, "192.0.2.9", a);
    s.vantage.source[0] = IpAddress(4, a);
    s.vantage.set_public("203.0.113.1");
    s.vantage.asn = 64496;
  };
  Campaign r = run(
      input,
      [](const std::string& dip) { return dip == "198.51.100.2" ? Act::silent : Act::answer; }, {},
      {}, ConnectMode::tcp, vantage);
  ASSERT_EQ(r.lines.size(), 2u);
  const std::regex utc(R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?)");
  for (const std::string& line : r.lines) {
    simdjson::dom::parser p;
    simdjson::dom::object e = p.parse(line);
    std::vector<std::string_view> keys;
    for (auto [k, v] : e) keys.push_back(k);
    bool seen = std::string_view(e["dip"]) == "198.51.100.2";
    std::vector<std::string_view> want = {"dip",        "sip",          "path",
                                          "sip_public", "sip_asn",      "flow_results",
                                          "time",       "missed_flows", "conditions"};
    if (!seen) want.insert(want.begin() + 1, "dip_asn");
    EXPECT_EQ(keys, want) << line;
    EXPECT_EQ(std::string_view(e["sip"]), "192.0.2.9");
    EXPECT_EQ(std::string_view(e["sip_public"]), "203.0.113.1");
    EXPECT_EQ(int64_t(e["sip_asn"]), 64496);
    std::vector<std::string_view> path;
    for (auto h : simdjson::dom::array(e["path"])) path.push_back(std::string_view(h));
    std::vector<std::string_view> want_path = {"192.0.2.9", "203.0.113.1", "AS64496"};
    if (!seen) want_path.push_back("AS64511");
    want_path.push_back(std::string_view(e["dip"]));
    EXPECT_EQ(path, want_path);
    EXPECT_TRUE(std::regex_match(std::string(std::string_view(e["time"]["from"])), utc)) << line;
    EXPECT_TRUE(std::regex_match(std::string(std::string_view(e["time"]["to"])), utc)) << line;
    EXPECT_LE(std::string_view(e["time"]["from"]), std::string_view(e["time"]["to"]));
    EXPECT_EQ(int64_t(e["missed_flows"]), seen ? 1 : 0);
    for (auto f : simdjson::dom::array(e["flow_results"])) {
      EXPECT_EQ(bool(f["observed"]), !seen);
      EXPECT_EQ(int64_t(f["spdr_state"]), 0);
      EXPECT_GT(int64_t(f["sp"]), 0);
      EXPECT_EQ(int64_t(f["config"]), 0);
      EXPECT_EQ(std::string_view(f["dip"]), std::string_view(e["dip"]));
      EXPECT_TRUE(std::regex_match(std::string(std::string_view(f["spdr_start"])), utc));
      EXPECT_TRUE(std::regex_match(std::string(std::string_view(f["spdr_stop"])), utc));
      EXPECT_TRUE(
          std::regex_match(std::string(std::string_view(f["jobId"])), std::regex("[0-9a-f]{32}")));
    }
  }
}

}  // namespace
}  // namespace pspdr
