#include "jail/device_filter.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <set>

#include "base/fs.h"
#include "base/unique_fd.h"
#include "jail/cgroup_mounts.h"

namespace bulkhead::jail {
namespace {

oci::DeviceRule Rule(bool allow, std::string type, std::optional<int64_t> major,
                     std::optional<int64_t> minor, std::string access) {
  oci::DeviceRule r;
  r.allow = allow;
  r.type = std::move(type);
  r.major = major;
  r.minor = minor;
  r.access = std::move(access);
  return r;
}

// Runs the subset of eBPF the compiler emits, the way the kernel would, and checks what
// the verifier checks that matters here: every jump lands inside, nothing is dead code.
struct Emulator {
  std::vector<bpf_insn> prog;

  ::testing::AssertionResult WellFormed() const {
    std::set<size_t> seen;
    std::vector<size_t> todo = {0};
    while (!todo.empty()) {
      size_t pc = todo.back();
      todo.pop_back();
      if (pc >= prog.size()) return ::testing::AssertionFailure() << "runs off the end at " << pc;
      if (!seen.insert(pc).second) continue;
      const bpf_insn& i = prog[pc];
      if (i.code == (BPF_JMP | BPF_EXIT)) continue;
      todo.push_back(pc + 1);
      if (BPF_CLASS(i.code) == BPF_JMP) todo.push_back(pc + 1 + static_cast<size_t>(i.off));
    }
    if (seen.size() != prog.size()) {
      return ::testing::AssertionFailure() << (prog.size() - seen.size()) << " unreachable insns";
    }
    return ::testing::AssertionSuccess();
  }

