#include "shared/privileges.hpp"

#include <cap-ng.h>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace pspdr {
namespace {

// The capability state to apply: exactly `caps`, in every set libcap-ng manages.
void select(const std::vector<int>& caps) {
  capng_clear(CAPNG_SELECT_ALL);
  for (int c : caps)
    capng_update(CAPNG_ADD,
                 capng_type_t(CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_INHERITABLE |
                              CAPNG_BOUNDING_SET | CAPNG_AMBIENT),
                 unsigned(c));
}

std::string failed(const char* what) {
  return std::string(what) + " failed: " + std::strerror(errno);
}

// Keeps only `caps`, staying root.
std::string keep_only_capabilities(const std::vector<int>& caps) {
  if (geteuid() != 0) return "";
  select(caps);
  // The bounding set first: dropping it needs CAP_SETPCAP, which the next step drops.
  if (capng_apply(CAPNG_SELECT_ALL) != 0) return failed("dropping capabilities");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return failed("PR_SET_NO_NEW_PRIVS");
  return "";
}

}  // namespace

std::string become_unprivileged(const std::vector<int>& caps) {
  if (geteuid() != 0) return "";
  const passwd* pw = getpwnam("nobody");
  if (!pw) return keep_only_capabilities(caps);
  const uid_t uid = pw->pw_uid;
  const gid_t gid = pw->pw_gid;
  select(caps);
  // While still root: the bounding set (needs CAP_SETPCAP), then keep the permitted set
  // across the change of user, which otherwise clears it.
  if (capng_apply(CAPNG_SELECT_BOUNDS) != 0) return failed("limiting the bounding set");
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return failed("PR_SET_KEEPCAPS");
  if (setgroups(0, nullptr) != 0 || setresgid(gid, gid, gid) != 0 || setresuid(uid, uid, uid) != 0)
    return failed("becoming nobody");
  prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
  // Effective and inheritable from what was kept, then ambient (needs both).
  if (capng_apply(CAPNG_SELECT_CAPS) != 0 || capng_apply(CAPNG_SELECT_AMBIENT) != 0)
    return failed("keeping capabilities");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return failed("PR_SET_NO_NEW_PRIVS");
  // A process that changed user is not dumpable, which makes its /proc files root's;
  // monitoring tools (and the tests) read them.
  prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
  return "";
}

unsigned long long effective_capabilities() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.starts_with("CapEff:")) return std::stoull(line.substr(7), nullptr, 16);
  return 0;
}

}  // namespace pspdr
