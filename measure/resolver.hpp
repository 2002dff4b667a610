// The dnsresolv plugin: each job's domain resolved with the system's resolver
// (getaddrinfo, as PATHspider), one output job per address; a job whose domain does not
// resolve is written once, with an error, so every input line has its output.
#pragma once

#include <atomic>
#include <cstdio>

#include "measure/spider.hpp"

namespace pspdr {

SpiderResult run_resolver(const SpiderSettings& settings, JobReader& jobs, FILE* out,
                          const std::atomic<bool>& stop);

}  // namespace pspdr
