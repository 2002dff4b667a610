// What the spider adds to a measured job's line, as PATHspider 2.0.1 writes it: the
// vantage point's fields, flow_results (--output-flows), time, missed_flows
// (--output-flows) and the plugin's conditions, with pathspider.missed_flows:N when
// flows were missed; then, for a job --locate traced, the located conditions and the
// "locate" field.
#pragma once

#include <span>
#include <string_view>

#include "locate/location.hpp"
#include "measure/job_reader.hpp"
#include "measure/plugin.hpp"
#include "measure/vantage_point.hpp"
#include "shared/json_writer.hpp"

namespace pspdr {

struct JobResultSettings {
  const Plugin* plugin = nullptr;
  const PluginOptions* plugin_options = nullptr;
  const std::vector<Configuration>* configurations = nullptr;  // numbered, in the run's order
  const VantagePoint* vantage = nullptr;
  bool output_flows = false;
};

// The fields write_job_result writes: a job's own members of these names are replaced.
extern const std::span<const std::string_view> kJobResultFields;

// Everything after the job's own members; `outcomes` one per configuration,
// `conditions` the plugin's for them; `traces` and `located` empty for a job not traced.
void write_job_result(JsonWriter& w, const Job& job, std::span<const Outcome> outcomes,
                      std::span<const std::string> conditions, const JobResultSettings& s,
                      std::span<const TracedConfiguration> traces = {},
                      std::span<const Located> located = {});

}  // namespace pspdr
