#include "tests/support/record_compare.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace pspdr::testing {
namespace {

constexpr long double kTolerance = 1e-5L;

Value convert(simdjson::dom::element e) {
  Value v;
  switch (e.type()) {
    case simdjson::dom::element_type::NULL_VALUE:
      break;
    case simdjson::dom::element_type::BOOL:
      v.type = Value::Type::boolean;
      v.b = bool(e);
      break;
    case simdjson::dom::element_type::INT64:
      v.type = Value::Type::integer;
      v.num = int64_t(e);
      break;
    case simdjson::dom::element_type::UINT64:
      v.type = Value::Type::integer;
      v.num = uint64_t(e);
      break;
    case simdjson::dom::element_type::DOUBLE:
      v.type = Value::Type::real;
      v.num = double(e);
      break;
    case simdjson::dom::element_type::STRING:
      v.type = Value::Type::string;
      v.str = std::string(std::string_view(e));
      break;
    case simdjson::dom::element_type::ARRAY:
      v.type = Value::Type::array;
      for (simdjson::dom::element item : simdjson::dom::array(e)) v.items.push_back(convert(item));
      break;
    case simdjson::dom::element_type::OBJECT:
      throw std::runtime_error("nested objects do not occur in flow records");
  }
  return v;
}

bool numeric(const Value& v) {
  return v.type == Value::Type::integer || v.type == Value::Type::real;
}

std::string show(const Value& v) {
  switch (v.type) {
    case Value::Type::null:
      return "null";
    case Value::Type::boolean:
      return v.b ? "true" : "false";
    case Value::Type::integer:
    case Value::Type::real: {
      std::ostringstream s;
      s.precision(17);
      s << double(v.num);
      return s.str();
    }
    case Value::Type::string:
      return '"' + v.str + '"';
    case Value::Type::array: {
      std::string s = "[";
      for (size_t i = 0; i < v.items.size(); ++i) {
        if (i) s += ", ";
        s += show(v.items[i]);
      }
      return s + "]";
    }
  }
  return "?";
}

bool is_time(const std::string& key) {
  return key == "pkt_first" || key == "pkt_last";
}

// Fields that differ between two records (missing keys included).
std::vector<std::string> differences(const Record& a, const Record& b, double time_tolerance) {
  std::vector<std::string> out;
  for (const auto& [k, v] : a.fields) {
    auto it = b.fields.find(k);
    if (it == b.fields.end()) {
      out.push_back(k + ": expected " + show(v) + ", missing");
      continue;
    }
    bool same = is_time(k) && numeric(v) && numeric(it->second)
                    ? std::fabs(v.num - it->second.num) <= time_tolerance
                    : v == it->second;
    if (!same) out.push_back(k + ": expected " + show(v) + ", got " + show(it->second));
  }
  for (const auto& [k, v] : b.fields)
    if (!a.fields.count(k)) out.push_back(k + ": unexpected " + show(v));
  return out;
}

}  // namespace

bool Value::operator==(const Value& o) const {
  if (numeric(*this) && numeric(o)) {
    if (type == Type::integer && o.type == Type::integer) return num == o.num;
    return std::fabs(num - o.num) <= kTolerance;
  }
  if (type != o.type) return false;
  switch (type) {
    case Type::null:
      return true;
    case Type::boolean:
      return b == o.b;
    case Type::string:
      return str == o.str;
    case Type::array:
      return items == o.items;
    default:
      return false;
  }
}

std::vector<Record> parse_records(std::string_view ndjson) {
  simdjson::dom::parser parser;
  std::vector<Record> out;
  size_t line_no = 0;
  while (!ndjson.empty()) {
    size_t nl = ndjson.find('\n');
    std::string_view line = ndjson.substr(0, nl);
    ndjson = nl == std::string_view::npos ? std::string_view{} : ndjson.substr(nl + 1);
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    simdjson::dom::object obj;
    if (parser.parse(simdjson::padded_string(line)).get(obj))
      throw std::runtime_error("line " + std::to_string(line_no) +
                               " is not a JSON object: " + std::string(line));
    Record r;
    r.line = std::string(line);
    for (auto [key, value] : obj)
      if (!key.starts_with("_")) r.fields.emplace(std::string(key), convert(value));
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<Record> read_records(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot read");
  std::stringstream s;
  s << in.rdbuf();
  return parse_records(s.str());
}

Comparison compare_records(const std::vector<Record>& expected, const std::vector<Record>& actual,
                           double time_tolerance) {
  std::vector<bool> used(actual.size(), false);
  std::vector<const Record*> unmatched;
  // Candidates are the records whose pkt_first lies within the tolerance: found through
  // an index sorted by it, so large record sets compare in n log n, not n squared.
  auto first_of = [](const Record& r) {
    auto it = r.fields.find("pkt_first");
    return it != r.fields.end() && numeric(it->second) ? double(it->second.num) : 0.0;
  };
  std::vector<std::pair<double, size_t>> by_first;
  for (size_t i = 0; i < actual.size(); ++i) by_first.emplace_back(first_of(actual[i]), i);
  std::sort(by_first.begin(), by_first.end());
  double window = std::max(time_tolerance, double(kTolerance));
  for (const Record& e : expected) {
    double t = first_of(e);
    bool found = false;
    auto it =
        std::lower_bound(by_first.begin(), by_first.end(), std::make_pair(t - window, size_t(0)));
    for (; it != by_first.end() && it->first <= t + window && !found; ++it)
      if (!used[it->second] && differences(e, actual[it->second], time_tolerance).empty())
        found = used[it->second] = true;
    if (!found) unmatched.push_back(&e);
  }
  Comparison c;
  std::ostringstream r;
  for (const Record* e : unmatched) {
    // Report against the unused record with the fewest differences: usually its twin.
    const Record* best = nullptr;
    std::vector<std::string> best_diff;
    for (size_t i = 0; i < actual.size(); ++i) {
      if (used[i]) continue;
      auto d = differences(*e, actual[i], time_tolerance);
      if (!best || d.size() < best_diff.size()) best = &actual[i], best_diff = d;
    }
    r << "expected record not produced: " << e->line << "\n";
    if (best) {
      r << "  closest produced record differs in:\n";
      for (const std::string& d : best_diff) r << "    " << d << "\n";
    }
  }
  for (size_t i = 0; i < actual.size(); ++i)
    if (!used[i] && unmatched.empty()) r << "unexpected record: " << actual[i].line << "\n";
  c.report = r.str();
  if (expected.size() != actual.size())
    c.report += "expected " + std::to_string(expected.size()) + " records, got " +
                std::to_string(actual.size()) + "\n";
  c.equal = c.report.empty();
  return c;
}

}  // namespace pspdr::testing
