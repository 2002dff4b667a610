// A generator process: takes connection requests from its ring, runs them -- kernel
// sockets and libcurl on one event loop (Connector), crafted packets on raw sockets
// (RawForge) -- and reports each result on its ring, until the spider says stop.
#pragma once

#include <cstddef>

#include "generators/shared_state.hpp"

namespace pspdr {

// Returns the process exit status. If the spider dies first (PR_SET_PDEATHSIG), it
// restores the sysctls the spider changed before exiting.
int run_generator(SharedState& shared, size_t index, size_t max_in_flight);

}  // namespace pspdr
