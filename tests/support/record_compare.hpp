// Compares two sets of flow records the way the conformance data asks: order does not
// matter, keys starting with '_' (PATHspider internals) are ignored, floats agree to
// 1e-5 and everything else exactly. Used by the conformance test and by compare-records.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace pspdr::testing {

// A JSON value reduced to what flow records contain.
struct Value {
  enum class Type { null, boolean, integer, real, string, array } type = Type::null;
  bool b = false;
  long double num = 0;  // integers and reals (exact for the 64-bit integers records hold)
  std::string str;
  std::vector<Value> items;

  bool operator==(const Value& o) const;
};

struct Record {
  std::map<std::string, Value> fields;
  std::string line;  // as read, for reports
};

// Parses ndjson; throws std::runtime_error naming the line on bad JSON.
std::vector<Record> parse_records(std::string_view ndjson);
std::vector<Record> read_records(const std::string& path);

struct Comparison {
  bool equal = false;
  std::string report;  // what differs, readable; empty when equal
};

// `time_tolerance` widens the match for pkt_first/pkt_last only: sources that stamp
// packets on receipt (AF_XDP, DPDK) cannot agree with tcpdump's kernel timestamps to 1e-5.
Comparison compare_records(const std::vector<Record>& expected, const std::vector<Record>& actual,
                           double time_tolerance = 1e-5);

}  // namespace pspdr::testing
