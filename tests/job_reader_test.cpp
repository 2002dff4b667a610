// The job feeder: PATHspider's input formats, every bad line reported with its number.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <string>
#include <vector>

#include "measure/job_reader.hpp"

namespace pspdr {
namespace {

std::vector<Job> read_all(const std::string& text, JobFormat format = JobFormat::ndjson,
                          bool require_dip = true, JobReader** out_reader = nullptr,
                          JobOrder order = {}) {
  FILE* f = fmemopen(const_cast<char*>(text.data()), text.size(), "r");
  static JobReader* keep = nullptr;
  delete keep;
  keep = new JobReader(f, format, require_dip, order);
  std::vector<Job> jobs;
  for (Job j; keep->next(j);) jobs.push_back(j);
  if (out_reader) *out_reader = keep;
  return jobs;
}

// The result line a job begins, with what `add` writes after the job's members.
template <class Fn>
std::string result_line(const Job& job, Fn&& add, std::span<const std::string_view> replaced = {}) {
  JsonWriter w;
  begin_result(w, job, replaced);
  add(w);
  w.end_object();
  return std::string(w.text());
}

std::string with_error(const Job& job, std::string_view error = "e") {
  return result_line(job, [&](JsonWriter& w) { w.field("error", error); });
}

std::string quoted(std::string_view s) {
  JsonWriter w;
  w.string_value(s);
  return std::string(w.text());
}

std::string json_of(const Job& job) {
  return result_line(job, [](JsonWriter&) {});
}

bool parses(const std::string& json) {
  simdjson::dom::parser p;
  simdjson::dom::element e;
  return !p.parse(json).get(e) && e.is_object();
}

TEST(JobReader, NdjsonJobsKeepTheirFields) {
  auto jobs =
      read_all(R"({"dip": "192.0.2.1", "dp": 443, "domain": "a.test", "info": {"x": [1, "é\n"]}})"
               "\n"
               R"({"dip": "2001:db8::1", "dp": "8080"})"
               "\r\n");
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].error, "");
  EXPECT_EQ(jobs[0].family, 4);
  EXPECT_EQ(jobs[0].dp, 443);
  EXPECT_EQ(jobs[0].domain, "a.test");
  EXPECT_EQ(jobs[1].family, 6);
  EXPECT_EQ(jobs[1].dp, 8080);
  EXPECT_EQ(jobs[1].line, 2u);
  std::string out = result_line(jobs[0], [](JsonWriter& w) {
    w.key("conditions").begin_array();
    w.element();
    w.string_value("x");
    w.end_array();
  });
  EXPECT_TRUE(parses(out)) << out;
  EXPECT_NE(out.find(R"("info": {"x":[1,"é\n"]})"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("conditions": ["x"]})"), std::string::npos) << out;
}

TEST(JobReader, BadLinesAreRejectedWithTheReason) {
  JobReader* r;
  auto jobs = read_all(
      "not json\n[1, 2]\n{\"dp\": 80}\n{\"dip\": \"1.2.3\"}\n"
      "{\"dip\": \"192.0.2.1\", \"dp\": 70000}\n\n   \n"
      "{\"dip\": \"192.0.2.1\"}\n{\"dip\": \"192.0.2.1\"}\n{\"dip\": 5}\n",
      JobFormat::ndjson, true, &r);
  ASSERT_EQ(jobs.size(), 8u);
  EXPECT_EQ(jobs[0].error.substr(0, 9), "not JSON:");
  EXPECT_EQ(jobs[1].error, "not a JSON object");
  EXPECT_EQ(jobs[2].error, "no \"dip\" field");
  EXPECT_EQ(jobs[3].error, "bad address \"1.2.3\"");
  EXPECT_EQ(jobs[4].error, "dp 70000 out of range");
  EXPECT_EQ(jobs[5].error, "");
  EXPECT_EQ(jobs[5].line, 8u);
  EXPECT_EQ(jobs[6].error, "duplicate target 192.0.2.1 (first on line 8)");
  EXPECT_EQ(jobs[7].error, "\"dip\" is not a string");
  EXPECT_EQ(r->blank(), 2u);
  EXPECT_EQ(r->accepted(), 1u);
  EXPECT_EQ(r->rejected(), 7u);
  for (const Job& j : jobs) {
    std::string out = with_error(j);
    EXPECT_TRUE(parses(out)) << out;
  }
  EXPECT_EQ(with_error(jobs[0]), R"({"line": 1, "input": "not json", "error": "e"})");
}

// Hostile bytes in a job list: each line is one job or one rejected line, numbered as
// in the file, and whatever is written of it is valid JSON.
TEST(JobReader, HostileBytesNeverLoseALine) {
  using namespace std::string_literals;
  JobReader* r;
  auto jobs = read_all(
      "{\"dip\": \"192.0.2.1\"}\n"
      "{\"dip\": \"192.0.2.2\",\0\"dp\": 80}\n"s  // a NUL: the next line must survive
      "{\"dip\": \"192.0.2.3\"}\n"
      "\x01\x02\x03\n"  // control characters alone
      "\x1b[31m\x0b\x0c\n"
      "{\"dip\": \"192.0.2.4\", \"domain\": \"\xff\xfe.test\"}\n"  // not UTF-8
      "\r\n"                                                       // a CR alone is a blank line
      "{\"dip\": \"192.0.2.5\"}\r\n"
      "\xc0\xaf\xed\xa0\x80\n",  // an overlong '/' and a surrogate
      JobFormat::ndjson, true, &r);
  ASSERT_EQ(jobs.size(), 8u);
  const uint64_t lines[] = {1, 2, 3, 4, 5, 6, 8, 9};
  for (size_t i = 0; i < jobs.size(); ++i) {
    EXPECT_EQ(jobs[i].line, lines[i]);
    std::string out = with_error(jobs[i]);
    EXPECT_TRUE(parses(out)) << out;  // simdjson checks the UTF-8 too
  }
  EXPECT_EQ(jobs[0].error, "");
  EXPECT_NE(jobs[1].error, "");
  EXPECT_EQ(jobs[1].raw.size(), 30u);  // the NUL and all after it kept
  EXPECT_EQ(jobs[2].dip, "192.0.2.3");
  EXPECT_EQ(jobs[2].error, "");
  EXPECT_EQ(jobs[6].dip, "192.0.2.5");
  EXPECT_EQ(r->accepted() + r->rejected(), 8u);
  EXPECT_EQ(r->blank(), 1u);
  EXPECT_EQ(with_error(jobs[7]),
            R"({"line": 9, "input": "\ufffd\ufffd\ufffd\ufffd\ufffd", "error": "e"})");
}

TEST(JsonWriter, InvalidUtf8BecomesReplacementCharacters) {
  EXPECT_EQ(quoted("\xff"), R"("\ufffd")");
  EXPECT_EQ(quoted("a\xe2\x82"), R"("a\ufffd\ufffd")");                    // cut short
  EXPECT_EQ(quoted("\xf4\x90\x80\x80"), R"("\ufffd\ufffd\ufffd\ufffd")");  // > U+10FFFF
  EXPECT_EQ(quoted("é€😀 ok"), "\"é€😀 ok\"");  // well-formed: kept as it is
  EXPECT_EQ(quoted(std::string_view("\0\x7f", 2)), "\"\\u0000\x7f\"");
}

// The resolver writes each address as the job's "dip": one key, even when the job had one.
TEST(JobReader, ResultReplacesAField) {
  auto jobs =
      read_all("{\"dip\": \"192.0.2.1\", \"domain\": \"a.test\", \"x\": [1, {\"y\": 2}]}\n");
  ASSERT_EQ(jobs.size(), 1u);
  static constexpr std::string_view kReplaced[] = {"dip", "x"};
  EXPECT_EQ(result_line(
                jobs[0], [](JsonWriter& w) { w.field("dip", "192.0.2.7"); }, kReplaced),
            R"({"domain": "a.test", "dip": "192.0.2.7"})");
}

TEST(JobReader, TargetAsFromTheJob) {
  auto jobs = read_all(R"({"dip": "192.0.2.1", "dip_asn": "64500"}
{"dip": "192.0.2.2", "info": {"ASN": 64501}}
{"dip": "192.0.2.3", "dip_asn": 64502, "info": {"ASN": 1}}
{"info": {"ASN": 1}, "dip": "192.0.2.4", "dip_asn": 64503}
{"dip": "192.0.2.5", "info": [1]}
)");
  ASSERT_EQ(jobs.size(), 5u);
  EXPECT_EQ(jobs[0].dip_asn, "64500");
  EXPECT_EQ(jobs[1].dip_asn, "64501");
  EXPECT_EQ(jobs[2].dip_asn, "64502");
  EXPECT_EQ(jobs[3].dip_asn, "64503");
  EXPECT_EQ(jobs[4].dip_asn, "");
}

TEST(JobReader, OnlyUnicastTargets) {
  auto jobs = read_all(
      "{\"dip\": \"0.0.0.0\"}\n{\"dip\": \"224.0.0.251\"}\n{\"dip\": \"255.255.255.255\"}\n"
      "{\"dip\": \"240.1.2.3\"}\n{\"dip\": \"::\"}\n{\"dip\": \"ff02::1\"}\n"
      "{\"dip\": \"::ffff:239.1.1.1\"}\n{\"dip\": \"127.0.0.1\"}\n{\"dip\": \"223.255.255.255\"}\n"
      "{\"dip\": \"2001:db8::ff\"}\n");
  ASSERT_EQ(jobs.size(), 10u);
  EXPECT_EQ(jobs[0].error, "0.0.0.0 is an unspecified address (0.0.0.0/8), not a target");
  EXPECT_EQ(jobs[1].error, "224.0.0.251 is a multicast address, not a target");
  EXPECT_EQ(jobs[2].error, "255.255.255.255 is the broadcast address, not a target");
  EXPECT_EQ(jobs[3].error, "240.1.2.3 is a reserved address (240.0.0.0/4), not a target");
  EXPECT_EQ(jobs[4].error, ":: is the unspecified address, not a target");
  EXPECT_EQ(jobs[5].error, "ff02::1 is a multicast address, not a target");
  EXPECT_EQ(jobs[6].error, "::ffff:239.1.1.1 is a multicast address, not a target");
  for (size_t i = 7; i < jobs.size(); ++i) EXPECT_EQ(jobs[i].error, "") << jobs[i].dip;
}

// What --resume skips: each job an earlier run wrote a line for, once per line.
TEST(FinishedJobs, ResultLinesFinishTheirJobsOnce) {
  const std::string input =
      "{\"dip\": \"192.0.2.1\", \"dp\": 80}\nnot json\n{\"dip\": \"192.0.2.2\"}\n"
      "{\"dip\": \"192.0.2.1\", \"dp\": 80}\n{\"dip\": \"192.0.2.3\", \"domain\": \"c\"}\n";
  std::vector<Job> jobs = read_all(input);
  ASSERT_EQ(jobs.size(), 5u);
  // An interrupted run wrote lines for jobs 1, 2 and 4 (the duplicate), in another order.
  std::string output =
      with_error(jobs[3], "dup") + "\n" + with_error(jobs[1]) + "\n" + json_of(jobs[0]) + "\n";
  FILE* f = fmemopen(output.data(), output.size(), "r");
  FinishedJobs done = FinishedJobs::read(f, false);
  std::fclose(f);
  EXPECT_EQ(done.lines(), 3u);
  std::vector<bool> taken;
  for (const Job& j : read_all(input)) taken.push_back(done.take(j));
  EXPECT_EQ(taken, (std::vector<bool>{true, true, false, true, false}));
  // By domain (the resolver): every line of a domain's addresses finishes it.
  std::string resolved =
      "{\"domain\": \"c\", \"dip\": \"192.0.2.7\"}\n"
      "{\"domain\": \"c\", \"dip\": \"192.0.2.8\"}\n{\"domain\": \"d\"";
  f = fmemopen(resolved.data(), resolved.size(), "r");
  FinishedJobs by_domain = FinishedJobs::read(f, true);
  std::fclose(f);
  auto again = read_all("{\"domain\": \"c\"}\n{\"domain\": \"c\"}\n", JobFormat::ndjson, false);
  EXPECT_TRUE(by_domain.take(again[0]));
  EXPECT_TRUE(by_domain.take(again[1]));
}

// Shards as ZMap's: together exactly the list, each job once, each shard's in an order
// that is no longer the input's; the same seed gives the same shards, another seed others.
TEST(JobReader, ShardsPartitionTheListInAPermutedOrder) {
  std::string input;
  for (int i = 1; i <= 2000; ++i)
    input +=
        "{\"dip\": \"10.0." + std::to_string(i / 200) + "." + std::to_string(i % 200) + "\"}\n";
  input += "no json\n{\"dip\": \"10.0.0.1\"}\n";  // a rejected line and a duplicate of line 1
  auto lines = [&](JobOrder order) {
    std::vector<uint64_t> got;
    for (const Job& j : read_all(input, JobFormat::ndjson, true, nullptr, order))
      got.push_back(j.line);
    return got;
  };
  std::vector<uint64_t> all;
  std::vector<std::vector<uint64_t>> shards;
  for (uint32_t i = 0; i < 4; ++i) {
    shards.push_back(lines({.shards = 4, .shard = i, .seeded = true, .seed = 7}));
    EXPECT_GT(shards.back().size(), 400u);  // about a quarter each
    EXPECT_FALSE(std::is_sorted(shards.back().begin(), shards.back().end()));
    all.insert(all.end(), shards.back().begin(), shards.back().end());
  }
  std::sort(all.begin(), all.end());
  std::vector<uint64_t> every(2002);
  std::iota(every.begin(), every.end(), 1);
  EXPECT_EQ(all, every);  // each line once, the rejected and the duplicate included
  EXPECT_EQ(lines({.shards = 4, .shard = 2, .seeded = true, .seed = 7}), shards[2]);
  EXPECT_NE(lines({.shards = 4, .shard = 2, .seeded = true, .seed = 8}), shards[2]);
  // The duplicate is found in input order, whichever shard has it.
  for (const Job& j : read_all(input, JobFormat::ndjson, true, nullptr,
                               {.shards = 1, .shard = 0, .seeded = true, .seed = 7}))
    EXPECT_EQ(j.error.empty(), j.line <= 2000) << j.line << ": " << j.error;
  // Neither shards nor a seed: the input's order, as a stream.
  std::vector<uint64_t> plain = lines({});
  EXPECT_EQ(plain, every);
}

TEST(JobReader, CsvLayouts) {
  auto jobs = read_all(
      "192.0.2.1,80,a.test,1\n192.0.2.2,81,b.test\n3,c.test\n1,2,3,4,5\n"
      "\"192.0.2.3\",\"82\",\"d,e.test\"\n",
      JobFormat::csv);
  ASSERT_EQ(jobs.size(), 5u);
  EXPECT_EQ(json_of(jobs[0]),
            R"({"dip": "192.0.2.1", "dp": "80", "domain": "a.test", "rank": "1"})");
  EXPECT_EQ(jobs[1].dp, 81);
  EXPECT_EQ(jobs[2].error, "no \"dip\" field");  // a resolver's row needs no address...
  EXPECT_EQ(jobs[3].error, "5 fields (CSV jobs are dip,dp,domain[,rank] or rank,domain)");
  EXPECT_EQ(jobs[4].domain, "d,e.test");
  auto resolver = read_all("3,c.test\n", JobFormat::csv, false);
  EXPECT_EQ(resolver[0].error, "");  // ...when it is the resolver's input
  EXPECT_EQ(json_of(resolver[0]), R"({"domain": "c.test", "rank": "3"})");
}

TEST(JobReader, LongLines) {
  std::string big(100000, 'x');
  auto jobs = read_all("{\"dip\": \"192.0.2.9\", \"pad\": \"" + big + "\"}\n");
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].error, "");
  EXPECT_EQ(json_of(jobs[0]).size(), big.size() + 31);  // the line as given
}

