#include "measure/job_reader.hpp"

#include <arpa/inet.h>

#include <simdjson.h>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "shared/address.hpp"

namespace pspdr {
namespace {

// One parser per thread (the resolver reads and writes jobs on several), reused for every
// line.
simdjson::dom::parser& json_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

// One line, whatever bytes it holds: getline() counts them, so a NUL cannot end the line
// early (fgets() did, and the line after it was lost into this one).
bool read_line(FILE* in, std::string& line) {
  char* buf = nullptr;
  size_t cap = 0;
  ssize_t n = getline(&buf, &cap, in);
  if (n >= 0) line.assign(buf, size_t(n));
  std::free(buf);
  if (n < 0) return false;
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  return true;
}

bool is_blank(const std::string& s) {
  return s.find_first_not_of(" \t\r") == std::string::npos;
}

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == '"') {
      if (quoted && i + 1 < line.size() && line[i + 1] == '"')
        fields.back() += line[++i];
      else
        quoted = !quoted;
    } else if (c == ',' && !quoted) {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

bool parse_port(std::string_view s, int& port) {
  if (s.empty() || s.size() > 5) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  port = v;
  return true;
}

// `s` as a JSON string literal, for error messages.
std::string json_quote(std::string_view s) {
  JsonWriter w;
  w.string_value(s);
  return std::string(w.text());
}

// An AS number as the job gives it, a number or a string; "" for anything else.
std::string asn_text(simdjson::dom::element value) {
  int64_t n;
  std::string_view s;
  if (!value.get_int64().get(n)) return std::to_string(n);
  if (!value.get_string().get(s)) return std::string(s);
  return "";
}

}  // namespace

namespace {
// splitmix64's finaliser: a keyed hash of a line number, each bit depending on all.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
}  // namespace

bool JobOrder::takes(uint64_t line) const {
  return mix(seed ^ mix(line)) % shards == shard;
}

uint64_t JobOrder::rank(uint64_t line) const {
  return mix(~seed ^ mix(line));
}

bool JobReader::next(Job& job) {
  if (!order_.permuted()) return read(job);
  if (!read_all_) {
    read_all_ = true;
    for (Job j; read(j);)
      if (order_.takes(j.line)) shard_jobs_.push_back(std::move(j));
    std::sort(shard_jobs_.begin(), shard_jobs_.end(), [this](const Job& a, const Job& b) {
      return order_.rank(a.line) > order_.rank(b.line);
    });
    accepted_ = rejected_ = 0;  // counted below, as this shard's jobs are taken
  }
  if (shard_jobs_.empty()) return false;
  job = std::move(shard_jobs_.back());
  shard_jobs_.pop_back();
  ++(job.error.empty() ? accepted_ : rejected_);
  return true;
}

bool JobReader::read(Job& job) {
  std::string line;
  while (read_line(in_, line)) {
    ++line_;
    if (is_blank(line)) {
      ++blank_;
      continue;
    }
    job = Job{};
    job.line = line_;
    job.raw = std::move(line);
    if (format_ == JobFormat::ndjson)
      parse_ndjson(job);
    else
      parse_csv(job);
    if (job.error.empty()) check_target(job);
    ++(job.error.empty() ? accepted_ : rejected_);
    return true;
  }
  return false;
}

void JobReader::parse_ndjson(Job& job) {
  simdjson::dom::element doc;
  if (auto err = json_parser().parse(job.raw).get(doc)) {
    job.error = std::string("not JSON: ") + simdjson::error_message(err);
    return;
  }
  simdjson::dom::object obj;
  if (doc.get_object().get(obj)) {
    job.error = "not a JSON object";
    return;
  }
  job.object = true;
  for (auto [key, value] : obj) {
    job.members.emplace_back(std::string(key), simdjson::minify(value));
    if (key == "dip") {
      std::string_view s;
      if (value.get_string().get(s)) {
        job.error = "\"dip\" is not a string";
        return;
      }
      job.dip = std::string(s);
    } else if (key == "dp") {
      int64_t n;
      std::string_view s;
      if (!value.get_int64().get(n)) {
        if (n < 0 || n > 65535) {
          job.error = "dp " + std::to_string(n) + " out of range";
          return;
        }
        job.dp = int(n);
      } else if (!value.get_string().get(s)) {
        if (!parse_port(s, job.dp) || job.dp > 65535) {
          job.error = "bad dp " + json_quote(s);
          return;
        }
      } else if (!value.is_null()) {
        job.error = "dp is not a port number";
        return;
      }
    } else if (key == "domain") {
      std::string_view s;
      if (!value.get_string().get(s)) job.domain = std::string(s);
    } else if (key == "dip_asn") {
      job.dip_asn = asn_text(value);
    } else if (key == "info" && job.dip_asn.empty()) {
      simdjson::dom::element asn;
      if (!value["ASN"].get(asn)) job.dip_asn = asn_text(asn);
    }
  }
}

void JobReader::parse_csv(Job& job) {
  std::vector<std::string> f = split_csv(job.raw);
  for (std::string& s : f) {
    s.erase(0, s.find_first_not_of(" \t"));
    s.erase(s.find_last_not_of(" \t") + 1);
  }
  std::string dp;
  std::string rank;
  if (f.size() == 2) {  // the resolver's input: rank,domain
    rank = f[0];
    job.domain = f[1];
  } else if (f.size() == 3 || f.size() == 4) {  // 0.9.x: dip,dp,domain; 1.0: ...,rank
    job.dip = f[0];
    dp = f[1];
    job.domain = f[2];
    if (f.size() == 4) rank = f[3];
    if (!parse_port(dp, job.dp) || job.dp > 65535) {
      job.error = "bad dp " + json_quote(dp);
      return;
    }
  } else {
    job.error =
        std::to_string(f.size()) + " fields (CSV jobs are dip,dp,domain[,rank] or rank,domain)";
    return;
  }
  // PATHspider's feeder keeps CSV values as strings, dp included.
  job.object = true;
  auto add = [&](const char* key, const std::string& v) {
    if (!v.empty() || std::string_view(key) == "domain")
      job.members.emplace_back(key, json_quote(v));
  };
  add("dip", job.dip);
  add("dp", dp);
  add("domain", job.domain);
  add("rank", rank);
}

void JobReader::check_target(Job& job) {
  if (job.dip.empty()) {
    if (require_dip_) job.error = "no \"dip\" field";
    return;
  }
  job.family = job.dip.find(':') == std::string::npos ? 4 : 6;
  if (inet_pton(job.family == 4 ? AF_INET : AF_INET6, job.dip.c_str(), job.addr) != 1) {
    job.error = "bad address " + json_quote(job.dip);
    job.family = 0;
    return;
  }
  if (const char* why = not_a_target(job.family, job.addr)) {
    job.error = job.dip + " is " + why + ", not a target";
    return;
  }
  auto [it, fresh] = seen_.emplace(job.dip, job.line);
  if (!fresh)
    job.error =
        "duplicate target " + job.dip + " (first on line " + std::to_string(it->second) + ")";
}

FinishedJobs FinishedJobs::read(FILE* output, bool by_domain) {
  FinishedJobs f;
  f.by_domain_ = by_domain;
  // Results are read back as jobs: the same parser finds the same target fields.
  JobReader reader(output, JobFormat::ndjson, false);
  for (Job job; reader.next(job);) {
    ++f.lines_;
    ++f.remaining_[f.key(job)];
  }
  return f;
}

std::string FinishedJobs::key(const Job& job) const {
  if (by_domain_) return job.domain;
  // A line that was no JSON object was written as {"line": N, "input": ...}.
  if (!job.object) return "line " + std::to_string(job.line);
  if (job.dip.empty() && job.domain.empty() && !job.members.empty() &&
      job.members[0].first == "line")
    return "line " + job.members[0].second;
  return job.dip + " " + std::to_string(job.dp) + " " + job.domain;
}

bool FinishedJobs::take(const Job& job) {
  auto it = remaining_.find(key(job));
  if (it == remaining_.end() || it->second == 0) return false;
  if (!by_domain_) --it->second;
  return true;
}

void begin_result(JsonWriter& w, const Job& job, std::span<const std::string_view> replaced) {
  w.begin_object();
  if (!job.object) {
    w.field("line", job.line);
    w.field("input", job.raw);
    return;
  }
  for (const auto& [key, value] : job.members) {
    if (std::find(replaced.begin(), replaced.end(), key) != replaced.end()) continue;
    w.quoted_key(key).raw(value);
  }
}

}  // namespace pspdr
