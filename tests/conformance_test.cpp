// Conformance with the real PATHspider: every trace of its test suite, observed with
// each single chain, must give exactly the flow records PATHspider 2.0.1 emits
// (../shared/conformance/pathspider/expected). The data is read in place and the test
// skips, saying why, where it is absent (a user's clone has no ../shared).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "tests/support/observe.hpp"
#include "tests/support/record_compare.hpp"

namespace fs = std::filesystem;
using namespace pspdr;
using namespace pspdr::testing;

namespace {

// PATHspider's ten chains, in the order its documentation lists them.
const std::vector<std::string> kChains = {"basic", "tcp", "ecn", "dscp", "evil",
                                          "icmp",  "mss", "tfo", "udp",  "dns"};

fs::path data_dir() {
  const char* d = std::getenv("PSPDR_CONFORMANCE_DIR");
  return d ? fs::path(d) : fs::path();
}

bool have_data() {
  return !data_dir().empty() && fs::is_directory(data_dir() / "pcaps");
}

std::vector<std::string> trace_names() {
  std::vector<std::string> names;
  if (!have_data()) return {"(conformance data absent)"};
  for (const auto& e : fs::directory_iterator(data_dir() / "pcaps"))
    if (e.path().extension() == ".pcap") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string pcap(const std::string& trace) {
  return (data_dir() / "pcaps" / (trace + ".pcap")).string();
}
std::string expected(const std::string& trace, const std::string& chain) {
  return (data_dir() / "expected" / (trace + "." + chain + ".ndjson")).string();
}

#define SKIP_WITHOUT_DATA()                                                           \
  if (!have_data())                                                                   \
  GTEST_SKIP() << "PATHspider conformance data not found at '" << data_dir().string() \
               << "' (set PSPDR_CONFORMANCE_DIR; it lives in ../shared/conformance/pathspider)"

// gtest names allow only letters, digits and underscores.
std::string test_name(std::string n) {
  std::replace_if(
      n.begin(), n.end(), [](char c) { return !std::isalnum(uint8_t(c)); }, '_');
  return n;
}

using Boundaries = std::multiset<std::pair<double, double>>;
Boundaries boundaries(const std::vector<Record>& recs) {
  Boundaries b;
  for (const Record& r : recs)
    b.emplace(double(r.fields.at("pkt_first").num), double(r.fields.at("pkt_last").num));
  return b;
}

}  // namespace

class SingleChain : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(SingleChain, EqualsPathspider) {
  SKIP_WITHOUT_DATA();
  auto [trace, chain] = GetParam();
  auto want = read_records(expected(trace, chain));
  auto got = parse_records(observe_trace(pcap(trace), {chain}));
  Comparison c = compare_records(want, got);
  EXPECT_TRUE(c.equal) << trace << " with chain " << chain << ":\n" << c.report;
}

INSTANTIATE_TEST_SUITE_P(Conformance, SingleChain,
                         ::testing::Combine(::testing::ValuesIn(trace_names()),
                                            ::testing::ValuesIn(kChains)),
                         [](const auto& p) {
                           return test_name(std::get<0>(p.param) + "_" + std::get<1>(p.param));
                         });

TEST(Conformance, AllPairsPresent) {
  SKIP_WITHOUT_DATA();
  size_t pairs = 0;
  for (const std::string& t : trace_names())
    for (const std::string& c : kChains) pairs += fs::exists(expected(t, c));
  EXPECT_EQ(pairs, 540u) << "the conformance set should hold 54 traces x 10 chains";
}

// All ten chains at once (held out: PATHspider's records exist only per chain). Each
// record must carry the union of the chains' fields; flows must be split where any
// chain completes them, so the boundaries are the finest of the single-chain runs; and
// every chain whose own run split flows the same way must report the same values.
class AllChains : public ::testing::TestWithParam<std::string> {};

TEST_P(AllChains, UnionOfSingleChainRecords) {
  SKIP_WITHOUT_DATA();
  const std::string& trace = GetParam();
  auto got = parse_records(observe_trace(pcap(trace), kChains));

  std::set<std::string> fields = {"pkt_first", "pkt_last"};
  std::vector<std::vector<Record>> single;
  for (const std::string& c : kChains) {
    single.push_back(read_records(expected(trace, c)));
    for (const Record& r : single.back())
      for (const auto& [k, v] : r.fields) fields.insert(k);
  }
  for (const Record& r : got) {
    std::set<std::string> have;
    for (const auto& [k, v] : r.fields) have.insert(k);
    EXPECT_EQ(have, fields) << r.line;
  }

  // Completion only ever splits flows: the finest partition has the most records.
  size_t finest = 0;
  for (size_t i = 1; i < single.size(); ++i)
    if (single[i].size() > single[finest].size()) finest = i;
  ASSERT_EQ(boundaries(got), boundaries(single[finest]))
      << trace << ": flow boundaries differ from chain " << kChains[finest] << "'s";

  for (size_t i = 0; i < single.size(); ++i) {
    if (boundaries(single[i]) != boundaries(got)) continue;
    // Project the all-chains records onto this chain's fields and compare.
    std::vector<Record> projected = got;
    for (Record& r : projected)
      std::erase_if(r.fields,
                    [&](const auto& kv) { return !single[i].front().fields.count(kv.first); });
    Comparison c = compare_records(single[i], projected);
    EXPECT_TRUE(c.equal) << trace << ", fields of chain " << kChains[i] << ":\n" << c.report;
  }
}

INSTANTIATE_TEST_SUITE_P(Conformance, AllChains, ::testing::ValuesIn(trace_names()),
                         [](const auto& p) { return test_name(p.param); });

// The per-core pipeline spreads flows over workers and broadcasts the packet clock:
// with one or two workers the records must be the same set.
class Workers : public ::testing::TestWithParam<std::string> {};

TEST_P(Workers, OneAndTwoCoresAgree) {
  SKIP_WITHOUT_DATA();
  const std::string& trace = GetParam();
  auto one = parse_records(observe_trace(pcap(trace), kChains, 1));
  auto two = parse_records(observe_trace(pcap(trace), kChains, 2));
  Comparison c = compare_records(one, two);
  EXPECT_TRUE(c.equal) << trace << ":\n" << c.report;
  EXPECT_FALSE(one.empty());
}

INSTANTIATE_TEST_SUITE_P(Conformance, Workers, ::testing::ValuesIn(trace_names()),
                         [](const auto& p) { return test_name(p.param); });