// PATHspider's own example inputs (never contacted: parsing only).
struct Example {
  const char* file;
  JobFormat format;
  bool require_dip;
  uint64_t accepted, rejected, blank;
};

TEST(JobReader, PathspiderExampleInputs) {
  const char* dir = std::getenv("PSPDR_CONFORMANCE_DIR");
  if (!dir || access((std::string(dir) + "/webtest.ndjson").c_str(), R_OK) != 0)
    GTEST_SKIP() << "PATHspider's example inputs not found at " << (dir ? dir : "(unset)")
                 << " (../shared/conformance/pathspider, or -Dconformance_dir=)";
  const Example examples[] = {
      {"webtest.ndjson", JobFormat::ndjson, true, 10, 0, 0},
      {"webtest_duplicates.ndjson", JobFormat::ndjson, true, 10, 4, 0},  // 2 targets x 3
      {"webtest_newline.ndjson", JobFormat::ndjson, true, 10, 0, 2},
      {"webtest.csv", JobFormat::csv, true, 6, 0, 0},
      {"webtest_0.9.x.csv", JobFormat::csv, true, 6, 0, 0},  // dip,dp,domain
      {"webtest_duplicates.csv", JobFormat::csv, true, 6, 5, 0},
      {"webtest_newline.csv", JobFormat::csv, true, 6, 0, 1},
      {"dnsresolvtest.csv", JobFormat::csv, false, 1000, 0, 0},  // rank,domain
  };
  for (const Example& e : examples) {
    std::string path = std::string(dir) + "/" + e.file;
    FILE* f = std::fopen(path.c_str(), "r");
    ASSERT_NE(f, nullptr) << path;
    JobReader r(f, e.format, e.require_dip);
    std::vector<std::string> errors;
    for (Job j; r.next(j);)
      if (!j.error.empty()) errors.push_back(std::to_string(j.line) + ": " + j.error);
    std::fclose(f);
    EXPECT_EQ(r.accepted(), e.accepted) << e.file;
    EXPECT_EQ(r.rejected(), e.rejected) << e.file;
    EXPECT_EQ(r.blank(), e.blank) << e.file;
    for (const std::string& err : errors) std::printf("  %s line %s\n", e.file, err.c_str());
  }
}

}  // namespace
}  // namespace pspdr
