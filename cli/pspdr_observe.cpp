// pspdr-observe: the observer on its own, for capture machines. The same command as
// `pspdr observe` (see observe_command.cpp), under the name campaign scripts expect.
#include "cli/command.hpp"

int main(int argc, char** argv) {
  return pspdr::observe_command(argc, argv);
}
