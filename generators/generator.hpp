// A generator process: takes connection requests from its ring, runs them -- kernel
// sockets and libcurl on one event loop (Connector), crafted packets on raw sockets
// (RawForge) -- and reports each result on its ring, until the spider says stop.
#pragma once

#include <cstddef>

#include "generators/shared_state.hpp"

namespace pspdr {

// The generator process's entry point: `pspdr generate --shm FD --index I --max N`,
// started by the spider (measure/generator_pool.cpp), never by hand. Exit status 2 for
// anything else.
int generator_main(int argc, char** argv);

// Returns the process exit status. If the spider dies first (PR_SET_PDEATHSIG), it
// restores the sysctls the spider changed before exiting.
int run_generator(SharedState& shared, size_t index, size_t max_in_flight);

}  // namespace pspdr
