#include "cli/job_input.hpp"

#include <cstdint>

namespace pspdr {

void add_job_input(CommandLine& cl, JobInput& in) {
  cl.add_option("--input", in.path,
                "jobs, one JSON object per line (CSV with --csv-input). (Default: standard "
                "input)")
      ->type_name("INPUTFILE");
  cl.add_flag("--csv-input,--csv", in.csv,
              "the input is CSV: dip,dp,domain[,rank] (PATHspider 1.0 and 0.9) or rank,domain "
              "(the resolver's)");
  cl.add_count("--shards", in.order.shards, 1, 65536,
               "split the jobs into N shards, as ZMap does, one per machine or run: each job "
               "belongs to one shard, chosen by a hash of its line keyed by --seed; all shards "
               "together are the whole list. Reads the whole input first");
  cl.add_count("--shard", in.order.shard, 0, 65535,
               "the shard this run takes, 0 to N-1. (Default: 0)", "I");
  cl.add_checked(
      "--seed", "S",
      "the key of the shards and of the order: jobs come in a pseudo-random order (a "
      "sorted list's targets spread out, not one prefix at a time); the same seed, list "
      "and N give the same shards. (Default: 0, with --shards; without either, input order)",
      [&in](const std::string& v) {
        in.order.seeded = options::parse_count(v.c_str(), 0, UINT64_MAX, in.order.seed);
        return in.order.seeded;
      },
      "0 or more");
}

std::string job_input_problem(const JobInput& in) {
  if (in.order.shard >= in.order.shards)
    return "--shard " + std::to_string(in.order.shard) + " is not below --shards " +
           std::to_string(in.order.shards) + " (shards are numbered from 0)";
  return "";
}

}  // namespace pspdr
