#include "measure/spider.hpp"

#include <arpa/inet.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>
#include <memory>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "chains/chain_set.hpp"
#include "generators/configurator.hpp"
#include "generators/shared_state.hpp"
#include "measure/flow_index.hpp"
#include "observer/af_packet_source.hpp"
#include "observer/cleanup.hpp"
#include "observer/interface.hpp"
#include "observer/live_pipeline.hpp"
#include "shared/clock.hpp"
#include "shared/wakeup.hpp"

extern char** environ;

namespace pspdr {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kMaxSleepMs = 100;

// --- the observer, on its own threads, handing records to the spider's thread --------
class ObserverThread {
 public:
  // `wakeup`: woken whenever records are handed over.
  ObserverThread(const std::string& iface, const Plugin& plugin, const ObserverOptions& opts,
                 int wakeup)
      : source_(iface, AfPacketOptions{}), ring_(1 << 16) {
    std::vector<std::string> names(plugin.chains.begin(), plugin.chains.end());
    chains_ = ChainSet::from_names(names);
    thread_ = std::thread([this, opts, wakeup] {
      run_live(
          source_, chains_, opts, LiveOptions{.report_problems = false},  // the spider's to say
          [this, wakeup](std::string_view chunk) {
            for (size_t start = 0; start < chunk.size();) {
              size_t end = chunk.find('\n', start);
              if (end == std::string_view::npos) end = chunk.size();
              auto* line = new std::string(chunk.substr(start, end - start));
              while (!ring_.push(line)) std::this_thread::sleep_for(std::chrono::microseconds(100));
              start = end + 1;
            }
            wake(wakeup);
            return true;
          },
          stop_);
    });
  }
  ~ObserverThread() { finish(); }

  // Stops capturing; every flow still held is written out first.
  void finish() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }

  template <class Fn>
  void take(Fn&& fn) {
    std::string* line;
    while (ring_.pop(std::span<std::string*>(&line, 1)) == 1) {
      fn(*line);
      delete line;
    }
  }

