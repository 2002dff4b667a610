#include "measure/spider.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>
#include <memory>
#include <thread>
#include <unordered_map>

#include "generators/configurator.hpp"
#include "locate/location.hpp"
#include "locate/probes.hpp"
#include "measure/job_result.hpp"
#include "measure/merger.hpp"
#include "measure/observer_thread.hpp"
#include "measure/opt_out.hpp"
#include "measure/result_writer.hpp"
#include "observer/af_packet_source.hpp"
#include "observer/interface.hpp"
#include "observer/record_writer.hpp"
#include "shared/cleanup.hpp"
#include "shared/clock.hpp"
#include "shared/log.hpp"
#include "shared/rate_limiter.hpp"
#include "shared/wakeup.hpp"

namespace pspdr {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kMaxSleepMs = 100;
constexpr double kMinCooldown = 0.05;  // seconds
// A stopped campaign still waits this long after its last connection for the flows of
// jobs it is about to write: their packets may still be on their way into the capture
// (a loaded machine), and a job written without them would not be measured again.
constexpr double kStopGrace = 0.5;  // seconds

// One job's measurement.
struct JobState {
  Job job;
  std::vector<Outcome> outcomes;  // one per configuration
  std::vector<MergeKey> keys;     // each connection's flow key, once it has a result
  uint16_t dport = 0;             // where its connections go
  size_t observed = 0;
  double flow_deadline = 0;                 // realtime; set when every connection has its result
  uint64_t number = 0;                      // in admission order: its key in the active jobs
  std::vector<std::string> conditions;      // the plugin's, once its flows are in
  std::vector<TracedConfiguration> traces;  // --locate: one per configuration traced
  size_t tracing = 0;                       // traces not yet done
  bool combined = false;                    // its conditions are made: not again
};

// --locate's trace ids: the job's number and the trace's place among the job's.
constexpr unsigned kTraceBits = 8;

// The job's port; where it names none, the mode's (PATHspider's 80 for http, 443 for
// https; DNS's 53, where PATHspider fails the job; 80 otherwise).
uint16_t dport(const Job& job, ConnectMode mode) {
  if (job.dp >= 0) return uint16_t(job.dp);
  return mode == ConnectMode::https                                   ? 443
         : mode == ConnectMode::dnstcp || mode == ConnectMode::dnsudp ? 53
                                                                      : 80;
}

// The plugin's configurations, each with its number (its place where it names none).
std::vector<Configuration> numbered(std::vector<Configuration> configs) {
  for (size_t i = 0; i < configs.size(); ++i)
    if (configs[i].number < 0) configs[i].number = int(i);
  return configs;
}

struct InFlight {
  JobState* job;
  size_t config;
  size_t generator;
};

// A connection waiting for its flow: its job and configuration.
using Waiter = std::pair<JobState*, size_t>;

class Spider {
 public:
  Spider(const SpiderSettings& s, SpiderParts parts, JobReader& jobs, FILE* out,
         const std::atomic<bool>& stop)
      : s_(s),
        jobs_(jobs),
        results_(out),
        stop_(stop),
        configs_(numbered(s.plugin->configurations(s.plugin_options))),
        // tcpsyn forges every packet: no sockets, no system-wide configuration rounds.
        forge_(s.plugin->model == SpiderModel::forge ||
               s.plugin_options.connect == ConnectMode::tcpsyn),
        synchronized_(!forge_ && s.plugin->model == SpiderModel::synchronized),
        packets_(s.plugin_options.connect == ConnectMode::tcpsyn ? std::max(1u, s.probes) : 1),
        rate_(s.rate, packets_),
        cooldown_(s.cooldown >= 0                                   ? s.cooldown
                  : s.plugin_options.connect == ConnectMode::tcpsyn ? 2
                                                                    : 0.5),
        cooldown_by_connections_(s.cooldown < 0 && s.plugin_options.connect != ConnectMode::tcpsyn),
        generators_(std::move(parts.generators)),
        configurator_(generators_->shared()),
        opt_out_(s.opt_out),
        result_settings_{s.plugin, &s.plugin_options, &configs_, &s.vantage, s.output_flows} {
    // Each generator forges its share of --rate at most (rounded down: never above).
    if (forge_ && s.rate > 0)
      generators_->shared().forge_rate =
          std::max<uint64_t>(1, uint64_t(s.rate) / generators_->size());
    // The first configuration is set before anything runs: a missing privilege is found
    // now, not after the first round of connections.
    configurator_.apply(configs_[0].sysctls);
    cleanup_ =
        add_cleanup([](void* shared) { Configurator::restore(*static_cast<SharedState*>(shared)); },
                    &generators_->shared());
    ObserverOptions opts;
    // A connection is over after its timeout; an idle flow is then over too. Records
    // equal PATHspider's either way, they only come out sooner.
    opts.idle_timeout = s.timeout + 2;
    flow_wait_ = opts.idle_timeout + opts.expiry_timeout + 3;
    observer_ = std::make_unique<ObserverThread>(std::move(parts.source), s.plugin->chains, opts,
                                                 generators_->shared().spider_wakeup);
    if (s.locate)
      tracer_ = std::make_unique<Tracer>(
          std::make_unique<AfPacketSource>(s.interface, AfPacketOptions{}), s.trace);
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
  void on_flow(const Flow& flow);
  void attach(JobState* job, size_t config, Flow flow);
  void finish_due_jobs(bool observer_done);
  void finish(JobState* job);
  void trace(JobState* job);
  void on_trace(uint64_t id, Trace&& trace);
  void poll_tracer();
  void write(JobState* job, std::span<const Located> located = {});
  void reject(const Job& job, const std::string& error);
  void fail_generator(size_t g);
  void progress(bool final);
  void check_interface();
  int idle_ms() const;
  // A signal, or output that can no longer be written: no more jobs are read.
  bool stopping() const { return stop_.load(std::memory_order_relaxed) || !results_.ok(); }

  const SpiderSettings& s_;
  JobReader& jobs_;
  ResultWriter results_;
  const std::atomic<bool>& stop_;
  std::vector<Configuration> configs_;
  bool forge_;
  bool synchronized_;
  size_t packets_;  // what one connection costs of --rate: its probes in tcpsyn, else 1
  RateLimiter rate_;
  double cooldown_;  // seconds
  // By default connections cool down for as long as the slowest successful one took
  // (at least kMinCooldown, at most cooldown_): its close's packets take about one round
  // trip, and every connection took two or more.
  bool cooldown_by_connections_;
  double slowest_connection_ = 0;  // seconds
  std::unique_ptr<Generators> generators_;
  Configurator configurator_;
  uint64_t cleanup_ = 0;
  OptOut opt_out_;
  JobResultSettings result_settings_;
  std::unique_ptr<ObserverThread> observer_;
  std::unique_ptr<Tracer> tracer_;  // --locate
  double flow_wait_ = 0;
  std::string interface_down_;  // why the capture interface is unusable; "" when it is up
  Clock::time_point next_interface_check_ = Clock::now();

  // Jobs admitted and not yet written, by number; those whose connections are all done
  // also wait in deadlines_ (in deadline order: flow_wait_ is the same for all) until
  // their flows come or the deadline passes.
  std::unordered_map<uint64_t, std::unique_ptr<JobState>> active_;
  std::deque<std::pair<double, uint64_t>> deadlines_;
  uint64_t next_job_ = 0;
  std::deque<JobState*> to_start_;                   // admitted, first connection not yet requested
  std::deque<std::pair<JobState*, size_t>> queued_;  // connections waiting for the rate limit
  std::unordered_map<uint64_t, InFlight> in_flight_;
  uint64_t next_id_ = 1;
  size_t next_generator_ = 0;
  Merger<Waiter> merger_;
  bool input_done_ = false;
  size_t connecting_ = 0;
  Clock::time_point last_done_ = Clock::now();

  // The synchronized model's round: every job's connection of one configuration runs
  // before the next configuration is set.
  std::vector<JobState*> round_;
  size_t round_config_ = 0, round_outstanding_ = 0;

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
      reject(j, j.error);
      continue;
    }
    if (opt_out_.contains(j.family, j.addr)) {
      ++result_.skipped;
      results_.write(j, [](JsonWriter& w) {
        w.key("conditions").begin_array();
        w.end_array();
        w.field("spdr_state", int(SpdrState::skipped));
        w.field("error", "opted out");
      });
      continue;
    }
    // A family the interface has no address of: its connections could not leave by it.
    if (!s_.vantage.interface.empty() && !s_.vantage.source_for(j.family)) {
      reject(j, s_.vantage.interface + " has no IPv" + std::to_string(j.family) +
                    " address to measure from");
      continue;
    }
    st->outcomes.resize(configs_.size());
    st->keys.resize(configs_.size());
    st->dport = dport(j, s_.plugin_options.connect);
    ++connecting_;
    st->number = next_job_++;
    to_start_.push_back(st.get());
    active_.emplace(st->number, std::move(st));
  }
}

