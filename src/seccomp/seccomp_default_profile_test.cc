// The default profile, compiled and emulated: what ordinary programs need answers ALLOW, the
// listed dangerous calls answer EPERM, and the argument checks hold at their edges.
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include <array>
#include <cstdlib>
#include <set>
#include <string>
#include <cerrno>

#include "seccomp/bpf_emulator.h"
#include "seccomp/compile.h"
#include "seccomp/default_profile.h"

namespace bulkhead::seccomp {
namespace {

const uint32_t kNative = seccomp_arch_native();
constexpr uint32_t kEperm = SECCOMP_RET_ERRNO | EPERM;

seccomp_data Data(long nr, std::array<uint64_t, 6> args = {}, uint32_t arch = kNative) {
  seccomp_data d{};
  d.nr = static_cast<int>(nr);
  d.arch = arch;
  for (size_t i = 0; i < 6; ++i) d.args[i] = args[i];
  return d;
}

class DefaultProfileTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Result<Program> r = Compile(DefaultProfile());
    ASSERT_TRUE(r.ok()) << r.error().message();
    program_ = new Program(std::move(r).value());
  }
  static void TearDownTestSuite() { delete program_; }

  static uint32_t Run(const seccomp_data& d) { return Emulate(program_->filter, d); }
  // Looks a name up for an architecture; -1 when that architecture has no such call.
  static long Nr(const char* name, uint32_t arch = kNative) {
    int nr = seccomp_syscall_resolve_name_arch(arch, name);
    return nr < 0 ? -1 : nr;
  }

  static Program* program_;
};
Program* DefaultProfileTest::program_ = nullptr;

TEST_F(DefaultProfileTest, CompilesToAValidProgram) {
  EXPECT_TRUE(ValidateProgram(program_->filter).ok());
  EXPECT_FALSE(program_->has_notify);
  EXPECT_EQ(program_->flags, 0u);
}

TEST_F(DefaultProfileTest, AllowsWhatOrdinaryProgramsNeed) {
  for (const char* name : {"read", "write", "openat", "close", "mmap", "mprotect", "brk",
                           "rt_sigaction", "futex", "execve", "exit_group", "wait4", "fork",
                           "socket", "epoll_wait", "clock_gettime", "getpid", "setuid",
                           "chown", "prctl", "getrandom", "sethostname"}) {
    long nr = Nr(name);
    if (nr < 0) continue;  // not on this architecture (fork on aarch64)
    EXPECT_EQ(Run(Data(nr)), SECCOMP_RET_ALLOW) << name;
  }
}

TEST_F(DefaultProfileTest, DeniesDangerousCalls) {
  const char* denied[] = {
      "mount", "umount2", "pivot_root", "chroot", "ptrace", "process_vm_readv",
      "process_vm_writev", "bpf", "keyctl", "add_key", "request_key", "userfaultfd",
      "perf_event_open", "kexec_load", "kexec_file_load", "init_module", "finit_module",
      "delete_module", "reboot", "swapon", "swapoff", "syslog", "iopl", "ioperm",
      "open_by_handle_at", "name_to_handle_at", "setns", "unshare", "io_uring_setup",
      "io_uring_enter", "io_uring_register", "settimeofday", "clock_settime", "clock_adjtime",
      "adjtimex", "acct", "quotactl", "lookup_dcookie", "nfsservctl", "vhangup", "fanotify_init",
      "fsopen", "fsmount", "fsconfig", "move_mount", "open_tree", "fspick", "mount_setattr",
      "pidfd_getfd", "kcmp", "modify_ldt", "move_pages", "migrate_pages", "process_madvise",
      "uselib", "_sysctl", "personality" /* with a value outside the list, args all 0x40000 */};
  int checked = 0;
  for (const char* name : denied) {
    long nr = Nr(name);
    if (nr < 0) continue;
    ++checked;
    EXPECT_EQ(Run(Data(nr, {0x40000, 0x40000, 0x40000, 0x40000, 0x40000, 0x40000})), kEperm)
        << name;
  }
  EXPECT_GT(checked, 40);
  EXPECT_EQ(Run(Data(1000)), kEperm);  // a number no kernel has yet
}

// Sweeps every syscall number of every architecture in the profile: those the profile allows
// without conditions answer ALLOW, those it never names answer EPERM. This checks the whole
// table, and libseccomp's binary-tree layout with it.
TEST_F(DefaultProfileTest, EveryNumberMatchesTheProfile) {
  const oci::Seccomp profile = DefaultProfile();
  std::vector<uint32_t> arches = {kNative};
  for (const std::string& a : profile.architectures) {
    if (a == "SCMP_ARCH_X86") arches.push_back(SCMP_ARCH_X86);
    if (a == "SCMP_ARCH_X32") arches.push_back(SCMP_ARCH_X32);
    if (a == "SCMP_ARCH_ARM") arches.push_back(SCMP_ARCH_ARM);
  }
  std::set<std::string> allowed, conditional;
  for (const oci::SeccompSyscall& sc : profile.syscalls) {
    bool plain = sc.action == "SCMP_ACT_ALLOW" && sc.args.empty();
    for (const std::string& name : sc.names) (plain ? allowed : conditional).insert(name);
  }
  for (uint32_t arch : arches) {
    // x32 numbers carry bit 30 and share AUDIT_ARCH_X86_64; the other tables are below 1024.
    const long base = arch == SCMP_ARCH_X32 ? 0x40000000 : 0;
    const uint32_t audit_arch = arch == SCMP_ARCH_X32 ? AUDIT_ARCH_X86_64 : arch;
    int allowed_here = 0;
    for (long nr = base; nr < base + 1024; ++nr) {
      // Number to name, so multiplexed calls (i386 socket calls) are seen under their own name.
      char* raw = seccomp_syscall_resolve_num_arch(arch, static_cast<int>(nr));
      std::string name = raw != nullptr ? raw : "";
      free(raw);
      if (conditional.count(name) != 0) continue;
      bool allow = allowed.count(name) != 0;
      allowed_here += allow ? 1 : 0;
      ASSERT_EQ(Run(Data(nr, {}, audit_arch)), allow ? SECCOMP_RET_ALLOW : kEperm)
          << "arch " << arch << " nr " << nr << " " << name;
    }
    EXPECT_GT(allowed_here, 200) << "arch " << arch;
  }
}

