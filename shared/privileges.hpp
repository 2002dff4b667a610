// Least privilege: once a process has opened what needs root (raw and AF_PACKET
// sockets, an XDP program, its output files), it keeps only the capabilities it still
// uses. See docs/security.md for what each process keeps.
#pragma once

#include <string>
#include <vector>

namespace pspdr {

// As root: becomes the unprivileged user "nobody" keeping only `caps` (CAP_* numbers)
// -- effective, permitted, bounding set, and ambient, so the programs this process
// starts get them too -- and sets no_new_privs; where there is no "nobody", stays root
// with only `caps`. Not root: nothing to drop. Returns "" or a one-line reason; on
// failure privileges are as they were. Call it before starting threads: only the
// calling thread's capabilities change, while the user id changes for all (glibc),
// leaving other threads with none.
std::string become_unprivileged(const std::vector<int>& caps);

// This process's effective capabilities, as /proc/self/status shows them (CapEff).
unsigned long long effective_capabilities();

}  // namespace pspdr
