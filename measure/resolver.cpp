#include "measure/resolver.hpp"

#include "measure/result_writer.hpp"

#include <arpa/inet.h>
#include <netdb.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace pspdr {
namespace {

std::set<std::string> addresses_of(const std::string& domain) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::set<std::string> out;
  if (getaddrinfo(domain.c_str(), nullptr, &hints, &res) != 0) return out;
  for (addrinfo* a = res; a; a = a->ai_next) {
    char buf[INET6_ADDRSTRLEN];
    const void* addr =
        a->ai_family == AF_INET
            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr)
            : &reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr;
    if (inet_ntop(a->ai_family, addr, buf, sizeof buf)) out.insert(buf);
  }
  freeaddrinfo(res);
  return out;
}

}  // namespace

SpiderResult run_resolver(const SpiderSettings& s, JobReader& jobs, FILE* out,
                          const std::atomic<bool>& stop) {
  auto start = std::chrono::steady_clock::now();
  static constexpr std::string_view kDip[] = {"dip"};  // a line per address replaces it
  SpiderResult r;
  std::mutex in_lock, out_lock;
  ResultWriter results(out);
  std::atomic<bool> output_failed{false};  // a full disk: stop, --resume does the rest
  auto write = [&](const Job& job, auto&& add, std::span<const std::string_view> replaced = {}) {
    std::lock_guard g(out_lock);
    results.write(job, add, replaced);
    if (!results.ok()) output_failed = true;
  };
  // getaddrinfo blocks: resolve with a pool of threads, as many as --workers allows.
  std::vector<std::thread> pool;
  for (size_t t = 0; t < std::clamp<size_t>(s.workers, 1, 64); ++t) {
    pool.emplace_back([&] {
      for (;;) {
        Job job;
        {
          std::lock_guard g(in_lock);
          if (stop.load() || output_failed || !jobs.next(job)) return;
          if (s.finished && s.finished->take(job)) {
            ++r.resumed;
            continue;
          }
        }
        if (job.error.empty() && job.domain.empty()) job.error = "no \"domain\" to resolve";
        if (!job.error.empty()) {
          std::lock_guard g(out_lock);
          ++r.rejected;
          std::fprintf(stderr, "pspdr measure: line %llu: %s\n", (unsigned long long)job.line,
                       job.error.c_str());
        }
        if (!job.error.empty()) {
          write(job, [&](JsonWriter& w) { w.field("error", job.error); });
          continue;
        }
        std::set<std::string> addresses = addresses_of(job.domain);
        if (addresses.empty()) {
          std::lock_guard g(out_lock);
          ++r.failed;
        }
        if (addresses.empty())
          write(job, [&](JsonWriter& w) { w.field("error", job.domain + " does not resolve"); });
        for (const std::string& a : addresses)
          write(
              job, [&](JsonWriter& w) { w.field("dip", a); }, kDip);
      }
    });
  }
  for (auto& t : pool) t.join();
  r.output_ok = !output_failed;
  r.jobs = results.lines();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace pspdr