 private:
  AfPacketSource source_;
  ChainSet chains_;
  SpscRing<std::string*> ring_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// --- generator processes ---------------------------------------------------------------
class GeneratorPool {
 public:
  GeneratorPool(size_t count, size_t max_in_flight) : max_in_flight_(max_in_flight) {
    mapping_ = create_shared_state();
    shared().spider_wakeup = make_wakeup(true);
    for (size_t i = 0; i < count; ++i) shared().generator_wakeups[i] = make_wakeup(true);
    pids_.assign(count, -1);
    for (size_t i = 0; i < count; ++i) spawn(i);
  }
  ~GeneratorPool() {
    for (size_t i = 0; i < pids_.size(); ++i) {
      shared().channels[i].stop.store(true);
      wake(shared().generator_wakeups[i]);
    }
    auto deadline = Clock::now() + std::chrono::seconds(2);
    for (pid_t pid : pids_) {
      while (pid > 0 && waitpid(pid, nullptr, WNOHANG) == 0) {
        if (Clock::now() > deadline) {
          kill(pid, SIGKILL);
          waitpid(pid, nullptr, 0);
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
    for (size_t i = 0; i < pids_.size(); ++i) close(shared().generator_wakeups[i]);
    close(shared().spider_wakeup);
  }

  SharedState& shared() { return *mapping_.state; }
  size_t size() const { return pids_.size(); }
  GeneratorChannel& channel(size_t i) { return shared().channels[i]; }

  // Generators that died since the last call, each replaced by a fresh one.
  std::vector<size_t> restart_dead() {
    std::vector<size_t> dead;
    for (size_t i = 0; i < pids_.size(); ++i) {
      int status;
      if (waitpid(pids_[i], &status, WNOHANG) == pids_[i]) {
        dead.push_back(i);
        spawn(i);
      }
    }
    return dead;
  }

 private:
  void spawn(size_t i) {
    GeneratorChannel* ch = &shared().channels[i];
    ch->~GeneratorChannel();  // whatever a dead generator left in its rings is gone
    new (ch) GeneratorChannel;
    std::string fd = std::to_string(mapping_.fd), index = std::to_string(i),
                max = std::to_string(max_in_flight_);
    const char* argv[] = {"pspdr",       "generate", "--shm",     fd.c_str(), "--index",
                          index.c_str(), "--max",    max.c_str(), nullptr};
    pid_t pid;
    int err =
        posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, const_cast<char**>(argv), environ);
    if (err) throw std::runtime_error(std::string("cannot start a generator: ") + strerror(err));
    pids_[i] = pid;
  }

  SharedMapping mapping_;
  size_t max_in_flight_;
  std::vector<pid_t> pids_;
};

// --- address prefixes never to contact ------------------------------------------------
struct Prefix {
  uint8_t family;
  uint8_t addr[16];
  int len;
};

std::vector<Prefix> parse_prefixes(const std::vector<std::string>& texts) {
  std::vector<Prefix> out;
  for (const std::string& t : texts) {
    Prefix p{};
    size_t slash = t.find('/');
    std::string addr = t.substr(0, slash);
    p.family = addr.find(':') == std::string::npos ? 4 : 6;
    int bits = p.family == 4 ? 32 : 128;
    p.len = slash == std::string::npos ? bits : std::atoi(t.c_str() + slash + 1);
    if (inet_pton(p.family == 4 ? AF_INET : AF_INET6, addr.c_str(), p.addr) != 1 || p.len < 0 ||
        p.len > bits)
      throw std::runtime_error("opt-out list: not an address or prefix: " + t);
    out.push_back(p);
  }
  return out;
}

bool in_prefix(const Prefix& p, uint8_t family, const uint8_t* addr) {
  if (p.family != family) return false;
  int full = p.len / 8, rest = p.len % 8;
  if (std::memcmp(p.addr, addr, size_t(full)) != 0) return false;
  uint8_t mask = uint8_t(0xff << (8 - rest));
  return rest == 0 || (p.addr[full] & mask) == (addr[full] & mask);
}

// --- one job's measurement --------------------------------------------------------------
struct JobState {
  Job job;
  std::vector<Outcome> outcomes;     // one per configuration
  std::vector<std::string> keys;     // each connection's flow key, once it has a result
  std::vector<std::string> records;  // each connection's flow record, once observed
  size_t observed = 0;
  double flow_deadline = 0;  // realtime; set when every connection has its result
};

// The job's port; PATHspider's default where the job names none.
uint16_t dport(const Job& job) {
  return uint16_t(job.dp >= 0 ? job.dp : 80);
}

struct InFlight {
  JobState* job;
  size_t config;
  size_t generator;
};

class Spider {
 public:
  Spider(const SpiderSettings& s, JobReader& jobs, FILE* out, const std::atomic<bool>& stop)
      : s_(s),
        jobs_(jobs),
        out_(out),
        stop_(stop),
        configs_(s.plugin->configurations(s.plugin_options)),
        synchronized_(s.plugin->model == SpiderModel::synchronized),
        pool_(s.generators, std::max<size_t>(s.workers * configs_.size(), 16)),
        configurator_(pool_.shared()),
        opt_out_(parse_prefixes(s.opt_out)) {
    // The first configuration is set before anything runs: a missing privilege is found
    // now, not after the first round of connections.
    configurator_.apply(configs_[0].sysctls);
    cleanup_ =
        add_cleanup([](void* shared) { Configurator::restore(*static_cast<SharedState*>(shared)); },
                    &pool_.shared());
    ObserverOptions opts;
    // A connection is over after its timeout; an idle flow is then over too. Records
    // equal PATHspider's either way, they only come out sooner.
    opts.idle_timeout = s.timeout + 2;
    flow_wait_ = opts.idle_timeout + opts.expiry_timeout + 3;
    observer_ = std::make_unique<ObserverThread>(s.interface, *s.plugin, opts,
                                                 pool_.shared().spider_wakeup);
  }
  ~Spider() { run_cleanup(cleanup_); }

  SpiderResult run();

 private:
  void admit();
  void start_connections();
  void start(JobState* job, size_t config);
  void send_queued();
  void collect_results();
  void on_result(const InFlight& f, const ConnectionResult& r);
  void connections_done(JobState* job);
  void take_flows();
  void attach(JobState* job, size_t config, ObservedFlow flow);
  void finish_due_jobs(bool observer_done);
  void finish(JobState* job);
  void write(const std::string& line);
  void fail_generator(size_t g);
  void progress(bool final);
  void check_interface();
  int idle_ms() const;
  // A signal, or output that can no longer be written: no more jobs are read.
  bool stopping() const { return stop_.load(std::memory_order_relaxed) || !result_.output_ok; }

  const SpiderSettings& s_;
  JobReader& jobs_;
  FILE* out_;
  const std::atomic<bool>& stop_;
  std::vector<Configuration> configs_;
  bool synchronized_;
  GeneratorPool pool_;
  Configurator configurator_;
  uint64_t cleanup_ = 0;
  std::vector<Prefix> opt_out_;
  std::unique_ptr<ObserverThread> observer_;
  double flow_wait_ = 0;
  std::string interface_down_;  // why the capture interface is unusable; "" when it is up
  Clock::time_point next_interface_check_ = Clock::now();

  std::deque<std::unique_ptr<JobState>> active_;
  std::deque<JobState*> to_start_;                   // admitted, first connection not yet requested
  std::deque<std::pair<JobState*, size_t>> queued_;  // connections waiting for the rate limit
  std::unordered_map<uint64_t, InFlight> in_flight_;
  uint64_t next_id_ = 1;
  size_t next_generator_ = 0;
  std::unordered_multimap<std::string, std::pair<JobState*, size_t>> awaiting_flow_;
  FlowIndex flows_;
  bool input_done_ = false;
  size_t connecting_ = 0;
  Clock::time_point last_done_ = Clock::now();

  // The synchronized model's round: every job's connection of one configuration runs
  // before the next configuration is set.
  std::vector<JobState*> round_;
  size_t round_config_ = 0, round_outstanding_ = 0;

  double tokens_ = 0;
  Clock::time_point last_refill_ = Clock::now();
  bool ring_full_ = false;  // a generator's request ring had no room: try again soon
  SpiderResult result_;
  Clock::time_point start_ = Clock::now(), next_progress_ = Clock::now();
};

void Spider::admit() {
  // Jobs still connecting count against --workers; those only waiting for their flows
  // do not (the observer writes a flow seconds after its connection ends).
  // While the interface is down every connection would fail unobserved: wait for it.
  while (!input_done_ && !stopping() && interface_down_.empty() && connecting_ < s_.workers) {
    auto st = std::make_unique<JobState>();
    if (!jobs_.next(st->job)) {
      input_done_ = true;
      return;
    }
    const Job& j = st->job;
    if (s_.finished && s_.finished->take(j)) {
      ++result_.resumed;
      continue;
    }
    if (!j.error.empty()) {
      ++result_.rejected;
      std::fprintf(stderr, "pspdr measure: line %llu: %s\n", (unsigned long long)j.line,
                   j.error.c_str());
      write(job_with(j, "\"conditions\": [], \"error\": " + json_quote(j.error)));
      continue;
    }
    if (std::any_of(opt_out_.begin(), opt_out_.end(),
                    [&](const Prefix& p) { return in_prefix(p, j.family, j.addr); })) {
      ++result_.skipped;
      write(job_with(j, "\"conditions\": [], \"spdr_state\": 3, \"error\": \"opted out\""));
      continue;
    }
    st->outcomes.resize(configs_.size());
    st->keys.resize(configs_.size());
    st->records.resize(configs_.size());
    ++connecting_;
    to_start_.push_back(st.get());
    active_.push_back(std::move(st));
  }
}

void Spider::check_interface() {
  auto now = Clock::now();
  if (now < next_interface_check_) return;
  next_interface_check_ = now + std::chrono::seconds(1);
  std::string problem = interface_problem(s_.interface);
  if (problem == interface_down_) return;
  if (problem.empty())
    std::fprintf(stderr, "\npspdr measure: %s is up again: jobs continue\n", s_.interface.c_str());
  else
    std::fprintf(stderr,
                 "\npspdr measure: %s; no new job starts until it is up (connections in "
                 "progress fail)\n",
                 problem.c_str());
  interface_down_ = std::move(problem);
}

void Spider::start_connections() {
  if (!synchronized_) {
    for (JobState* job : to_start_) start(job, 0);
    to_start_.clear();
    return;
  }
  if (!round_.empty() || to_start_.empty()) return;
  round_.assign(to_start_.begin(), to_start_.end());
  to_start_.clear();
  round_config_ = 0;
  round_outstanding_ = round_.size();
  configurator_.apply(configs_[0].sysctls);
  for (JobState* job : round_) start(job, 0);
}

void Spider::start(JobState* job, size_t config) {
  queued_.emplace_back(job, config);
}

void Spider::send_queued() {
  auto now = Clock::now();
  double rate = s_.rate > 0 ? s_.rate : 1e12;
  tokens_ = std::min(rate * 0.05 + 1,
                     tokens_ + rate * std::chrono::duration<double>(now - last_refill_).count());
  last_refill_ = now;
  ring_full_ = false;
  std::array<bool, kMaxGenerators> pushed{};  // generators to wake, once each
  while (!queued_.empty() && tokens_ >= 1) {
    auto [job, config] = queued_.front();
    ConnectionRequest req;
    req.id = next_id_;
    req.family = job->job.family;
    std::memcpy(req.addr, job->job.addr, 16);
    req.dport = dport(job->job);
    req.mode = s_.plugin_options.connect;
    req.forge = s_.plugin->model == SpiderModel::forge;
    req.timeout_ms = uint32_t(s_.timeout * 1000);
    std::snprintf(req.domain, sizeof req.domain, "%s", job->job.domain.c_str());
    if (configs_[config].apply) configs_[config].apply(req, s_.plugin_options, config);
    size_t g = next_generator_++ % pool_.size();
    if (!pool_.channel(g).requests.push(req)) {
      ring_full_ = true;
      break;
    }
    pushed[g] = true;
    in_flight_.emplace(next_id_++, InFlight{job, config, g});
    queued_.pop_front();
    tokens_ -= 1;
  }
  for (size_t g = 0; g < pool_.size(); ++g)
    if (pushed[g]) wake(pool_.shared().generator_wakeups[g]);
}

// How long the loop may sleep when nothing wakes it: until the rate limit lets the next
// connection go, and never more than kMaxSleepMs (a signal, the interface check, the
// progress line, jobs whose flows are due).
int Spider::idle_ms() const {
  if (queued_.empty()) return kMaxSleepMs;
  if (ring_full_) return 1;
  double rate = s_.rate > 0 ? s_.rate : 1e12;
  double tokens =
      tokens_ + rate * std::chrono::duration<double>(Clock::now() - last_refill_).count();
  if (tokens >= 1) return 0;
  return std::clamp(int(std::ceil((1 - tokens) / rate * 1000)), 1, kMaxSleepMs);
}

void Spider::collect_results() {
  ConnectionResult r;
  for (size_t g = 0; g < pool_.size(); ++g) {
    while (pool_.channel(g).results.pop(std::span<ConnectionResult>(&r, 1)) == 1) {
      auto it = in_flight_.find(r.id);
      if (it == in_flight_.end()) continue;  // of a generator already given up on
      InFlight f = it->second;
      in_flight_.erase(it);
      on_result(f, r);
    }
  }
  for (size_t g : pool_.restart_dead()) {
    ++result_.generator_restarts;
    std::fprintf(stderr,
                 "pspdr measure: generator %zu died; its connections are marked failed "
                 "and a new one is started\n",
                 g);
    fail_generator(g);
  }
}

void Spider::fail_generator(size_t g) {
  std::vector<std::pair<uint64_t, InFlight>> lost;
  for (const auto& [id, f] : in_flight_)
    if (f.generator == g) lost.emplace_back(id, f);
  for (const auto& [id, f] : lost) {
    in_flight_.erase(id);
    ConnectionResult r{.id = id,
                       .state = SpdrState::failed,
                       .family = f.job->job.family,
                       .error = ECHILD,
                       .started = realtime_seconds(),
                       .finished = realtime_seconds()};
    on_result(f, r);
  }
}

void Spider::on_result(const InFlight& f, const ConnectionResult& r) {
  JobState* job = f.job;
  job->outcomes[f.config].connection = r;
  if (r.state != SpdrState::ok) ++result_.failed;
  if (r.sport) {
    uint8_t proto = s_.plugin_options.connect == ConnectMode::dnsudp ? 17 : 6;
    job->keys[f.config] =
        connection_key(job->job.family, job->job.addr, r.sport, dport(job->job), proto);
    if (auto flow = flows_.claim(job->keys[f.config], r.started, r.finished))
      attach(job, f.config, std::move(*flow));
    else
      awaiting_flow_.emplace(job->keys[f.config], std::make_pair(job, f.config));
  }
  if (synchronized_) {
    if (--round_outstanding_ > 0) return;
    if (++round_config_ < configs_.size()) {  // next configuration for the whole round
      round_outstanding_ = round_.size();
      configurator_.apply(configs_[round_config_].sysctls);
      for (JobState* j : round_) start(j, round_config_);
      return;
    }
    for (JobState* j : round_) connections_done(j);
    round_.clear();
    return;
  }
  if (f.config + 1 < configs_.size())
    start(job, f.config + 1);
  else
    connections_done(job);
}

void Spider::connections_done(JobState* job) {
  job->flow_deadline = realtime_seconds() + flow_wait_;
  --connecting_;
  last_done_ = Clock::now();
}

void Spider::attach(JobState* job, size_t config, ObservedFlow flow) {
  Outcome& o = job->outcomes[config];
  o.observed = true;
  o.flow = std::move(flow.fields);
  job->records[config] = std::move(flow.json);
  ++job->observed;
}

void Spider::take_flows() {
  observer_->take([&](const std::string& line) {
    auto flow = parse_flow_record(line);
    if (!flow) return;
    auto [begin, end] = awaiting_flow_.equal_range(flow->key);
    for (auto it = begin; it != end; ++it) {
      auto [job, config] = it->second;
      const ConnectionResult& c = job->outcomes[config].connection;
      if (begun_during(flow->first, c.started, c.finished)) {
        awaiting_flow_.erase(it);
        attach(job, config, std::move(*flow));
        return;
      }
    }
    flows_.add(std::move(*flow));
  });
}

void Spider::finish_due_jobs(bool observer_done) {
  double now = realtime_seconds();
  for (auto it = active_.begin(); it != active_.end();) {
    JobState* job = it->get();
    bool connected = job->flow_deadline > 0;
    bool complete = connected && (job->observed == configs_.size() || now >= job->flow_deadline ||
                                  observer_done);
    if (!complete) {
      ++it;
      continue;
    }
    finish(job);
    it = active_.erase(it);
  }
}

void Spider::finish(JobState* job) {
  for (size_t c = 0; c < configs_.size(); ++c) {
    if (job->outcomes[c].observed) continue;
    ++result_.unobserved;
    auto [begin, end] = awaiting_flow_.equal_range(job->keys[c]);
    for (auto it = begin; it != end; ++it)
      if (it->second.first == job) {
        awaiting_flow_.erase(it);
        break;
      }
  }
  std::vector<std::string> conditions = s_.plugin->combine(job->outcomes, s_.plugin_options);
  std::string fields = "\"conditions\": [";
  for (size_t i = 0; i < conditions.size(); ++i)
    fields += (i ? ", " : "") + json_quote(conditions[i]);
  fields += "]";
  if (s_.output_flows) {
    fields += ", \"flows\": [";
    for (size_t c = 0; c < configs_.size(); ++c) {
      const Outcome& o = job->outcomes[c];
      char conn[160];
      std::snprintf(conn, sizeof conn,
                    "\"config\": %zu, \"spdr_state\": %d, \"observed\": %s, \"conn_sp\": %u", c,
                    int(o.connection.state), o.observed ? "true" : "false",
                    unsigned(o.connection.sport));
      std::string flow = o.observed ? job->records[c] : std::string("{}");
      flow.pop_back();
      fields += (c ? ", " : "") + flow + (flow.size() > 1 ? ", " : "") + conn + "}";
    }
    fields += "]";
  }
  write(job_with(job->job, fields));
}

void Spider::write(const std::string& line) {
  if (!result_.output_ok) return;  // the run is stopping; --resume measures this job again
  if (!write_result_line(out_, line)) {
    result_.output_ok = false;
    report_output_failure(result_.jobs);
    return;
  }
  ++result_.jobs;
}

void Spider::progress(bool final) {
  auto now = Clock::now();
  if (!s_.progress || (!final && now < next_progress_)) return;
  next_progress_ = now + std::chrono::seconds(1);
  double t = std::chrono::duration<double>(now - start_).count();
  double rate = t > 0 ? double(result_.jobs) / t : 0;
  char eta[32] = "";
  if (s_.total_jobs > result_.jobs && rate > 0)
    std::snprintf(eta, sizeof eta, ", ETA %.0f s", double(s_.total_jobs - result_.jobs) / rate);
  char total[32] = "";
  if (s_.total_jobs) std::snprintf(total, sizeof total, "/%llu", (unsigned long long)s_.total_jobs);
  std::fprintf(stderr,
               "\rpspdr measure: %llu%s jobs, %.1f jobs/s%s, %llu connections failed, "
               "%zu in progress%s",
               (unsigned long long)result_.jobs, total, rate, eta,
               (unsigned long long)result_.failed, active_.size(), final ? "\n" : "   ");
}

SpiderResult Spider::run() {
  auto next_forget = Clock::now();
  while (true) {
    // What the generators and the observer handed over first: their results start the
    // next connections and finish jobs in this same pass.
    check_interface();
    collect_results();
    take_flows();
    finish_due_jobs(false);
    admit();
    start_connections();
    send_queued();
    progress(false);
    if ((input_done_ || stopping()) && connecting_ == 0) {
      // Every connection is done. Their last packets (FINs, late answers) come within a
      // moment; then stopping the observer writes every flow it still holds.
      bool waiting = std::any_of(active_.begin(), active_.end(),
                                 [](const auto& j) { return j->observed < j->outcomes.size(); });
      if (!waiting || stopping() || Clock::now() - last_done_ > std::chrono::seconds(2)) break;
    }
    if (Clock::now() >= next_forget) {
      flows_.forget(realtime_seconds() - 120);  // nobody's: traffic other than ours
      next_forget = Clock::now() + std::chrono::seconds(10);
    }
    sleep_until_woken(pool_.shared().spider_wakeup, idle_ms());
  }
  observer_->finish();  // the last flows are written as the observer stops
  take_flows();
  finish_due_jobs(true);
  progress(true);
  result_.seconds = std::chrono::duration<double>(Clock::now() - start_).count();
  return result_;
}

}  // namespace

bool write_result_line(FILE* out, std::string_view line) {
  if (std::fflush(out) != 0) return false;
  const int fd = fileno(out);
  const off_t start = lseek(fd, 0, SEEK_CUR);  // -1 on a pipe: nothing to cut back there
  std::string text(line);
  text += '\n';
  for (size_t done = 0; done < text.size();) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : ENOSPC;
      if (start >= 0 && ftruncate(fd, start) == 0) lseek(fd, start, SEEK_SET);
      errno = err;
      return false;
    }
    done += size_t(n);
  }
  return true;
}

void report_output_failure(uint64_t lines) {
  std::fprintf(stderr,
               "\npspdr measure: writing a result failed after %llu lines: %s; stopping (the "
               "lines written are complete: rerun with --resume to measure the rest)\n",
               (unsigned long long)lines, std::strerror(errno));
}

SpiderResult run_spider(const SpiderSettings& settings, JobReader& jobs, FILE* out,
                        const std::atomic<bool>& stop) {
  Spider spider(settings, jobs, out, stop);
  return spider.run();
}

}  // namespace pspdr
