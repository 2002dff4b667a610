// compare-records EXPECTED.ndjson ACTUAL.ndjson [TIME_TOLERANCE]: the conformance
// comparison (order-free, '_' keys ignored, floats to 1e-5; timestamps to TIME_TOLERANCE
// seconds if given) for scripts; exit 0 when equal, 1 with a report.
#include <cstdio>
#include <cstdlib>

#include "tests/support/record_compare.hpp"

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: compare-records EXPECTED.ndjson ACTUAL.ndjson [TIME_TOLERANCE]\n");
    return 2;
  }
  try {
    auto c = pspdr::testing::compare_records(pspdr::testing::read_records(argv[1]),
                                             pspdr::testing::read_records(argv[2]),
                                             argc == 4 ? std::atof(argv[3]) : 1e-5);
    if (c.equal) return 0;
    std::fputs(c.report.c_str(), stdout);
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "compare-records: %s\n", e.what());
    return 2;
  }
}