void Spider::reject(const Job& job, const std::string& error) {
  ++result_.rejected;
  std::fprintf(stderr, "pspdr measure: line %llu: %s\n", (unsigned long long)job.line,
               error.c_str());
  results_.write(job, [&](JsonWriter& w) {
    w.key("conditions").begin_array();
    w.end_array();
    w.field("error", error);
  });
}

void Spider::check_interface() {
  auto now = Clock::now();
  if (s_.interface.empty() || now < next_interface_check_) return;
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
  if (queued_.empty()) {
    if (!tracer_ || !tracer_->has_due()) rate_.idle(now);
    return;
  }
  ring_full_ = false;
  std::array<bool, kMaxGenerators> pushed{};  // generators to wake, once each
  while (!queued_.empty() && rate_.take(packets_, now)) {
    auto [job, config] = queued_.front();
    ConnectionRequest req = s_.vantage.request(job->job, job->dport);
    req.id = next_id_;
    req.mode = s_.plugin_options.connect;
    req.forge = forge_;
    req.probes = uint8_t(packets_);
    req.timeout_ms = uint32_t(s_.timeout * 1000);
    if (configs_[config].apply)
      configs_[config].apply(req, s_.plugin_options, size_t(configs_[config].number));
    size_t g = next_generator_++ % generators_->size();
    if (!generators_->channel(g).requests.push(req)) {
      ring_full_ = true;
      break;
    }
    pushed[g] = true;
    in_flight_.emplace(next_id_++, InFlight{job, config, g});
    queued_.pop_front();
  }
  for (size_t g = 0; g < generators_->size(); ++g)
    if (pushed[g]) wake(generators_->shared().generator_wakeups[g]);
}

