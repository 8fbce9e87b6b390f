#include "oci/validate.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <functional>
#include <string>

#include "base/fs.h"
#include "oci/parse.h"

namespace bulkhead::oci {
namespace {

// A valid config with new namespaces of every kind, so each case breaks one thing.
Config Base() {
  Config c;
  c.oci_version = "1.0.2";
  c.root.path = "rootfs";
  c.has_process = true;
  c.process.args = {"sh"};
  c.process.env = {"PATH=/bin"};
  c.process.cwd = "/";
  for (const char* t : {"pid", "network", "ipc", "uts", "mount", "cgroup", "user"}) {
    c.linux.namespaces.push_back({t, ""});
  }
  c.linux.uid_mappings = {{0, 100000, 65536}};
  c.linux.gid_mappings = {{0, 100000, 65536}};
  return c;
}

Namespace* Find(Config& c, const std::string& type) {
  for (Namespace& ns : c.linux.namespaces) {
    if (ns.type == type) return &ns;
  }
  return nullptr;
}

void Drop(Config& c, const std::string& type) {
  std::erase_if(c.linux.namespaces, [&](const Namespace& ns) { return ns.type == type; });
}

TEST(Validate, BaseIsValid) {
  Status st = Validate(Base());
  EXPECT_TRUE(st.ok()) << st.error().message();
}

struct Case {
  const char* name;
  std::function<void(Config&)> mutate;
  const char* message;  // expected prefix
};

void RunCases(const std::vector<Case>& cases) {
  for (const Case& tc : cases) {
    Config c = Base();
    tc.mutate(c);
    Status st = Validate(c);
    ASSERT_FALSE(st.ok()) << tc.name;
    EXPECT_EQ(st.error().message().rfind(tc.message, 0), 0u)
        << tc.name << "\n  got: " << st.error().message();
  }
}

TEST(Validate, TopLevelAndProcessErrorsNameTheField) {
  RunCases({
      {"no version", [](Config& c) { c.oci_version.clear(); }, "ociVersion: required"},
      {"version 2", [](Config& c) { c.oci_version = "2.0.0"; },
       "ociVersion: \"2.0.0\" is not a 1.x"},
      {"version 1.x text", [](Config& c) { c.oci_version = "1.x"; }, "ociVersion:"},
      {"no root", [](Config& c) { c.root.path.clear(); }, "root.path: required"},
      {"no process", [](Config& c) { c.has_process = false; }, "process: required"},
      {"no args", [](Config& c) { c.process.args.clear(); }, "process.args: required"},
      {"empty arg0", [](Config& c) { c.process.args = {""}; },
       "process.args[0]: must not be empty"},
      {"nul arg", [](Config& c) { c.process.args.push_back(std::string("a\0b", 3)); },
       "process.args[1]: contains a NUL byte"},
      {"env no =", [](Config& c) { c.process.env.push_back("FOO"); },
       "process.env[1]: missing '='"},
      {"env empty name", [](Config& c) { c.process.env.push_back("=x"); }, "process.env[1]: empty"},
      {"relative cwd", [](Config& c) { c.process.cwd = "work"; },
       "process.cwd: \"work\" is not an absolute path"},
      {"missing cwd", [](Config& c) { c.process.cwd.clear(); }, "process.cwd: required"},
      {"umask", [](Config& c) { c.process.user.umask = 01000; }, "process.user.umask:"},
      {"unknown cap",
       [](Config& c) {
         c.process.capabilities = Capabilities{.ambient = {"CAP_CHOWN", "CAP_FLY"}};
       },
       "process.capabilities.ambient[1]: unknown capability \"CAP_FLY\""},
      {"lowercase cap",
       [](Config& c) { c.process.capabilities = Capabilities{.bounding = {"chown"}}; },
       "process.capabilities.bounding[0]: unknown capability"},
      {"unknown rlimit",
       [](Config& c) {
         c.process.rlimits = {{"RLIMIT_FOO", 1, 1}};
       },
       "process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\""},
      {"dup rlimit",
       [](Config& c) {
         c.process.rlimits = {{"RLIMIT_NOFILE", 1, 1}, {"RLIMIT_NOFILE", 2, 2}};
       },
       "process.rlimits[1].type: duplicate rlimit"},
      {"soft > hard",
       [](Config& c) {
         c.process.rlimits = {{"RLIMIT_CORE", 5, 1}};
       },
       "process.rlimits[0]: soft limit above hard limit"},
      {"oom", [](Config& c) { c.process.oom_score_adj = 1001; }, "process.oomScoreAdj:"},
      {"mount relative",
       [](Config& c) {
         c.mounts.push_back({"proc", "proc", "proc", {}});
       },
       "mounts[0].destination: \"proc\" is not an absolute path"},
      {"mount nul option",
       [](Config& c) {
         c.mounts.push_back({"/x", "tmpfs", "tmpfs", {"ro", std::string("a\0", 2)}});
       },
       "mounts[0].options[1]: contains a NUL"},
      {"hook relative",
       [](Config& c) {
         c.hooks.poststart.push_back({"hook", {}, {}, {}});
       },
       "hooks.poststart[0].path: \"hook\" is not an absolute path"},
      {"hook timeout",
       [](Config& c) {
         c.hooks.create_runtime.push_back({"/hook", {}, {}, 0});
       },
       "hooks.createRuntime[0].timeout: must be positive"},
      {"tier", [](Config& c) { c.annotations["run.bulkhead.isolation"] = "vmm"; },
       "annotations[\"run.bulkhead.isolation\"]: must be"},
  });
}

TEST(Validate, NamespaceRulesNameTheField) {
  RunCases({
      {"unknown ns",
       [](Config& c) {
         c.linux.namespaces.push_back({"net", ""});
       },
       "linux.namespaces[7].type: unknown namespace type \"net\""},
      {"dup ns",
       [](Config& c) {
         c.linux.namespaces.push_back({"pid", ""});
       },
       "linux.namespaces[7].type: duplicate namespace type \"pid\""},
      {"relative ns path", [](Config& c) { Find(c, "pid")->path = "proc/1/ns/pid"; },
       "linux.namespaces[0].path:"},
      {"userns without uid map", [](Config& c) { c.linux.uid_mappings.clear(); },
       "linux.uidMappings: required when a new user namespace is created"},
      {"userns without gid map", [](Config& c) { c.linux.gid_mappings.clear(); },
       "linux.gidMappings: required"},
      {"maps without userns", [](Config& c) { Drop(c, "user"); },
       "linux.uidMappings: given without a new user namespace"},
      {"maps with joined userns", [](Config& c) { Find(c, "user")->path = "/proc/1/ns/user"; },
       "linux.uidMappings: given without a new user namespace"},
      {"zero size",
       [](Config& c) {
         c.linux.uid_mappings = {{0, 1000, 0}};
       },
       "linux.uidMappings[0].size: must be positive"},
      {"wraps",
       [](Config& c) {
         c.linux.gid_mappings = {{0, 4294967295u, 2}};
       },
       "linux.gidMappings[0]: range exceeds 32-bit ids"},
      {"overlap inside",
       [](Config& c) {
         c.linux.uid_mappings = {{0, 1000, 10}, {5, 5000, 10}};
       },
       "linux.uidMappings: ranges overlap"},
      {"overlap outside",
       [](Config& c) {
         c.linux.uid_mappings = {{0, 1000, 10}, {100, 1005, 10}};
       },
       "linux.uidMappings: ranges overlap"},
      {"hostname no uts",
       [](Config& c) {
         c.hostname = "h";
         Drop(c, "uts");
       },
       "hostname: requires a new uts namespace"},
      {"hostname joined uts",
       [](Config& c) {
         c.hostname = "h";
         Find(c, "uts")->path = "/proc/1/ns/uts";
       },
       "hostname: requires a new uts namespace"},
      {"hostname long", [](Config& c) { c.hostname = std::string(65, 'h'); }, "hostname: longer"},
      {"domainname no uts",
       [](Config& c) {
         c.domainname = "d";
         Drop(c, "uts");
       },
       "domainname: requires a new uts namespace"},
      {"time no ns", [](Config& c) { c.linux.time_offsets_secs["monotonic"] = 1; },
       "linux.timeOffsets: requires a new time namespace"},
      {"time clock",
       [](Config& c) {
         c.linux.namespaces.push_back({"time", ""});
         c.linux.time_offsets_secs["realtime"] = 1;
         c.linux.time_offsets_nanosecs["realtime"] = 0;
       },
       "linux.timeOffsets.realtime: unknown clock"},
      {"time nanos",
       [](Config& c) {
         c.linux.namespaces.push_back({"time", ""});
         c.linux.time_offsets_secs["boottime"] = 1;
         c.linux.time_offsets_nanosecs["boottime"] = 1000000000;
       },
       "linux.timeOffsets.boottime.nanosecs: must be below 1e9"},
  });
}

TEST(Validate, SysctlFollowsNamespaces) {
  RunCases({
      {"net without netns",
       [](Config& c) {
         c.linux.sysctl["net.ipv4.ip_forward"] = "1";
         Drop(c, "network");
       },
       "linux.sysctl[\"net.ipv4.ip_forward\"]: requires a new network namespace"},
      {"net joined netns",
       [](Config& c) {
         c.linux.sysctl["net.core.somaxconn"] = "1";
         Find(c, "network")->path = "/proc/1/ns/net";
       },
       "linux.sysctl[\"net.core.somaxconn\"]: requires a new network namespace"},
      {"ipc without ipcns",
       [](Config& c) {
         c.linux.sysctl["kernel.shmmax"] = "1";
         Drop(c, "ipc");
       },
       "linux.sysctl[\"kernel.shmmax\"]: requires a new ipc namespace"},
      {"mqueue without ipcns",
       [](Config& c) {
         c.linux.sysctl["fs.mqueue.msg_max"] = "1";
         Drop(c, "ipc");
       },
       "linux.sysctl[\"fs.mqueue.msg_max\"]: requires a new ipc namespace"},
      {"host kernel", [](Config& c) { c.linux.sysctl["kernel.core_pattern"] = "|/x"; },
       "linux.sysctl[\"kernel.core_pattern\"]: not confined by a namespace"},
      {"vm", [](Config& c) { c.linux.sysctl["vm.overcommit_memory"] = "1"; },
       "linux.sysctl[\"vm.overcommit_memory\"]: not confined"},
      {"escape", [](Config& c) { c.linux.sysctl["net/../../kernel/core_pattern"] = "x"; },
       "linux.sysctl[\"net/../../kernel/core_pattern\"]: malformed sysctl name"},
      {"hostname conflict",
       [](Config& c) {
         c.hostname = "a";
         c.linux.sysctl["kernel.hostname"] = "b";
       },
       "linux.sysctl[\"kernel.hostname\"]: conflicts with \"hostname\""},
      {"domainname no uts",
       [](Config& c) {
         c.linux.sysctl["kernel.domainname"] = "b";
         Drop(c, "uts");
       },
       "linux.sysctl[\"kernel.domainname\"]: requires a new uts namespace"},
  });
  Config c = Base();
  c.linux.sysctl = {{"net.ipv4.ip_forward", "1"},
                    {"net/ipv4/conf/eth0.100/rp_filter", "1"},
                    {"kernel.msgmax", "8192"},
                    {"fs.mqueue.queues_max", "64"},
                    {"kernel.domainname", "example.org"}};
  Status st = Validate(c);
  EXPECT_TRUE(st.ok()) << st.error().message();
}

TEST(Validate, LinuxPathsDevicesAndResources) {
  RunCases({
      {"device relative",
       [](Config& c) {
         c.linux.devices.push_back({"dev/x", "c", 1, 3});
       },
       "linux.devices[0].path:"},
      {"device type",
       [](Config& c) {
         c.linux.devices.push_back({"/dev/x", "z", 1, 3});
       },
       "linux.devices[0].type: must be one of c, b, u, p"},
      {"device major",
       [](Config& c) {
         c.linux.devices.push_back({"/dev/x", "c", -1, 3});
       },
       "linux.devices[0].major: out of range"},
      {"device dup",
       [](Config& c) {
         c.linux.devices.push_back({"/dev/x", "c", 1, 3});
         c.linux.devices.push_back({"/dev/x", "c", 1, 5});
       },
       "linux.devices[1].path: duplicate device"},
      {"device mode",
       [](Config& c) {
         c.linux.devices.push_back({"/dev/x", "c", 1, 3, 0100666});
       },
       "linux.devices[0].fileMode:"},
      {"cgroups path escape", [](Config& c) { c.linux.cgroups_path = "/a/../../b"; },
       "linux.cgroupsPath: must not contain \"..\""},
      {"propagation", [](Config& c) { c.linux.rootfs_propagation = "sideways"; },
       "linux.rootfsPropagation: unknown propagation"},
      {"masked relative",
       [](Config& c) {
         c.linux.masked_paths = {"/proc/kcore", "proc/keys"};
       },
       "linux.maskedPaths[1]:"},
      {"readonly relative", [](Config& c) { c.linux.readonly_paths = {"sys"}; },
       "linux.readonlyPaths[0]:"},
      {"swap below limit",
       [](Config& c) {
         c.linux.resources = Resources{.memory = MemoryResources{.limit = 100, .swap = 50}};
       },
       "linux.resources.memory.swap: must not be below memory.limit"},
      {"memory negative",
       [](Config& c) { c.linux.resources = Resources{.memory = MemoryResources{.limit = -2}}; },
       "linux.resources.memory.limit:"},
      {"swappiness",
       [](Config& c) {
         c.linux.resources = Resources{.memory = MemoryResources{.swappiness = 101}};
       },
       "linux.resources.memory.swappiness:"},
      {"cpu period",
       [](Config& c) { c.linux.resources = Resources{.cpu = CpuResources{.period = 10}}; },
       "linux.resources.cpu.period:"},
      {"cpu quota",
       [](Config& c) { c.linux.resources = Resources{.cpu = CpuResources{.quota = 5}}; },
       "linux.resources.cpu.quota:"},
      {"cpu shares",
       [](Config& c) { c.linux.resources = Resources{.cpu = CpuResources{.shares = 1}}; },
       "linux.resources.cpu.shares:"},
      {"cpus list",
       [](Config& c) { c.linux.resources = Resources{.cpu = CpuResources{.cpus = "3-1"}}; },
       "linux.resources.cpu.cpus: malformed list"},
      {"mems list",
       [](Config& c) { c.linux.resources = Resources{.cpu = CpuResources{.mems = "0,,1"}}; },
       "linux.resources.cpu.mems: malformed list"},
      {"pids", [](Config& c) { c.linux.resources = Resources{.pids_limit = -7}; },
       "linux.resources.pids.limit:"},
      {"rule type", [](Config& c) { c.linux.resources = Resources{.devices = {{.type = "x"}}}; },
       "linux.resources.devices[0].type:"},
      {"rule access",
       [](Config& c) { c.linux.resources = Resources{.devices = {{.access = "rwx"}}}; },
       "linux.resources.devices[0].access:"},
      {"blkio weight",
       [](Config& c) { c.linux.resources = Resources{.block_io = BlockIoResources{.weight = 5}}; },
       "linux.resources.blockIO.weight:"},
      {"hugepage size",
       [](Config& c) {
         c.linux.resources = Resources{.hugepage_limits = {{"2M", 1}}};
       },
       "linux.resources.hugepageLimits[0].pageSize: malformed"},
      {"unified slash",
       [](Config& c) {
         c.linux.resources = Resources{.unified = {{"../memory.max", "1"}}};
       },
       "linux.resources.unified[\"../memory.max\"]: not a cgroup file name"},
  });
}

Seccomp AllowAll() {
  Seccomp s;
  s.default_action = "SCMP_ACT_ALLOW";
  return s;
}

TEST(Validate, SeccompNames) {
  auto with = [](std::function<void(Seccomp&)> f) {
    return [f](Config& c) {
      Seccomp s = AllowAll();
      f(s);
      c.linux.seccomp = s;
    };
  };
  RunCases({
      {"default", with([](Seccomp& s) { s.default_action = "SCMP_ACT_MAYBE"; }),
       "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_MAYBE\""},
      {"default notify", with([](Seccomp& s) { s.default_action = "SCMP_ACT_NOTIFY"; }),
       "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default"},
      {"errno on allow", with([](Seccomp& s) { s.default_errno_ret = 1; }),
       "linux.seccomp.defaultErrnoRet:"},
      {"arch", with([](Seccomp& s) {
         s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_VAX"};
       }),
       "linux.seccomp.architectures[1]: unknown architecture"},
      {"flag", with([](Seccomp& s) { s.flags = {"SECCOMP_FILTER_FLAG_FAST"}; }),
       "linux.seccomp.flags[0]: unknown flag"},
      {"no names", with([](Seccomp& s) {
         s.syscalls.push_back({{}, "SCMP_ACT_ERRNO"});
       }),
       "linux.seccomp.syscalls[0].names: required"},
      {"bad name", with([](Seccomp& s) {
         s.syscalls.push_back({{"read", "x y"}, "SCMP_ACT_ERRNO"});
       }),
       "linux.seccomp.syscalls[0].names[1]: malformed syscall name"},
      {"action", with([](Seccomp& s) {
         s.syscalls.push_back({{"read"}, "ALLOW"});
       }),
       "linux.seccomp.syscalls[0].action: unknown action"},
      {"notify no listener", with([](Seccomp& s) {
         s.syscalls.push_back({{"read"}, "SCMP_ACT_NOTIFY"});
       }),
       "linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY requires"},
      {"errnoRet on kill", with([](Seccomp& s) {
         s.syscalls.push_back({{"read"}, "SCMP_ACT_KILL", 1});
       }),
       "linux.seccomp.syscalls[0].errnoRet:"},
      {"arg index", with([](Seccomp& s) {
         s.syscalls.push_back({{"read"}, "SCMP_ACT_ERRNO", {}, {{6, 0, 0, "SCMP_CMP_EQ"}}});
       }),
       "linux.seccomp.syscalls[0].args[0].index:"},
      {"arg op", with([](Seccomp& s) {
         s.syscalls.push_back({{"read"}, "SCMP_ACT_ERRNO", {}, {{0, 0, 0, "SCMP_CMP_ABOUT"}}});
       }),
       "linux.seccomp.syscalls[0].args[0].op: unknown operator"},
  });
}

TEST(Validate, CapabilityNumbers) {
  EXPECT_EQ(*CapabilityNumber("CAP_CHOWN"), 0);
  EXPECT_EQ(*CapabilityNumber("CAP_SYS_ADMIN"), 21);
  EXPECT_EQ(*CapabilityNumber("CAP_AUDIT_READ"), 37);
  EXPECT_EQ(*CapabilityNumber("CAP_CHECKPOINT_RESTORE"), 40);
  EXPECT_FALSE(CapabilityNumber("CAP_NOPE").ok());
  EXPECT_FALSE(CapabilityNumber("SYS_ADMIN").ok());
  const std::vector<std::string>& all = AllCapabilityNames();
  ASSERT_EQ(all.size(), 41u);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(*CapabilityNumber(all[i]), static_cast<int>(i));
}

TEST(Validate, RlimitNumbers) {
  EXPECT_EQ(*RlimitNumber("RLIMIT_NOFILE"), RLIMIT_NOFILE);
  EXPECT_EQ(*RlimitNumber("RLIMIT_CPU"), RLIMIT_CPU);
  EXPECT_EQ(*RlimitNumber("RLIMIT_RTTIME"), RLIMIT_RTTIME);
  Result<int> bad = RlimitNumber("RLIMIT_NOPE");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(), "unknown rlimit \"RLIMIT_NOPE\"");
}

// The committed fuzz seeds: good ones pass, hostile ones are refused, none crash.
TEST(Validate, FuzzCorpusSeeds) {
  std::string here = __FILE__;
  std::string dir = here.substr(0, here.rfind("/src/")) + "/tests/fuzz/corpus/oci_config";
  DIR* d = ::opendir(dir.c_str());
  ASSERT_NE(d, nullptr) << dir;
  int seen = 0;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (!name.ends_with(".json")) continue;
    ++seen;
    Result<std::string> text = ReadFile(dir + "/" + name);
    ASSERT_TRUE(text.ok());
    Result<Config> config = ParseConfig(*text);
    Status st = config.ok() ? Validate(*config) : Status(config.error());
    if (name.starts_with("hostile")) {
      EXPECT_FALSE(st.ok()) << name;
    } else {
      EXPECT_TRUE(st.ok()) << name << ": " << st.error().message();
    }
  }
  ::closedir(d);
  EXPECT_GE(seen, 5);
}

}  // namespace
}  // namespace bulkhead::oci
