// The options of the commands that read jobs (measure, filter): the input, its format,
// and which of its jobs in which order (--shards, --shard, --seed: measure/job_reader.hpp).
#pragma once

#include <string>

#include "cli/command_line.hpp"
#include "measure/job_reader.hpp"

namespace pspdr {

struct JobInput {
  std::string path;  // "" or "-": standard input
  bool csv = false;
  JobOrder order;
};

// Adds --input, --csv-input (--csv), --shards, --shard and --seed to `cl`.
void add_job_input(CommandLine& cl, JobInput& in);

// After parsing: "" when the options agree, else the usage error.
std::string job_input_problem(const JobInput& in);

}  // namespace pspdr