TEST_F(DefaultProfileTest, CloneWithoutNamespaceFlags) {
  const long clone = Nr("clone");
  const uint64_t fork_flags = CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD;
  const uint64_t thread_flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
                                CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS |
                                CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
  EXPECT_EQ(Run(Data(clone, {fork_flags})), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Run(Data(clone, {thread_flags})), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Run(Data(clone, {CLONE_VM | CLONE_VFORK | SIGCHLD})), SECCOMP_RET_ALLOW);
  for (int ns : {CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWIPC,
                 CLONE_NEWUTS, CLONE_NEWCGROUP}) {
    EXPECT_EQ(Run(Data(clone, {fork_flags | static_cast<uint32_t>(ns)})), kEperm) << std::hex << ns;
  }
  EXPECT_EQ(Run(Data(Nr("clone3"))), SECCOMP_RET_ERRNO | ENOSYS);
}

TEST_F(DefaultProfileTest, IoctlRefusesTerminalInjectionOnly) {
  const long ioctl = Nr("ioctl");
  EXPECT_EQ(Run(Data(ioctl, {0, TIOCSTI})), kEperm);
  EXPECT_EQ(Run(Data(ioctl, {0, TIOCLINUX})), kEperm);
  // The kernel reads cmd as 32 bits: junk in the upper half must not sneak TIOCSTI through.
  EXPECT_EQ(Run(Data(ioctl, {0, TIOCSTI | (1ULL << 32)})), kEperm);
  EXPECT_EQ(Run(Data(ioctl, {0, TIOCSTI | 0xffffffff00000000ULL})), kEperm);
  EXPECT_EQ(Run(Data(ioctl, {0, TCGETS})), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Run(Data(ioctl, {0, TIOCGWINSZ})), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Run(Data(ioctl, {0, 0xffffffff80045430ULL})), SECCOMP_RET_ALLOW);  // sign-extended
  EXPECT_EQ(Run(Data(ioctl, {0, 0})), SECCOMP_RET_ALLOW);
  // Every request one bit away from a denied one is still allowed.
  for (uint32_t bit = 1; bit != 0; bit <<= 1) {
    for (uint32_t denied : {uint32_t{TIOCSTI}, uint32_t{TIOCLINUX}}) {
      uint64_t cmd = denied ^ bit;
      if (cmd == TIOCSTI || cmd == TIOCLINUX) continue;
      EXPECT_EQ(Run(Data(ioctl, {0, cmd})), SECCOMP_RET_ALLOW) << std::hex << cmd;
    }
  }
}

TEST_F(DefaultProfileTest, PersonalityOnlySafeValues) {
  const long personality = Nr("personality");
  for (uint64_t v : {0x0ULL, 0x8ULL, 0x20000ULL, 0x20008ULL, 0xffffffffULL}) {
    EXPECT_EQ(Run(Data(personality, {v})), SECCOMP_RET_ALLOW) << std::hex << v;
  }
  for (uint64_t v : {0x40000ULL /* ADDR_NO_RANDOMIZE */, 0x400000ULL /* READ_IMPLIES_EXEC */,
                     0x1ULL}) {
    EXPECT_EQ(Run(Data(personality, {v})), kEperm) << std::hex << v;
  }
}

TEST_F(DefaultProfileTest, ForeignArchitectureIsKilled) {
  const uint32_t foreign = kNative == AUDIT_ARCH_S390X ? AUDIT_ARCH_PPC64LE : AUDIT_ARCH_S390X;
  EXPECT_EQ(Run(Data(0, {}, foreign)), kBadArchAction);
}

#if defined(__x86_64__)
TEST_F(DefaultProfileTest, CompatAbisGetTheSamePolicy) {
  const uint32_t i386 = SCMP_ARCH_X86;
  EXPECT_EQ(Run(Data(Nr("read", i386), {}, AUDIT_ARCH_I386)), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Run(Data(Nr("socketcall", i386), {}, AUDIT_ARCH_I386)), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Run(Data(Nr("mount", i386), {}, AUDIT_ARCH_I386)), kEperm);
  EXPECT_EQ(Run(Data(Nr("ptrace", i386), {}, AUDIT_ARCH_I386)), kEperm);
  EXPECT_EQ(Run(Data(Nr("clone", i386), {CLONE_NEWUSER | SIGCHLD}, AUDIT_ARCH_I386)), kEperm);
  EXPECT_EQ(Run(Data(Nr("clone", i386), {SIGCHLD}, AUDIT_ARCH_I386)), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Run(Data(Nr("ioctl", i386), {0, TIOCSTI}, AUDIT_ARCH_I386)), kEperm);

  const uint32_t x32 = SCMP_ARCH_X32;
  EXPECT_EQ(Run(Data(Nr("read", x32))), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Run(Data(Nr("unshare", x32))), kEperm);
  EXPECT_EQ(Run(Data(Nr("clone", x32), {CLONE_NEWNET | SIGCHLD})), kEperm);
}
#endif

}  // namespace
}  // namespace bulkhead::seccomp