  // Returns the verdict, or -1 for an instruction the emulator does not know.
  int Run(uint32_t type, uint32_t access, uint32_t major, uint32_t minor) const {
    uint32_t ctx[3] = {type | (access << 16), major, minor};
    uint64_t r[11] = {};
    for (size_t pc = 0; pc < prog.size(); ++pc) {
      const bpf_insn& i = prog[pc];
      uint64_t imm = static_cast<uint64_t>(static_cast<int64_t>(i.imm));
      switch (i.code) {
        case BPF_LDX | BPF_MEM | BPF_W: r[i.dst_reg] = ctx[i.off / 4]; break;
        case BPF_ALU | BPF_MOV | BPF_X: r[i.dst_reg] = static_cast<uint32_t>(r[i.src_reg]); break;
        case BPF_ALU | BPF_AND | BPF_K: r[i.dst_reg] = static_cast<uint32_t>(r[i.dst_reg] & imm); break;
        case BPF_ALU | BPF_RSH | BPF_K: r[i.dst_reg] = static_cast<uint32_t>(r[i.dst_reg]) >> i.imm; break;
        case BPF_ALU64 | BPF_MOV | BPF_K: r[i.dst_reg] = imm; break;
        case BPF_JMP | BPF_JNE | BPF_K: if (r[i.dst_reg] != imm) pc += static_cast<size_t>(i.off); break;
        case BPF_JMP | BPF_JEQ | BPF_K: if (r[i.dst_reg] == imm) pc += static_cast<size_t>(i.off); break;
        case BPF_JMP | BPF_EXIT: return static_cast<int>(r[0]);
        default: return -1;
      }
    }
    return -1;
  }
};

constexpr uint32_t kChar = BPF_DEVCG_DEV_CHAR, kBlock = BPF_DEVCG_DEV_BLOCK;
constexpr uint32_t kM = BPF_DEVCG_ACC_MKNOD, kR = BPF_DEVCG_ACC_READ, kW = BPF_DEVCG_ACC_WRITE;

Emulator Compile(const std::vector<oci::DeviceRule>& rules) {
  auto prog = CompileDeviceFilter(rules);
  EXPECT_TRUE(prog.ok()) << prog.error().message();
  Emulator e{prog.ok() ? *prog : std::vector<bpf_insn>{}};
  EXPECT_TRUE(e.WellFormed());
  return e;
}

TEST(DeviceFilter, NoRulesDeniesEverything) {
  Emulator e = Compile({});
  EXPECT_EQ(e.Run(kChar, kR, 1, 3), 0);
  EXPECT_EQ(e.Run(kBlock, kM, 8, 0), 0);
}

TEST(DeviceFilter, OnlyNull) {
  Emulator e = Compile({Rule(true, "c", 1, 3, "rwm")});
  EXPECT_EQ(e.Run(kChar, kR | kW, 1, 3), 1);
  EXPECT_EQ(e.Run(kChar, kM, 1, 3), 1);
  EXPECT_EQ(e.Run(kChar, kR, 1, 5), 0);   // zero
  EXPECT_EQ(e.Run(kBlock, kR, 1, 3), 0);  // a block device with the same numbers
}

TEST(DeviceFilter, LastMatchingRuleWins) {
  Emulator e = Compile({Rule(true, "a", std::nullopt, std::nullopt, "rwm"),
                        Rule(false, "c", 1, 5, "w")});
  EXPECT_EQ(e.Run(kChar, kR, 1, 5), 1);
  EXPECT_EQ(e.Run(kChar, kW, 1, 5), 0);
  EXPECT_EQ(e.Run(kChar, kR | kW, 1, 5), 0);  // any denied bit denies
  EXPECT_EQ(e.Run(kBlock, kW, 8, 0), 1);
  // The other order: the later allow takes it back.
  Emulator e2 = Compile({Rule(false, "c", 1, 5, "w"), Rule(true, "c", 1, 5, "rw")});
  EXPECT_EQ(e2.Run(kChar, kR | kW, 1, 5), 1);
  EXPECT_EQ(e2.Run(kChar, kM, 1, 5), 0);
}

TEST(DeviceFilter, AllowMustCoverEveryRequestedAccess) {
  Emulator e = Compile({Rule(true, "c", 1, 3, "r"), Rule(true, "c", 1, 3, "w")});
  EXPECT_EQ(e.Run(kChar, kR, 1, 3), 1);
  EXPECT_EQ(e.Run(kChar, kW, 1, 3), 1);
  EXPECT_EQ(e.Run(kChar, kR | kW, 1, 3), 0);  // as the v1 controller decides too
}

TEST(DeviceFilter, Wildcards) {
  Emulator e = Compile({Rule(true, "c", 136, std::nullopt, "rwm"),
                        Rule(true, "b", std::nullopt, 7, "r"), Rule(true, "c", -1, -1, "m")});
  EXPECT_EQ(e.Run(kChar, kR | kW, 136, 0), 1);
  EXPECT_EQ(e.Run(kChar, kR | kW, 136, 99), 1);
  EXPECT_EQ(e.Run(kChar, kR, 137, 0), 0);
  EXPECT_EQ(e.Run(kBlock, kR, 8, 7), 1);
  EXPECT_EQ(e.Run(kBlock, kW, 8, 7), 0);
  EXPECT_EQ(e.Run(kChar, kM, 4, 64), 1);  // negative numbers are wildcards
}

TEST(DeviceFilter, CatchAllRuleCutsOffEarlierRules) {
  // Everything before a final "deny all" is dead and must not be emitted.
  auto prog = CompileDeviceFilter({Rule(true, "c", 1, 3, "rwm"),
                                   Rule(false, "a", std::nullopt, std::nullopt, "rwm")});
  ASSERT_TRUE(prog.ok());
  Emulator e{*prog};
  EXPECT_TRUE(e.WellFormed());
  EXPECT_EQ(e.Run(kChar, kR, 1, 3), 0);
  EXPECT_EQ(prog->size(), 6u + 2u);  // prologue, then r0 = 0; exit
}

TEST(DeviceFilter, DefaultsAreAppendedLast) {
  // A config that denies everything still gets the standard devices.
  Emulator e = Compile(EffectiveDeviceRules({Rule(false, "a", std::nullopt, std::nullopt, "rwm")}));
  EXPECT_EQ(e.Run(kChar, kR | kW, 1, 3), 1);    // null
  EXPECT_EQ(e.Run(kChar, kR | kW, 1, 9), 1);    // urandom
  EXPECT_EQ(e.Run(kChar, kR | kW, 136, 4), 1);  // a pty
  EXPECT_EQ(e.Run(kChar, kR | kW, 5, 2), 1);    // ptmx
  EXPECT_EQ(e.Run(kBlock, kR, 8, 0), 0);        // a disk
  EXPECT_EQ(e.Run(kBlock, kM, 8, 0), 1);        // mknod is allowed, opening is not
  EXPECT_EQ(e.Run(kChar, kR, 1, 1), 0);         // /dev/mem
  EXPECT_EQ(e.Run(kChar, kR, 10, 200), 0);      // tun
}

TEST(DeviceFilter, RulesForLinuxDevices) {
  oci::Device fuse;
  fuse.path = "/dev/fuse";
  fuse.type = "c";
  fuse.major = 10;
  fuse.minor = 229;
  oci::Device fifo;
  fifo.type = "p";
  auto rules = AllowRulesForDevices({fuse, fifo});
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(FormatV1DeviceRule(rules[0]), "c 10:229 rwm");
}

TEST(DeviceFilter, V1Lines) {
  EXPECT_EQ(FormatV1DeviceRule(Rule(true, "c", 1, 3, "rwm")), "c 1:3 rwm");
  EXPECT_EQ(FormatV1DeviceRule(Rule(true, "b", 8, std::nullopt, "r")), "b 8:* r");
  EXPECT_EQ(FormatV1DeviceRule(Rule(true, "c", std::nullopt, std::nullopt, "m")), "c *:* m");
  EXPECT_EQ(FormatV1DeviceRule(Rule(false, "a", std::nullopt, std::nullopt, "rwm")), "a");
  EXPECT_EQ(FormatV1DeviceRule(Rule(true, "", 1, 3, "")), "a");
  EXPECT_EQ(FormatV1DeviceRule(Rule(true, "c", 1, 3, "")), "c 1:3 rwm");
}

TEST(DeviceFilter, Validation) {
  EXPECT_TRUE(ValidateDeviceRule(Rule(true, "c", 1, 3, "rw")).ok());
  EXPECT_FALSE(ValidateDeviceRule(Rule(true, "x", 1, 3, "rw")).ok());
  EXPECT_FALSE(ValidateDeviceRule(Rule(true, "c", 1, 3, "rx")).ok());
  EXPECT_FALSE(ValidateDeviceRule(Rule(true, "c", int64_t{1} << 40, 3, "r")).ok());
  auto prog = CompileDeviceFilter({Rule(true, "c", 1, 3, "rw"), Rule(true, "z", 1, 3, "rw")});
  ASSERT_FALSE(prog.ok());
  EXPECT_NE(prog.error().message().find("linux.resources.devices[1]"), std::string::npos)
      << prog.error().message();
}

// The real kernel: a cgroup2 directory with the filter attached, and a process in it.
class DeviceFilterKernel : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    auto info = ReadFile("/proc/self/mountinfo");
    ASSERT_TRUE(info.ok());
    std::string v2 = FindCgroup2Mount(*info);
    if (v2.empty()) GTEST_SKIP() << "no cgroup2 mount";
    dir_ = v2 + "/bulkhead-test-" + std::to_string(::getpid()) + "-devfilter";
    ASSERT_EQ(::mkdir(dir_.c_str(), 0755), 0) << std::strerror(errno);
    fd_ = UniqueFd(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(fd_.valid());
  }
  void TearDown() override {
    fd_.reset();
    if (!dir_.empty()) {
      EXPECT_EQ(::rmdir(dir_.c_str()), 0) << std::strerror(errno);
    }
  }

