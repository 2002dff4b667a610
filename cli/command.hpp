// pspdr subcommands: each is a function taking its own argv (argv[0] = command name)
// and returning the process exit status. The registry in pspdr.cpp lists them.
#pragma once

namespace pspdr {

namespace exit_status {
constexpr int ok = 0;
constexpr int failure = 1;  // input unreadable, output failed
constexpr int usage = 2;    // bad options or arguments
}  // namespace exit_status

int observe_command(int argc, char** argv);
int synth_command(int argc, char** argv);
int measure_command(int argc, char** argv);
int filter_command(int argc, char** argv);
int dissect_command(int argc, char** argv);
int trace_command(int argc, char** argv);
int metadata_command(int argc, char** argv);
int locate_command(int argc, char** argv);

}  // namespace pspdr
