#include "measure/job_result.hpp"

#include <uuid/uuid.h>

#include <algorithm>
#include <string>

#include "observer/record_writer.hpp"
#include "shared/clock.hpp"

namespace pspdr {
namespace {

constexpr std::string_view kFields[] = {"sip",          "path",       "sip_public",
                                        "sip_asn",      "time",       "flow_results",
                                        "missed_flows", "conditions", "locate"};

// A job's id as 2.0.1 makes it: a time-based UUID (uuid1) in 32 hex digits.
std::string job_id() {
  uuid_t id;
  uuid_generate_time(id);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  for (uint8_t b : id) {
    text += kHex[b >> 4];
    text += kHex[b & 15];
  }
  return text;
}

// One connection in 2.0.1's flow_results: the flow record when observed, then what the
// spider knows of the connection, keys in 2.0.1's order.
void write_flow_result(JsonWriter& w, const Job& job, const Outcome& o, size_t config,
                       const std::string& id, const JobResultSettings& s) {
  w.element();
  w.begin_object();
  if (o.flow) write_flow_fields(w, s.plugin->chains, *o.flow);
  w.field("observed", o.observed());
  w.field("spdr_state", int(o.connection.state));
  // Where unobserved, the connection's own port; 2.0.1 writes 0 for a failed one.
  if (!o.flow) w.field("sp", o.connection.sport);
  if (is_http(s.plugin_options->connect) && o.ok()) {
    w.field("http_response_code", o.connection.http_status);
    w.field("http_response_header", std::string_view(o.connection.http_header));
    w.key("http_info").begin_object();
    w.end_object();
  }
  w.field("spdr_start", utc_text(o.connection.started));
  w.field("spdr_stop", utc_text(o.connection.finished));
  w.field("config", (*s.configurations)[config].number);
  if (!o.flow) w.field("dip", job.dip);
  w.field("jobId", id);
  w.end_object();
}

}  // namespace

const std::span<const std::string_view> kJobResultFields = kFields;

void write_job_result(JsonWriter& w, const Job& job, std::span<const Outcome> outcomes,
                      std::span<const std::string> conditions, const JobResultSettings& s,
                      std::span<const TracedConfiguration> traces,
                      std::span<const Located> located) {
  s.vantage->write(w, job);
  size_t missed = 0;
  double from = outcomes[0].connection.started, to = outcomes[0].connection.finished;
  for (const Outcome& o : outcomes) {
    missed += !o.observed();
    from = std::min(from, o.connection.started);
    to = std::max(to, o.connection.finished);
  }
  if (s.output_flows) {
    std::string id = job_id();
    w.key("flow_results").begin_array();
    for (size_t c = 0; c < outcomes.size(); ++c) write_flow_result(w, job, outcomes[c], c, id, s);
    w.end_array();
  }
  w.key("time").begin_object();
  w.field("from", utc_text(from));
  w.field("to", utc_text(to));
  w.end_object();
  if (s.output_flows) w.field("missed_flows", missed);
  w.key("conditions").begin_array();
  for (const std::string& c : conditions) {
    w.element();
    w.string_value(c);
  }
  for (const Located& l : located) {
    w.element();
    w.string_value(l.condition);
  }
  if (missed) {
    w.element();
    w.string_value("pathspider.missed_flows:" + std::to_string(missed));
  }
  w.end_array();
  if (traces.empty()) return;
  w.key("locate");
  write_locate(w, traces, located);
}

}  // namespace pspdr