  // Forks a child that joins the cgroup and opens path; returns 0 or the errno it got.
  int OpenInside(const char* path, int flags) {
    pid_t pid = ::fork();
    if (pid == 0) {
      int procs = ::open((dir_ + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
      if (procs < 0 || ::write(procs, "0", 1) != 1) ::_exit(200);
      int fd = ::open(path, flags | O_CLOEXEC);
      ::_exit(fd >= 0 ? 0 : errno);
    }
    int status = 0;
    EXPECT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status));
    return WEXITSTATUS(status);
  }

  std::string dir_;
  UniqueFd fd_;
};

TEST_F(DeviceFilterKernel, OnlyNullIsAllowed) {
  auto prog = CompileDeviceFilter({Rule(true, "c", 1, 3, "rwm")});
  ASSERT_TRUE(prog.ok());
  Status st = AttachDeviceFilter(fd_.get(), *prog);
  ASSERT_TRUE(st.ok()) << st.error().message();
  EXPECT_EQ(OpenInside("/dev/null", O_RDWR), 0);
  EXPECT_EQ(OpenInside("/dev/zero", O_RDONLY), EPERM);
  // Outside the cgroup nothing changed.
  UniqueFd zero(::open("/dev/zero", O_RDONLY | O_CLOEXEC));
  EXPECT_TRUE(zero.valid());
}

TEST_F(DeviceFilterKernel, ApplyingAgainReplaces) {
  auto only_null = CompileDeviceFilter({Rule(true, "c", 1, 3, "rwm")});
  auto read_zero = CompileDeviceFilter({Rule(true, "c", 1, 3, "rwm"), Rule(true, "c", 1, 5, "r")});
  ASSERT_TRUE(only_null.ok() && read_zero.ok());
  ASSERT_TRUE(AttachDeviceFilter(fd_.get(), *only_null).ok());
  Status st = AttachDeviceFilter(fd_.get(), *read_zero);
  ASSERT_TRUE(st.ok()) << st.error().message();
  auto ids = QueryDeviceFilters(fd_.get());
  ASSERT_TRUE(ids.ok()) << ids.error().message();
  EXPECT_EQ(ids->size(), 1u);  // the old program is gone, not stacked
  EXPECT_EQ(OpenInside("/dev/zero", O_RDONLY), 0);
  EXPECT_EQ(OpenInside("/dev/zero", O_WRONLY), EPERM);
}

TEST_F(DeviceFilterKernel, DefaultsLoadAndWork) {
  auto prog = CompileDeviceFilter(EffectiveDeviceRules({}));
  ASSERT_TRUE(prog.ok());
  Status st = AttachDeviceFilter(fd_.get(), *prog);
  ASSERT_TRUE(st.ok()) << st.error().message();
  EXPECT_EQ(OpenInside("/dev/urandom", O_RDONLY), 0);
  EXPECT_EQ(OpenInside("/dev/kmsg", O_RDONLY), EPERM);
}

}  // namespace
}  // namespace bulkhead::jail