// How long the loop may sleep when nothing wakes it: until the rate limit lets the next
// connection go, and never more than kMaxSleepMs (a signal, the interface check, the
// progress line, jobs whose flows are due).
int Spider::idle_ms() const {
  // Answers to the tracer's probes wake nobody: look for them often.
  if (tracer_ && !tracer_->idle()) return tracer_->has_due() ? 1 : 5;
  if (queued_.empty()) return kMaxSleepMs;
  if (ring_full_) return 1;
  return std::min(rate_.wait_ms(packets_, Clock::now()), kMaxSleepMs);
}

void Spider::collect_results() {
  ConnectionResult r;
  for (size_t g = 0; g < generators_->size(); ++g) {
    while (generators_->channel(g).results.pop(std::span<ConnectionResult>(&r, 1)) == 1) {
      auto it = in_flight_.find(r.id);
      if (it == in_flight_.end()) continue;  // of a generator already given up on
      InFlight f = it->second;
      in_flight_.erase(it);
      on_result(f, r);
    }
  }
  for (size_t g : generators_->restart_dead()) {
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
  if (r.state != SpdrState::ok)
    ++result_.failed;
  else  // a failed one (timed out, refused) has no packets after its end
    slowest_connection_ = std::max(slowest_connection_, r.finished - r.started);
  if (r.sport) {
    uint8_t proto = s_.plugin_options.connect == ConnectMode::dnsudp ? 17 : 6;
    job->keys[f.config] = merge_key(job->job.family, job->job.addr, r.sport, job->dport, proto);
    if (auto flow =
            merger_.connection(job->keys[f.config], r.started, r.finished, Waiter{job, f.config}))
      attach(job, f.config, std::move(*flow));
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
  if (job->observed == configs_.size())
    finish(job);
  else
    deadlines_.emplace_back(job->flow_deadline, job->number);
}

// A job is written as soon as its connections are done and their flows have come.
void Spider::attach(JobState* job, size_t config, Flow flow) {
  job->outcomes[config].flow = std::move(flow);
  if (++job->observed == configs_.size() && job->flow_deadline > 0) finish(job);
}

void Spider::take_flows() {
  observer_->take([&](const Flow& flow) { on_flow(flow); });
}

void Spider::on_flow(const Flow& flow) {
  if (auto waiter = merger_.flow(flow)) attach(waiter->first, waiter->second, flow);
}

// Jobs whose flows did not all come by their deadline, or (observer_done) by the end.
void Spider::finish_due_jobs(bool observer_done) {
  double now = realtime_seconds();
  while (!deadlines_.empty() && (observer_done || deadlines_.front().first <= now)) {
    auto it = active_.find(deadlines_.front().second);
    deadlines_.pop_front();
    if (it != active_.end()) finish(it->second.get());
  }
}

void Spider::finish(JobState* job) {
  if (job->combined) return;  // being traced: its deadline has passed since
  job->combined = true;
  for (size_t c = 0; c < configs_.size(); ++c) {
    const ConnectionResult& r = job->outcomes[c].connection;
    log::debug("line %llu %s: config %zu spdr_state %d sp %u error %d %s",
               (unsigned long long)job->job.line, job->job.dip.c_str(), c, int(r.state),
               unsigned(r.sport), int(r.error),
               job->outcomes[c].observed() ? "observed" : "not observed");
    if (job->outcomes[c].observed()) continue;
    ++result_.unobserved;
    merger_.give_up(job->keys[c], Waiter{job, c});
  }
  job->conditions = s_.plugin->combine(job->outcomes, s_.plugin_options);
  if (tracer_ && !stopping() && worth_locating(job->conditions, s_.plugin_options.connect))
    trace(job);
  else
    write(job);
}

// --locate: the job's probes go hop by hop; its line is written when every trace is done.
void Spider::trace(JobState* job) {
  auto probes =
      locate_probes(*s_.plugin, s_.plugin_options, s_.vantage.request(job->job, job->dport));
  if (probes.empty()) return write(job);
  ++result_.traced;
  for (size_t i = 0; i < probes.size(); ++i) {
    job->traces.push_back({probes[i].first, {}});
    tracer_->add(job->number << kTraceBits | i, probes[i].second);
  }
  job->tracing = probes.size();
}

void Spider::on_trace(uint64_t id, Trace&& trace) {
  auto it = active_.find(id >> kTraceBits);
  if (it == active_.end()) return;
  JobState* job = it->second.get();
  job->traces[id & ((1u << kTraceBits) - 1)].trace = std::move(trace);
  if (--job->tracing == 0) write(job, locate(s_.plugin->name, job->traces));
}

void Spider::poll_tracer() {
  if (!tracer_) return;
  auto done = [&](uint64_t id, Trace&& t) { on_trace(id, std::move(t)); };
  if (stopping())
    tracer_->finish_all(done);
  else
    tracer_->poll(rate_, done);
}

void Spider::write(JobState* job, std::span<const Located> located) {
  results_.write(
      job->job,
      [&](JsonWriter& w) {
        write_job_result(w, job->job, job->outcomes, job->conditions, result_settings_, job->traces,
                         located);
      },
      kJobResultFields);
  active_.erase(job->number);  // the job is gone
}

void Spider::progress(bool final) {
  auto now = Clock::now();
  if (!s_.progress || (!final && now < next_progress_)) return;
  next_progress_ = now + std::chrono::seconds(1);
  double t = std::chrono::duration<double>(now - start_).count();
  double rate = t > 0 ? double(results_.lines()) / t : 0;
  char eta[32] = "";
  if (s_.total_jobs > results_.lines() && rate > 0)
    std::snprintf(eta, sizeof eta, ", ETA %.0f s", double(s_.total_jobs - results_.lines()) / rate);
  char total[32] = "";
  if (s_.total_jobs) std::snprintf(total, sizeof total, "/%llu", (unsigned long long)s_.total_jobs);
  std::fprintf(stderr,
               "\rpspdr measure: %llu%s jobs, %.1f jobs/s%s, %llu connections failed, "
               "%zu in progress%s",
               (unsigned long long)results_.lines(), total, rate, eta,
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
    poll_tracer();
    progress(false);
    int sleep_ms = idle_ms();
    if ((input_done_ || stopping()) && connecting_ == 0) {
      // Every connection is done. Their last packets (FINs, late answers) come within a
      // moment; then stopping the observer writes every flow it still holds.
      bool waiting = !active_.empty();  // a job still active waits for flows or traces
      double cooldown = cooldown_by_connections_
                            ? std::clamp(slowest_connection_, kMinCooldown, cooldown_)
                            : cooldown_;
      double since = std::chrono::duration<double>(Clock::now() - last_done_).count();
      double left = (stopping() ? std::min(cooldown, kStopGrace) : cooldown) - since;
      bool tracing = tracer_ && !tracer_->idle();
      if (!waiting || (left < 0 && (!tracing || stopping()))) break;
      sleep_ms = std::min(sleep_ms, int(left * 1000) + 1);
    }
    if (Clock::now() >= next_forget) {
      merger_.forget(realtime_seconds() - 120);  // nobody's: traffic other than ours
      next_forget = Clock::now() + std::chrono::seconds(10);
    }
    sleep_until_woken(generators_->shared().spider_wakeup, sleep_ms);
  }
  // The last flows come as the observer stops.
  observer_->finish([&](const Flow& flow) { on_flow(flow); });
  finish_due_jobs(true);
  // Jobs written just now may need tracing too.
  while (tracer_ && !tracer_->idle()) {
    poll_tracer();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  progress(true);
  result_.jobs = results_.lines();
  result_.output_ok = results_.ok();
  result_.seconds = std::chrono::duration<double>(Clock::now() - start_).count();
  return result_;
}

}  // namespace

SpiderResult run_spider(const SpiderSettings& settings, SpiderParts parts, JobReader& jobs,
                        FILE* out, const std::atomic<bool>& stop) {
  Spider spider(settings, std::move(parts), jobs, out, stop);
  return spider.run();
}

SpiderResult run_spider(const SpiderSettings& settings, JobReader& jobs, FILE* out,
                        const std::atomic<bool>& stop) {
  size_t connections = settings.plugin->configurations(settings.plugin_options).size();
  SpiderParts parts;
  parts.source = std::make_unique<AfPacketSource>(settings.interface, AfPacketOptions{});
  parts.generators = std::make_unique<GeneratorPool>(
      settings.generators, std::max<size_t>(settings.workers * connections, 16));
  return run_spider(settings, std::move(parts), jobs, out, stop);
}

}  // namespace pspdr
