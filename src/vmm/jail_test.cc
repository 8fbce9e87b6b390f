// Runs the jail for real in a forked child and checks what a jailed monitor sees.
#include "vmm/jail.h"
#include "vmm/seccomp_policy.h"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <string>

namespace bulkhead::vmm {
namespace {

// Codes the jailed child returns: 0 when everything holds, else which check failed.
int JailedChecks() {
  auto facts = ReadJailFacts();
  if (!facts.ok()) return 10;
  if (!PivotToEmptyRoot().ok()) return 11;
  if (!DropPrivileges(*facts).ok()) return 12;
  if (!ApplyRlimits().ok()) return 13;
  if (getpid() != 1) return 20;  // first process of a new pid namespace
  struct stat st;
  if (stat("/proc/self", &st) == 0 || stat("/etc/passwd", &st) == 0 || stat("/dev/kvm", &st) == 0) return 21;
  if (mkdir("/x", 0700) == 0 || errno != EROFS) return 22;
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &hdr, data) != 0) return 23;
  if (data[0].effective || data[0].permitted || data[1].effective || data[1].permitted) return 24;
  if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) return 25;
  // (Root is exempt from RLIMIT_NPROC: seccomp is what stops clone in the monitor.)
  rlimit nofile{}, core{};
  if (getrlimit(RLIMIT_NOFILE, &nofile) != 0 || nofile.rlim_max != nofile.rlim_cur) return 26;
  if (dup2(0, static_cast<int>(nofile.rlim_cur)) >= 0 || errno != EBADF) return 28;
  if (getrlimit(RLIMIT_CORE, &core) != 0 || core.rlim_max != 0) return 27;
  return 0;
}

TEST(VmmJail, ChildIsConfinedAndItsExitCodeComesBack) {
  if (geteuid() != 0) GTEST_SKIP() << "the jail needs root (CAP_SYS_ADMIN) to enter namespaces";
  pid_t outer = fork();
  ASSERT_GE(outer, 0);
  if (outer == 0) {
    // This process plays the monitor's parent: it unshares and forks the jailed child.
    if (!EnterNamespaces().ok()) _exit(90);
    auto status = ForkAndWait([] { return JailedChecks(); });
    if (!status.ok()) _exit(91);
    ExitLike(*status);
  }
  int status = 0;
  ASSERT_EQ(waitpid(outer, &status, 0), outer);
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << "failed check code " << WEXITSTATUS(status);
}

TEST(VmmJail, SeccompKillOfTheChildEndsTheParentWithSigsys) {
  if (geteuid() != 0) GTEST_SKIP() << "the jail needs root (CAP_SYS_ADMIN) to enter namespaces";
  auto vcpu_policy = CompilePolicy(ThreadRole::kVcpu);
  ASSERT_TRUE(vcpu_policy.ok()) << vcpu_policy.error().message();
  pid_t outer = fork();
  ASSERT_GE(outer, 0);
  if (outer == 0) {
    if (!EnterNamespaces().ok()) _exit(90);
    auto status = ForkAndWait([&] {
      if (!seccomp::Install(*vcpu_policy).ok()) return 92;
      syscall(SYS_getpid);  // not on the vCPU list: the kernel kills the process
      return 93;
    });
    if (!status.ok()) _exit(91);
    ExitLike(*status);
  }
  int status = 0;
  ASSERT_EQ(waitpid(outer, &status, 0), outer);
  ASSERT_TRUE(WIFSIGNALED(status)) << "exit code " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGSYS);
}

// A monitor killed from outside (SIGKILL cannot be forwarded) takes its VM process along.
TEST(VmmJail, KillingTheWaitingParentKillsTheChild) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t outer = fork();
  ASSERT_GE(outer, 0);
  if (outer == 0) {
    auto status = ForkAndWait([&] {
      pid_t self = getpid();
      (void)!write(fds[1], &self, sizeof self);
      for (;;) pause();
      return 0;
    });
    _exit(status.ok() ? 0 : 1);
  }
  close(fds[1]);
  pid_t inner = 0;
  ASSERT_EQ(read(fds[0], &inner, sizeof inner), static_cast<ssize_t>(sizeof inner));
  close(fds[0]);
  ASSERT_EQ(kill(outer, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(outer, &status, 0), outer);
  // The inner child was reparented to init (or a subreaper) and dies by SIGKILL there.
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    gone = kill(inner, 0) != 0 && errno == ESRCH;
    if (!gone) {
      std::string stat;
      FILE* f = fopen(("/proc/" + std::to_string(inner) + "/stat").c_str(), "r");
      if (f != nullptr) {
        char buf[512] = {};
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        stat.assign(buf, n);
        auto close_paren = stat.rfind(')');
        gone = close_paren != std::string::npos && close_paren + 2 < stat.size() && stat[close_paren + 2] == 'Z';
      }
      usleep(10000);
    }
  }
  EXPECT_TRUE(gone) << "the VM process " << inner << " outlived its monitor";
  if (!gone) kill(inner, SIGKILL);
}

}  // namespace
}  // namespace bulkhead::vmm
