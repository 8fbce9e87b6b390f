// The compiled allow-lists, checked by emulating the BPF on fake system calls.
#include "vmm/seccomp_policy.h"

#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/futex.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <array>

#include "seccomp/bpf_emulator.h"

namespace bulkhead::vmm {
namespace {

seccomp_data Call(long nr, std::array<uint64_t, 6> args = {}, uint32_t arch = AUDIT_ARCH_X86_64) {
  seccomp_data d{};
  d.nr = static_cast<int>(nr);
  d.arch = arch;
  for (size_t i = 0; i < 6; ++i) d.args[i] = args[i];
  return d;
}

uint32_t Answer(ThreadRole role, const seccomp_data& d, bool writeback = false) {
  auto prog = CompilePolicy(role, writeback);
  EXPECT_TRUE(prog.ok()) << prog.error().message();
  EXPECT_TRUE(seccomp::ValidateProgram(prog->filter).ok());
  EXPECT_EQ(prog->flags, 0u);
  return seccomp::Emulate(prog->filter, d) & SECCOMP_RET_ACTION_FULL;
}

constexpr uint32_t kAllow = SECCOMP_RET_ALLOW;
constexpr uint32_t kKill = SECCOMP_RET_KILL_PROCESS;

TEST(VmmSeccomp, VcpuMayOnlyRunTheVcpu) {
  EXPECT_EQ(Answer(ThreadRole::kVcpu, Call(SYS_ioctl, {5, KVM_RUN})), kAllow);
  EXPECT_EQ(Answer(ThreadRole::kVcpu, Call(SYS_ioctl, {5, KVM_CREATE_VCPU})), kKill);
  EXPECT_EQ(Answer(ThreadRole::kVcpu, Call(SYS_ioctl, {5, KVM_SET_USER_MEMORY_REGION})), kKill);
  EXPECT_EQ(Answer(ThreadRole::kVcpu, Call(SYS_write, {1, 0, 1})), kAllow);
  EXPECT_EQ(Answer(ThreadRole::kVcpu, Call(SYS_pwritev)), kKill);
  EXPECT_EQ(Answer(ThreadRole::kVcpu, Call(SYS_read)), kKill);
}

TEST(VmmSeccomp, EventLoopCannotTouchKvmOrSpawn) {
  EXPECT_EQ(Answer(ThreadRole::kEventLoop, Call(SYS_preadv)), kAllow);
  EXPECT_EQ(Answer(ThreadRole::kEventLoop, Call(SYS_epoll_wait)), kAllow);
  EXPECT_EQ(Answer(ThreadRole::kEventLoop, Call(SYS_ioctl, {5, KVM_RUN})), kKill);
  for (long nr : {SYS_execve, SYS_execveat, SYS_clone, SYS_clone3, SYS_fork, SYS_open, SYS_openat, SYS_socket,
                  SYS_connect, SYS_ptrace, SYS_mprotect, SYS_setns, SYS_unshare, SYS_mount, SYS_kill}) {
    EXPECT_EQ(Answer(ThreadRole::kEventLoop, Call(nr)), kKill) << "syscall " << nr;
    EXPECT_EQ(Answer(ThreadRole::kVcpu, Call(nr)), kKill) << "syscall " << nr;
  }
}

TEST(VmmSeccomp, WritebackCallsOnlyWithWritableVolumes) {
  for (long nr : {SYS_openat2, SYS_mkdirat, SYS_unlinkat, SYS_newfstatat, SYS_getdents64, SYS_ftruncate,
                  SYS_pwrite64, SYS_fchmod}) {
    EXPECT_EQ(Answer(ThreadRole::kEventLoop, Call(nr)), kKill) << "syscall " << nr;
    EXPECT_EQ(Answer(ThreadRole::kEventLoop, Call(nr), true), kAllow) << "syscall " << nr;
    EXPECT_EQ(Answer(ThreadRole::kVcpu, Call(nr), true), kKill) << "syscall " << nr;
  }
  // Still no way to open anything but beneath a volume, nor to make links or devices.
  for (long nr : {SYS_open, SYS_openat, SYS_symlinkat, SYS_linkat, SYS_mknodat, SYS_renameat2, SYS_fchownat,
                  SYS_chmod, SYS_execve}) {
    EXPECT_EQ(Answer(ThreadRole::kEventLoop, Call(nr), true), kKill) << "syscall " << nr;
  }
}

TEST(VmmSeccomp, AgentClientsAreAcceptedOnlyNonBlockingAndCloseOnExec) {
  EXPECT_EQ(Answer(ThreadRole::kEventLoop, Call(SYS_accept4, {5, 0, 0, SOCK_NONBLOCK | SOCK_CLOEXEC})), kAllow);
  EXPECT_EQ(Answer(ThreadRole::kEventLoop, Call(SYS_accept4, {5, 0, 0, SOCK_CLOEXEC})), kKill);
  EXPECT_EQ(Answer(ThreadRole::kEventLoop, Call(SYS_accept)), kKill);
  EXPECT_EQ(Answer(ThreadRole::kEventLoop, Call(SYS_close, {5})), kAllow);
  EXPECT_EQ(Answer(ThreadRole::kVcpu, Call(SYS_accept4, {5, 0, 0, SOCK_NONBLOCK | SOCK_CLOEXEC})), kKill);
}

TEST(VmmSeccomp, ArgumentsAreRestricted) {
  for (ThreadRole role : {ThreadRole::kEventLoop, ThreadRole::kVcpu}) {
    EXPECT_EQ(Answer(role, Call(SYS_futex, {0, FUTEX_WAIT_PRIVATE})), kAllow);
    EXPECT_EQ(Answer(role, Call(SYS_futex, {0, FUTEX_WAKE_PRIVATE})), kAllow);
    EXPECT_EQ(Answer(role, Call(SYS_futex, {0, FUTEX_WAIT})), kKill);  // shared futexes: never used
    EXPECT_EQ(Answer(role, Call(SYS_futex, {0, FUTEX_CMP_REQUEUE_PRIVATE})), kKill);
    EXPECT_EQ(Answer(role, Call(SYS_mmap, {0, 4096, PROT_READ | PROT_WRITE})), kAllow);
    EXPECT_EQ(Answer(role, Call(SYS_mmap, {0, 4096, PROT_READ | PROT_EXEC})), kKill);
  }
}

TEST(VmmSeccomp, OtherArchitecturesAreKilled) {
  EXPECT_EQ(Answer(ThreadRole::kVcpu, Call(SYS_write, {}, AUDIT_ARCH_I386)), kKill);
  EXPECT_EQ(Answer(ThreadRole::kEventLoop, Call(SYS_write, {}, AUDIT_ARCH_I386)), kKill);
}

TEST(VmmSeccomp, ListsAreSmallerThanFirecrackers) {
  // Firecracker (published): vmm thread 50 syscalls, vcpu 27. Count names, not rules.
  EXPECT_NE(DescribePolicies().find("event loop thread: 22 system calls"), std::string::npos)
      << DescribePolicies();
  EXPECT_NE(DescribePolicies().find("vcpu thread: 10 system calls"), std::string::npos);
}

}  // namespace
}  // namespace bulkhead::vmm
