#include "measure/flow_index.hpp"

#include <arpa/inet.h>

#include <simdjson.h>
#include <cstring>

namespace pspdr {

std::string connection_key(uint8_t family, const uint8_t* addr, uint16_t sport, uint16_t dport,
                           uint8_t proto) {
  std::string key(1, char(family));
  key.append(reinterpret_cast<const char*>(addr), family == 4 ? 4 : 16);
  key.push_back(char(sport >> 8));
  key.push_back(char(sport));
  key.push_back(char(dport >> 8));
  key.push_back(char(dport));
  key.push_back(char(proto));
  return key;
}

std::optional<ObservedFlow> parse_flow_record(std::string_view line) {
  thread_local simdjson::ondemand::parser parser;
  simdjson::padded_string padded(line);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc)) return std::nullopt;
  ObservedFlow flow;
  std::string dip;
  int64_t sp = -1, dp = -1, proto = -1;
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj)) return std::nullopt;
  for (auto field : obj) {
    std::string_view name;
    if (field.unescaped_key().get(name)) return std::nullopt;
    auto value = field.value();
    simdjson::ondemand::json_type type;
    if (value.type().get(type)) return std::nullopt;
    switch (type) {
      case simdjson::ondemand::json_type::boolean:
        flow.fields.set(std::string(name), bool(value.get_bool().value_unsafe()));
        break;
      case simdjson::ondemand::json_type::null:
        flow.fields.set(std::string(name), std::nullopt);
        break;
      case simdjson::ondemand::json_type::number: {
        if (name == "pkt_first") {
          flow.first = value.get_double().value_unsafe();
          break;
        }
        int64_t v;
        if (!value.get_int64().get(v)) flow.fields.set(std::string(name), v);
        if (name == "sp") sp = v;
        if (name == "dp") dp = v;
        if (name == "proto") proto = v;
        break;
      }
      case simdjson::ondemand::json_type::string:
        if (name == "dip") dip = std::string(value.get_string().value_unsafe());
        break;
      default:
        break;  // arrays (tcpopt's option lists) are for the output only
    }
  }
  uint8_t addr[16];
  uint8_t family = dip.find(':') == std::string::npos ? 4 : 6;
  if (sp < 0 || dp < 0 || proto < 0 ||
      inet_pton(family == 4 ? AF_INET : AF_INET6, dip.c_str(), addr) != 1)
    return std::nullopt;
  flow.key = connection_key(family, addr, uint16_t(sp), uint16_t(dp), uint8_t(proto));
  flow.json = std::string(line);
  return flow;
}

void FlowIndex::add(ObservedFlow flow) {
  std::string key = flow.key;
  flows_.emplace(std::move(key), std::move(flow));
}

std::optional<ObservedFlow> FlowIndex::claim(const std::string& key, double started,
                                             double finished) {
  auto [begin, end] = flows_.equal_range(key);
  for (auto it = begin; it != end; ++it) {
    if (begun_during(it->second.first, started, finished)) {
      ObservedFlow f = std::move(it->second);
      flows_.erase(it);
      return f;
    }
  }
  return std::nullopt;
}

void FlowIndex::forget(double before) {
  std::erase_if(flows_, [&](const auto& kv) { return kv.second.first < before; });
}

}  // namespace pspdr
