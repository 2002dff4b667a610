// compare-records EXPECTED.ndjson ACTUAL.ndjson: the conformance comparison (order-free,
// '_' keys ignored, floats to 1e-5) for scripts; exit 0 when equal, 1 with a report.
#include <cstdio>

#include "tests/support/record_compare.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: compare-records EXPECTED.ndjson ACTUAL.ndjson\n");
    return 2;
  }
  try {
    auto c = pspdr::testing::compare_records(pspdr::testing::read_records(argv[1]),
                                             pspdr::testing::read_records(argv[2]));
    if (c.equal) return 0;
    std::fputs(c.report.c_str(), stdout);
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "compare-records: %s\n", e.what());
    return 2;
  }
}
