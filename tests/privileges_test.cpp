// Least privilege: what become_unprivileged() leaves a process able to do, checked by
// the kernel itself (a raw socket, a forced buffer size, a root-owned file), in a child
// process so the test runner keeps its own privileges.
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <functional>

#include "shared/privileges.hpp"

namespace pspdr {
namespace {

// Runs `check` in a child; its exit status (0: all held) is returned.
int in_child(const std::function<int()>& check) {
  pid_t pid = fork();
  if (pid == 0) _exit(check());
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

bool can_open_raw_socket() {
  int s = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
  if (s >= 0) close(s);
  return s >= 0;
}

bool can_force_a_buffer_size() {  // SO_RCVBUFFORCE needs CAP_NET_ADMIN
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  int size = 1 << 20;
  bool ok = setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) == 0;
  close(s);
  return ok;
}

TEST(Privileges, KeepsOnlyWhatItIsAsked) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  ASSERT_TRUE(can_open_raw_socket() && can_force_a_buffer_size());
  EXPECT_EQ(in_child([] {
              if (!become_unprivileged({CAP_NET_RAW}).empty()) return 1;
              if (geteuid() == 0 || getuid() == 0) return 2;
              if (effective_capabilities() != 1ull << CAP_NET_RAW) return 3;
              if (!can_open_raw_socket()) return 4;
              if (can_force_a_buffer_size()) return 5;
              // Root's files are no longer writable, nor a way back to root.
              if (std::fopen("/etc/pspdr-privileges-test", "w")) return 6;
              if (setuid(0) == 0) return 7;
              return 0;
            }),
            0);
  EXPECT_EQ(in_child([] {
              if (!become_unprivileged({}).empty()) return 1;
              if (effective_capabilities() != 0) return 3;
              if (can_open_raw_socket()) return 4;
              return 0;
            }),
            0);
}

// A program the unprivileged process starts gets the kept capabilities (ambient), as
// pspdr measure's replacement generators need.
TEST(Privileges, ProgramsStartedKeepThem) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  EXPECT_EQ(in_child([] {
              if (!become_unprivileged({CAP_NET_ADMIN, CAP_NET_RAW}).empty()) return 1;
              // grep exits 0 when the child's effective set is exactly the two kept.
              execl("/bin/sh", "sh", "-c",
                    "grep -q '^CapEff:.*0000000000003000$' /proc/self/status", nullptr);
              return 2;
            }),
            0);
}

}  // namespace
}  // namespace pspdr
