#include "oci/default_spec.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "oci/parse.h"
#include "oci/validate.h"

namespace bulkhead::oci {
namespace {

// A stand-in for the real default profile, which lives in the seccomp library.
Seccomp Profile() {
  Seccomp s;
  s.default_action = "SCMP_ACT_ERRNO";
  s.default_errno_ret = 1;
  s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  s.syscalls.push_back({{"read", "write", "exit_group"}, "SCMP_ACT_ALLOW"});
  s.syscalls.push_back({{"personality"}, "SCMP_ACT_ALLOW", {}, {{0, 0, 0, "SCMP_CMP_EQ"}}});
  return s;
}

const Mount* FindMount(const Config& c, const std::string& dest) {
  for (const Mount& m : c.mounts) {
    if (m.destination == dest) return &m;
  }
  return nullptr;
}

bool HasOption(const Mount& m, const std::string& opt) {
  return std::find(m.options.begin(), m.options.end(), opt) != m.options.end();
}

TEST(DefaultSpec, RoundTripsThroughParseAndValidate) {
  std::string text = DefaultSpecJson(Profile());
  EXPECT_EQ(text.rfind("{\n  \"ociVersion\": \"1.0.2\",\n  \"process\": {\n    \"terminal\"", 0),
            0u)
      << text.substr(0, 80);
  Result<Config> r = ParseConfig(text);
  ASSERT_TRUE(r.ok()) << r.error().message();
  Status st = Validate(*r);
  ASSERT_TRUE(st.ok()) << st.error().message();
}

TEST(DefaultSpec, ProcessIsHardened) {
  Result<Config> r = ParseConfig(DefaultSpecJson(Profile()));
  ASSERT_TRUE(r.ok());
  const Process& p = r->process;
  EXPECT_FALSE(p.terminal);
  EXPECT_EQ(p.user.uid, 0u);
  EXPECT_EQ(p.user.gid, 0u);
  EXPECT_EQ(p.args, (std::vector<std::string>{"sh"}));
  EXPECT_EQ(p.env, (std::vector<std::string>{
                       "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                       "TERM=xterm"}));
  EXPECT_EQ(p.cwd, "/");
  ASSERT_TRUE(p.capabilities.has_value());  // present, with every set empty
  EXPECT_TRUE(p.capabilities->bounding.empty());
  EXPECT_TRUE(p.capabilities->effective.empty());
  EXPECT_TRUE(p.capabilities->inheritable.empty());
  EXPECT_TRUE(p.capabilities->permitted.empty());
  EXPECT_TRUE(p.capabilities->ambient.empty());
  ASSERT_EQ(p.rlimits.size(), 1u);
  EXPECT_EQ(p.rlimits[0].type, "RLIMIT_NOFILE");
  EXPECT_EQ(p.rlimits[0].soft, 1024u);
  EXPECT_EQ(p.rlimits[0].hard, 1024u);
  EXPECT_TRUE(p.no_new_privileges);
  EXPECT_EQ(r->root.path, "rootfs");
  EXPECT_TRUE(r->root.readonly);
  EXPECT_EQ(r->hostname, "bulkhead");
}

TEST(DefaultSpec, MountsAreRestricted) {
  Result<Config> r = ParseConfig(DefaultSpecJson(Profile()));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->mounts.size(), 8u);
  for (const char* dest :
       {"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup", "/tmp"}) {
    const Mount* m = FindMount(*r, dest);
    ASSERT_NE(m, nullptr) << dest;
    EXPECT_TRUE(HasOption(*m, "nosuid")) << dest;
  }
  const Mount* pts = FindMount(*r, "/dev/pts");
  EXPECT_EQ(pts->type, "devpts");
  EXPECT_TRUE(HasOption(*pts, "newinstance"));
  EXPECT_TRUE(HasOption(*pts, "ptmxmode=0666"));
  EXPECT_FALSE(HasOption(*pts, "gid=5"));
  EXPECT_TRUE(HasOption(*FindMount(*r, "/sys"), "ro"));
  EXPECT_TRUE(HasOption(*FindMount(*r, "/sys/fs/cgroup"), "ro"));
  EXPECT_EQ(FindMount(*r, "/sys/fs/cgroup")->type, "cgroup");
  EXPECT_TRUE(HasOption(*FindMount(*r, "/dev/shm"), "noexec"));
  EXPECT_TRUE(HasOption(*FindMount(*r, "/tmp"), "size=65536k"));
}

TEST(DefaultSpec, LinuxIsolatesEverything) {
  Result<Config> r = ParseConfig(DefaultSpecJson(Profile()));
  ASSERT_TRUE(r.ok());
  const Linux& l = r->linux;
  EXPECT_EQ(l.namespaces.size(), 7u);
  for (const char* t : {"pid", "network", "ipc", "uts", "mount", "cgroup", "user"}) {
    const Namespace* ns = FindNamespace(l, t);
    ASSERT_NE(ns, nullptr) << t;
    EXPECT_TRUE(ns->path.empty()) << t;
  }
  for (const auto* maps : {&l.uid_mappings, &l.gid_mappings}) {
    ASSERT_EQ(maps->size(), 1u);
    EXPECT_EQ((*maps)[0].container_id, 0u);
    EXPECT_EQ((*maps)[0].host_id, 100000u);
    EXPECT_EQ((*maps)[0].size, 65536u);
  }
  ASSERT_TRUE(l.resources.has_value());
  EXPECT_EQ(l.resources->pids_limit, 1024);
  ASSERT_TRUE(l.resources->memory.has_value());
  EXPECT_EQ(l.resources->memory->limit, 536870912);
  ASSERT_EQ(l.resources->devices.size(), 1u);
  EXPECT_FALSE(l.resources->devices[0].allow);
  EXPECT_EQ(l.resources->devices[0].type, "a");
  EXPECT_EQ(l.resources->devices[0].access, "rwm");
  EXPECT_TRUE(l.has_masked_paths);
  EXPECT_EQ(l.masked_paths.size(), 10u);
  EXPECT_NE(std::find(l.masked_paths.begin(), l.masked_paths.end(), "/proc/kcore"),
            l.masked_paths.end());
  EXPECT_EQ(l.readonly_paths, (std::vector<std::string>{"/proc/bus", "/proc/fs", "/proc/irq",
                                                        "/proc/sys", "/proc/sysrq-trigger"}));
  ASSERT_TRUE(l.seccomp.has_value());
  EXPECT_EQ(l.seccomp->default_action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(l.seccomp->default_errno_ret, 1u);
  ASSERT_EQ(l.seccomp->syscalls.size(), 2u);
  EXPECT_EQ(l.seccomp->syscalls[1].args[0].op, "SCMP_CMP_EQ");
}

}  // namespace
}  // namespace bulkhead::oci
