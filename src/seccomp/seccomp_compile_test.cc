// Compiles small profiles and checks the filter's answers by emulating it on fake syscalls.
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <seccomp.h>
#include <sys/syscall.h>

#include <array>
#include <cerrno>

#include "seccomp/bpf_emulator.h"
#include "seccomp/compile.h"

namespace bulkhead::seccomp {
namespace {

const uint32_t kNative = seccomp_arch_native();

seccomp_data Data(long nr, std::array<uint64_t, 6> args = {}, uint32_t arch = kNative) {
  seccomp_data d{};
  d.nr = static_cast<int>(nr);
  d.arch = arch;
  for (size_t i = 0; i < 6; ++i) d.args[i] = args[i];
  return d;
}

oci::SeccompSyscall Rule(std::vector<std::string> names, std::string action,
                         std::vector<oci::SeccompArg> args = {},
                         std::optional<uint32_t> errno_ret = std::nullopt) {
  oci::SeccompSyscall sc;
  sc.names = std::move(names);
  sc.action = std::move(action);
  sc.args = std::move(args);
  sc.errno_ret = errno_ret;
  return sc;
}

oci::Seccomp Profile(std::string default_action, std::vector<oci::SeccompSyscall> rules) {
  oci::Seccomp p;
  p.default_action = std::move(default_action);
  p.syscalls = std::move(rules);
  return p;
}

Program MustCompile(const oci::Seccomp& p) {
  Result<Program> r = Compile(p);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message());
  if (!r.ok()) return Program{};
  EXPECT_TRUE(ValidateProgram(r->filter).ok());
  return std::move(r).value();
}

std::string CompileError(const oci::Seccomp& p) {
  Result<Program> r = Compile(p);
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : r.error().message();
}

constexpr uint32_t Errno(uint32_t e) { return SECCOMP_RET_ERRNO | e; }

TEST(SeccompCompile, AllowListWithDefaultErrno) {
  Program prog = MustCompile(Profile("SCMP_ACT_ERRNO", {Rule({"read", "write"}, "SCMP_ACT_ALLOW"),
                                                        Rule({"getppid"}, "SCMP_ACT_ERRNO", {},
                                                             EACCES)}));
  EXPECT_EQ(Emulate(prog.filter, Data(SYS_read)), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Emulate(prog.filter, Data(SYS_write)), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Emulate(prog.filter, Data(SYS_getppid)), Errno(EACCES));
  EXPECT_EQ(Emulate(prog.filter, Data(SYS_getpid)), Errno(EPERM));  // default errno is EPERM
  EXPECT_EQ(Emulate(prog.filter, Data(SYS_read, {}, AUDIT_ARCH_S390X)), kBadArchAction);
  EXPECT_EQ(prog.flags, 0u);
  EXPECT_FALSE(prog.has_notify);
}

TEST(SeccompCompile, DefaultErrnoRetHonoured) {
  oci::Seccomp p = Profile("SCMP_ACT_ERRNO", {Rule({"read"}, "SCMP_ACT_ALLOW")});
  p.default_errno_ret = ENOSYS;
  Program prog = MustCompile(p);
  EXPECT_EQ(Emulate(prog.filter, Data(SYS_getpid)), Errno(ENOSYS));
}

TEST(SeccompCompile, EveryAction) {
  Program prog = MustCompile(Profile(
      "SCMP_ACT_ALLOW",
      {Rule({"getpid"}, "SCMP_ACT_KILL"), Rule({"getppid"}, "SCMP_ACT_KILL_PROCESS"),
       Rule({"gettid"}, "SCMP_ACT_KILL_THREAD"), Rule({"getuid"}, "SCMP_ACT_TRAP"),
       Rule({"getgid"}, "SCMP_ACT_ERRNO", {}, 42), Rule({"geteuid"}, "SCMP_ACT_TRACE"),
       Rule({"getegid"}, "SCMP_ACT_TRACE", {}, 7), Rule({"sync"}, "SCMP_ACT_LOG"),
       Rule({"getpgrp"}, "SCMP_ACT_NOTIFY")}));
  EXPECT_EQ(Emulate(prog.filter, Data(SYS_getpid)), SECCOMP_RET_KILL_THREAD);
  EXPECT_EQ(Emulate(prog.filter, Data(SYS_getppid)), SECCOMP_RET_KILL_PROCESS);
  EXPECT_EQ(Emulate(prog.filter, Data(SYS_gettid)), SECCOMP_RET_KILL_THREAD);
  EXPECT_EQ(Emulate(prog.filter, Data(SYS_getuid)), SECCOMP_RET_TRAP);
  EXPECT_EQ(Emulate(prog.filter, Data(SYS_getgid)), Errno(42));
  EXPECT_EQ(Emulate(prog.filter, Data(SYS_geteuid)), SECCOMP_RET_TRACE | EPERM);
  EXPECT_EQ(Emulate(prog.filter, Data(SYS_getegid)), SECCOMP_RET_TRACE | 7u);
  EXPECT_EQ(Emulate(prog.filter, Data(SYS_sync)), SECCOMP_RET_LOG);
  EXPECT_EQ(Emulate(prog.filter, Data(SYS_getpgrp)), SECCOMP_RET_USER_NOTIF);
  EXPECT_EQ(Emulate(prog.filter, Data(SYS_read)), SECCOMP_RET_ALLOW);
  EXPECT_TRUE(prog.has_notify);
}

TEST(SeccompCompile, EveryOperator) {
  struct Case {
    const char* op;
    uint64_t value, value_two;
    std::vector<uint64_t> allowed, denied;
  };
  const Case cases[] = {
      {"SCMP_CMP_EQ", 5, 0, {5}, {4, 6, 5 | (1ULL << 32)}},
      {"SCMP_CMP_NE", 5, 0, {4, 6, 5 | (1ULL << 32)}, {5}},
      {"SCMP_CMP_LT", 5, 0, {0, 4}, {5, 6, 1ULL << 32}},
      {"SCMP_CMP_LE", 5, 0, {0, 5}, {6, 1ULL << 32}},
      {"SCMP_CMP_GT", 5, 0, {6, 1ULL << 32}, {0, 5}},
      {"SCMP_CMP_GE", 5, 0, {5, 6, 1ULL << 32}, {0, 4}},
      {"SCMP_CMP_MASKED_EQ", 0xf0, 0x30, {0x30, 0x3f, 0x130}, {0x20, 0x40, 0xf0}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.op);
    Program prog = MustCompile(Profile(
        "SCMP_ACT_ERRNO", {Rule({"read"}, "SCMP_ACT_ALLOW", {{2, c.value, c.value_two, c.op}})}));
    for (uint64_t v : c.allowed) {
      EXPECT_EQ(Emulate(prog.filter, Data(SYS_read, {0, 0, v})), SECCOMP_RET_ALLOW) << v;
    }
    for (uint64_t v : c.denied) {
      EXPECT_EQ(Emulate(prog.filter, Data(SYS_read, {0, 0, v})), Errno(EPERM)) << v;
    }
  }
}

TEST(SeccompCompile, ConditionsOnDifferentArgumentsAllMustHold) {
  Program prog = MustCompile(Profile(
      "SCMP_ACT_ERRNO",
      {Rule({"read"}, "SCMP_ACT_ALLOW", {{0, 1, 0, "SCMP_CMP_EQ"}, {1, 2, 0, "SCMP_CMP_EQ"}})}));
  EXPECT_EQ(Emulate(prog.filter, Data(SYS_read, {1, 2})), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Emulate(prog.filter, Data(SYS_read, {1, 3})), Errno(EPERM));
  EXPECT_EQ(Emulate(prog.filter, Data(SYS_read, {0, 2})), Errno(EPERM));
}

// runc splits a rule with repeated argument indexes into one rule per condition (any holds).
TEST(SeccompCompile, RepeatedArgumentIndexSplitsRule) {
  Program prog = MustCompile(Profile(
      "SCMP_ACT_ERRNO",
      {Rule({"read"}, "SCMP_ACT_ALLOW", {{0, 1, 0, "SCMP_CMP_EQ"}, {0, 2, 0, "SCMP_CMP_EQ"}})}));
  EXPECT_EQ(Emulate(prog.filter, Data(SYS_read, {1})), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Emulate(prog.filter, Data(SYS_read, {2})), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Emulate(prog.filter, Data(SYS_read, {3})), Errno(EPERM));
}

TEST(SeccompCompile, UnknownSyscallNameSkipped) {
  Program prog = MustCompile(Profile(
      "SCMP_ACT_ERRNO", {Rule({"no_such_syscall_anywhere", "getpid"}, "SCMP_ACT_ALLOW")}));
  EXPECT_EQ(Emulate(prog.filter, Data(SYS_getpid)), SECCOMP_RET_ALLOW);
}

TEST(SeccompCompile, RuleEqualToDefaultIsDropped) {
  Program prog = MustCompile(Profile("SCMP_ACT_ERRNO", {Rule({"read"}, "SCMP_ACT_ERRNO"),
                                                        Rule({"write"}, "SCMP_ACT_ALLOW")}));
  EXPECT_EQ(Emulate(prog.filter, Data(SYS_read)), Errno(EPERM));
  EXPECT_EQ(Emulate(prog.filter, Data(SYS_write)), SECCOMP_RET_ALLOW);
  // A different errno is a different action and stays.
  prog = MustCompile(Profile("SCMP_ACT_ERRNO", {Rule({"read"}, "SCMP_ACT_ERRNO", {}, EIO)}));
  EXPECT_EQ(Emulate(prog.filter, Data(SYS_read)), Errno(EIO));
}

TEST(SeccompCompile, Flags) {
  oci::Seccomp p = Profile("SCMP_ACT_ALLOW", {});
  p.flags = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
             "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
  p.syscalls = {Rule({"getppid"}, "SCMP_ACT_NOTIFY")};
  Program prog = MustCompile(p);
  EXPECT_EQ(prog.flags, SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG |
                            SECCOMP_FILTER_FLAG_SPEC_ALLOW |
                            SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
  // Without a listener the kernel refuses WAIT_KILLABLE_RECV, so it is dropped.
  p.syscalls.clear();
  prog = MustCompile(p);
  EXPECT_EQ(prog.flags, SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG |
                            SECCOMP_FILTER_FLAG_SPEC_ALLOW);
  p.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_NEW_LISTENER"};
  EXPECT_EQ(CompileError(p),
            "linux.seccomp.flags[1]: unknown flag SECCOMP_FILTER_FLAG_NEW_LISTENER");
}

TEST(SeccompCompile, ErrorsNameTheField) {
  EXPECT_EQ(CompileError(Profile("SCMP_ACT_ALLOW", {Rule({"read"}, "SCMP_ACT_ERRNO"),
                                                    Rule({"write"}, "SCMP_ACT_FOO")})),
            "linux.seccomp.syscalls[1].action: unknown action SCMP_ACT_FOO");
  EXPECT_EQ(CompileError(Profile("SCMP_ACT_BAR", {})),
            "linux.seccomp.defaultAction: unknown action SCMP_ACT_BAR");
  EXPECT_EQ(CompileError(Profile("", {})), "linux.seccomp.defaultAction: missing");
  EXPECT_EQ(CompileError(Profile("SCMP_ACT_NOTIFY", {})),
            "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
  EXPECT_EQ(CompileError(Profile("SCMP_ACT_ALLOW",
                                 {Rule({"read"}, "SCMP_ACT_ERRNO", {{0, 1, 0, "SCMP_CMP_EQ"},
                                                                    {1, 1, 0, "SCMP_CMP_XX"}})})),
            "linux.seccomp.syscalls[0].args[1].op: unknown operator SCMP_CMP_XX");
  EXPECT_EQ(CompileError(Profile("SCMP_ACT_ALLOW",
                                 {Rule({"read"}, "SCMP_ACT_ERRNO", {{6, 1, 0, "SCMP_CMP_EQ"}})})),
            "linux.seccomp.syscalls[0].args[0].index: argument index 6 out of range (0-5)");
  EXPECT_EQ(CompileError(Profile("SCMP_ACT_ALLOW", {Rule({"read"}, "SCMP_ACT_ERRNO", {}, 5000)})),
            "linux.seccomp.syscalls[0].action: errnoRet 5000 out of range (at most 4095)");
  oci::Seccomp p = Profile("SCMP_ACT_ALLOW", {});
  p.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_PDP11"};
  EXPECT_EQ(CompileError(p), "linux.seccomp.architectures[1]: unknown architecture SCMP_ARCH_PDP11");
  p.architectures = {"x86_64"};  // libseccomp's own spelling is not the OCI one
  EXPECT_EQ(CompileError(p), "linux.seccomp.architectures[0]: unknown architecture x86_64");
}

#if defined(__x86_64__)
// The compat ABIs: i386 numbers under AUDIT_ARCH_I386, x32 numbers with bit 30 set.
TEST(SeccompCompile, ExtraArchitectures) {
  oci::Seccomp p = Profile("SCMP_ACT_ERRNO", {Rule({"read", "socketcall"}, "SCMP_ACT_ALLOW")});
  Program native_only = MustCompile(p);
  constexpr long kI386Read = 3, kI386Socketcall = 102, kX32Bit = 0x40000000;
  EXPECT_EQ(Emulate(native_only.filter, Data(kI386Read, {}, AUDIT_ARCH_I386)), kBadArchAction);
  EXPECT_NE(Emulate(native_only.filter, Data(kX32Bit | SYS_read)), SECCOMP_RET_ALLOW);

  p.architectures = {"SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_X86_64"};
  Program prog = MustCompile(p);
  EXPECT_EQ(Emulate(prog.filter, Data(kI386Read, {}, AUDIT_ARCH_I386)), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Emulate(prog.filter, Data(kI386Socketcall, {}, AUDIT_ARCH_I386)), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Emulate(prog.filter, Data(SYS_getpid, {}, AUDIT_ARCH_I386)), Errno(EPERM));
  EXPECT_EQ(Emulate(prog.filter, Data(kX32Bit | SYS_read)), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Emulate(prog.filter, Data(SYS_read)), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Emulate(prog.filter, Data(SYS_read, {}, AUDIT_ARCH_AARCH64)), kBadArchAction);
}
#endif

}  // namespace
}  // namespace bulkhead::seccomp
