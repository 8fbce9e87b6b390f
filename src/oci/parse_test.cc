#include "oci/parse.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "base/fs.h"

namespace bulkhead::oci {
namespace {

// The seed corpus doubles as test data: full.json exercises every field we parse.
std::string CorpusDir() {
  std::string here = __FILE__;
  return here.substr(0, here.rfind("/src/")) + "/tests/fuzz/corpus/oci_config";
}

std::string ReadCorpus(const std::string& name) {
  Result<std::string> text = ReadFile(CorpusDir() + "/" + name);
  EXPECT_TRUE(text.ok()) << text.error().message();
  return text.ok() ? *text : std::string();
}

std::string ErrorOf(std::string_view json) {
  Result<Config> c = ParseConfig(json);
  if (c.ok()) return "(parsed)";
  return c.error().message();
}

TEST(ParseConfig, FullConfigTopAndProcess) {
  Result<Config> r = ParseConfig(ReadCorpus("full.json"));
  ASSERT_TRUE(r.ok()) << r.error().message();
  const Config& c = *r;
  EXPECT_EQ(c.oci_version, "1.1.0");
  EXPECT_EQ(c.root.path, "rootfs");
  EXPECT_TRUE(c.root.readonly);
  EXPECT_EQ(c.hostname, "box");
  EXPECT_EQ(c.domainname, "example.org");
  ASSERT_TRUE(c.has_process);
  const Process& p = c.process;
  EXPECT_TRUE(p.terminal);
  ASSERT_TRUE(p.console_size.has_value());
  EXPECT_EQ(p.console_size->height, 25u);
  EXPECT_EQ(p.console_size->width, 80u);
  EXPECT_EQ(p.user.uid, 1000u);
  EXPECT_EQ(p.user.gid, 1001u);
  EXPECT_EQ(p.user.umask, 18u);
  EXPECT_EQ(p.user.additional_gids, (std::vector<uint32_t>{5, 6}));
  EXPECT_EQ(p.args, (std::vector<std::string>{"/bin/sh", "-c", "echo hi"}));
  EXPECT_EQ(p.env, (std::vector<std::string>{"PATH=/usr/bin:/bin", "TERM=xterm"}));
  EXPECT_EQ(p.cwd, "/work");
  ASSERT_TRUE(p.capabilities.has_value());
  EXPECT_EQ(p.capabilities->bounding,
            (std::vector<std::string>{"CAP_CHOWN", "CAP_NET_BIND_SERVICE"}));
  EXPECT_EQ(p.capabilities->effective, (std::vector<std::string>{"CAP_CHOWN"}));
  EXPECT_TRUE(p.capabilities->inheritable.empty());
  EXPECT_EQ(p.capabilities->permitted.size(), 2u);
  EXPECT_EQ(p.capabilities->ambient, (std::vector<std::string>{"CAP_NET_BIND_SERVICE"}));
  ASSERT_EQ(p.rlimits.size(), 2u);
  EXPECT_EQ(p.rlimits[0].type, "RLIMIT_NOFILE");
  EXPECT_EQ(p.rlimits[0].hard, 1024u);
  EXPECT_EQ(p.rlimits[0].soft, 512u);
  EXPECT_EQ(p.rlimits[1].hard, UINT64_MAX);
  EXPECT_EQ(p.rlimits[1].soft, UINT64_MAX);
  EXPECT_TRUE(p.no_new_privileges);
  EXPECT_EQ(p.apparmor_profile, "profile-x");
  EXPECT_EQ(p.selinux_label, "system_u:system_r:container_t:s0");
  EXPECT_EQ(p.oom_score_adj, -500);

  ASSERT_EQ(c.mounts.size(), 2u);
  EXPECT_EQ(c.mounts[1].destination, "/data");
  EXPECT_EQ(c.mounts[1].type, "bind");
  EXPECT_EQ(c.mounts[1].source, "/srv/data");
  EXPECT_EQ(c.mounts[1].options, (std::vector<std::string>{"rbind", "ro", "nosuid"}));
  EXPECT_TRUE(c.mounts[0].options.empty());

  ASSERT_EQ(c.hooks.prestart.size(), 1u);
  EXPECT_EQ(c.hooks.prestart[0].path, "/usr/bin/hook");
  EXPECT_EQ(c.hooks.prestart[0].args, (std::vector<std::string>{"hook", "prestart"}));
  EXPECT_EQ(c.hooks.prestart[0].env, (std::vector<std::string>{"A=1"}));
  EXPECT_EQ(c.hooks.prestart[0].timeout, 5);
  EXPECT_EQ(c.hooks.create_runtime.size(), 1u);
  EXPECT_EQ(c.hooks.create_container.size(), 1u);
  EXPECT_EQ(c.hooks.start_container.size(), 1u);
  ASSERT_EQ(c.hooks.poststart.size(), 2u);
  EXPECT_EQ(c.hooks.poststart[1].timeout, 1);
  EXPECT_FALSE(c.hooks.poststart[0].timeout.has_value());
  EXPECT_EQ(c.hooks.poststop.size(), 1u);
  EXPECT_EQ(c.annotations.at("org.example.key"), "value");
}

TEST(ParseConfig, FullConfigLinux) {
  Result<Config> r = ParseConfig(ReadCorpus("full.json"));
  ASSERT_TRUE(r.ok()) << r.error().message();
  const Linux& l = r->linux;
  ASSERT_EQ(l.namespaces.size(), 8u);
  EXPECT_EQ(l.namespaces[7].type, "time");
  EXPECT_TRUE(l.namespaces[0].path.empty());
  ASSERT_EQ(l.uid_mappings.size(), 1u);
  EXPECT_EQ(l.uid_mappings[0].host_id, 100000u);
  EXPECT_EQ(l.uid_mappings[0].size, 65536u);
  ASSERT_EQ(l.gid_mappings.size(), 2u);
  EXPECT_EQ(l.gid_mappings[1].container_id, 1000u);
  EXPECT_EQ(l.time_offsets_secs.at("monotonic"), -3600);
  EXPECT_EQ(l.time_offsets_nanosecs.at("monotonic"), 500u);
  EXPECT_EQ(l.time_offsets_secs.at("boottime"), 86400);
  ASSERT_EQ(l.devices.size(), 2u);
  EXPECT_EQ(l.devices[0].path, "/dev/fuse");
  EXPECT_EQ(l.devices[0].type, "c");
  EXPECT_EQ(l.devices[0].major, 10);
  EXPECT_EQ(l.devices[0].minor, 229);
  EXPECT_EQ(l.devices[0].file_mode, 438u);
  EXPECT_EQ(l.devices[0].uid, 0u);
  EXPECT_FALSE(l.devices[1].file_mode.has_value());
  EXPECT_EQ(l.cgroups_path, "/bulkhead/full");
  EXPECT_EQ(l.rootfs_propagation, "rslave");
  EXPECT_EQ(l.sysctl.at("net.ipv4.ip_forward"), "1");
  EXPECT_EQ(l.masked_paths, (std::vector<std::string>{"/proc/kcore"}));
  EXPECT_TRUE(l.has_masked_paths);
  EXPECT_TRUE(l.readonly_paths.empty());
  EXPECT_TRUE(l.has_readonly_paths);  // present though empty
  EXPECT_EQ(l.mount_label, "system_u:object_r:container_file_t:s0");

  ASSERT_TRUE(l.resources.has_value());
  const Resources& res = *l.resources;
  ASSERT_EQ(res.devices.size(), 2u);
  EXPECT_FALSE(res.devices[0].allow);
  EXPECT_EQ(res.devices[0].type, "a");
  EXPECT_FALSE(res.devices[0].major.has_value());
  EXPECT_TRUE(res.devices[1].allow);
  EXPECT_EQ(res.devices[1].major, 10);
  EXPECT_EQ(res.devices[1].access, "rw");
  ASSERT_TRUE(res.memory.has_value());
  EXPECT_EQ(res.memory->limit, 536870912);
  EXPECT_EQ(res.memory->reservation, 268435456);
  EXPECT_EQ(res.memory->swap, 1073741824);
  EXPECT_EQ(res.memory->kernel, -1);
  EXPECT_EQ(res.memory->swappiness, 60u);
  EXPECT_EQ(res.memory->disable_oom_killer, false);
  ASSERT_TRUE(res.cpu.has_value());
  EXPECT_EQ(res.cpu->shares, 1024u);
  EXPECT_EQ(res.cpu->quota, 50000);
  EXPECT_EQ(res.cpu->period, 100000u);
  EXPECT_EQ(res.cpu->realtime_runtime, 0);
  EXPECT_EQ(res.cpu->realtime_period, 1000000u);
  EXPECT_EQ(res.cpu->cpus, "0-1");
  EXPECT_EQ(res.cpu->mems, "0");
  EXPECT_EQ(res.cpu->idle, 0);
  EXPECT_EQ(res.pids_limit, 1024);
  ASSERT_TRUE(res.block_io.has_value());
  EXPECT_EQ(res.block_io->weight, 500);
  EXPECT_EQ(res.block_io->leaf_weight, 300);
  ASSERT_EQ(res.block_io->weight_device.size(), 1u);
  EXPECT_EQ(res.block_io->weight_device[0].weight, 600);
  EXPECT_EQ(res.block_io->weight_device[0].leaf_weight, 200);
  ASSERT_EQ(res.block_io->throttle_read_bps.size(), 1u);
  EXPECT_EQ(res.block_io->throttle_read_bps[0].rate, 1048576u);
  EXPECT_EQ(res.block_io->throttle_write_bps[0].rate, 2097152u);
  EXPECT_EQ(res.block_io->throttle_read_iops[0].rate, 100u);
  EXPECT_EQ(res.block_io->throttle_write_iops[0].minor, 16);
  ASSERT_EQ(res.hugepage_limits.size(), 1u);
  EXPECT_EQ(res.hugepage_limits[0].page_size, "2MB");
  EXPECT_EQ(res.hugepage_limits[0].limit, 209715200u);
  EXPECT_EQ(res.unified.at("io.weight"), "default 100");

  ASSERT_TRUE(l.seccomp.has_value());
  const Seccomp& s = *l.seccomp;
  EXPECT_EQ(s.default_action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(s.default_errno_ret, 1u);
  EXPECT_EQ(s.architectures.size(), 3u);
  EXPECT_EQ(s.flags, (std::vector<std::string>{"SECCOMP_FILTER_FLAG_LOG"}));
  EXPECT_EQ(s.listener_path, "/run/listener.sock");
  EXPECT_EQ(s.listener_metadata, "meta");
  ASSERT_EQ(s.syscalls.size(), 4u);
  EXPECT_EQ(s.syscalls[0].names, (std::vector<std::string>{"read", "write"}));
  EXPECT_FALSE(s.syscalls[0].errno_ret.has_value());
  EXPECT_EQ(s.syscalls[2].errno_ret, 38u);
  ASSERT_EQ(s.syscalls[2].args.size(), 1u);
  EXPECT_EQ(s.syscalls[2].args[0].index, 0u);
  EXPECT_EQ(s.syscalls[2].args[0].value, 2114060288u);
  EXPECT_EQ(s.syscalls[2].args[0].value_two, 0u);
  EXPECT_EQ(s.syscalls[2].args[0].op, "SCMP_CMP_MASKED_EQ");
}

TEST(ParseConfig, MinimalConfigLeavesDefaults) {
  Result<Config> r = ParseConfig(ReadCorpus("minimal.json"));
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->process.cwd, "/");
  EXPECT_FALSE(r->process.capabilities.has_value());
  EXPECT_FALSE(r->linux.resources.has_value());
  EXPECT_FALSE(r->linux.seccomp.has_value());
  EXPECT_FALSE(r->linux.has_masked_paths);
  EXPECT_FALSE(r->linux.has_readonly_paths);
}

TEST(ParseConfig, TypeErrorsNameTheirPath) {
  struct Case {
    const char* json;
    const char* message;
  };
  const Case cases[] = {
      {R"({"process":{"args":["a","b",3]}})", "process.args[2]: expected a string, got an integer"},
      {R"({"linux":{"resources":{"memory":{"limit":"1G"}}}})",
       "linux.resources.memory.limit: expected an integer"},
      {R"({"linux":{"resources":{"memory":{"limit":1.5}}}})",
       "linux.resources.memory.limit: expected an integer"},
      {R"({"process":{"user":{"uid":-1}}})",
       "process.user.uid: integer -1 out of range [0, 4294967295]"},
      {R"({"process":{"user":{"gid":4294967296}}})",
       "process.user.gid: integer 4294967296 out of range"},
      {R"({"ociVersion":1})", "ociVersion: expected a string, got an integer"},
      {R"({"root":"rootfs"})", "root: expected an object, got a string"},
      {R"({"mounts":{}})", "mounts: expected an array, got an object"},
      {R"({"process":{"terminal":"yes"}})", "process.terminal: expected a boolean"},
      {R"({"process":{"rlimits":[{"type":"RLIMIT_NOFILE","soft":1}]}})",
       "process.rlimits[0].hard: required"},
      {R"({"process":{"oomScoreAdj":3000000000}})", "process.oomScoreAdj: integer 3000000000"},
      {R"({"hooks":{"poststop":[{"path":"/x","timeout":"5"}]}})",
       "hooks.poststop[0].timeout: expected an integer"},
      {R"({"annotations":{"a":1}})", "annotations[\"a\"]: expected a string"},
      {R"({"linux":{"uidMappings":[{"containerID":0,"hostID":1}]}})",
       "linux.uidMappings[0].size: required"},
      {R"({"linux":{"timeOffsets":{"monotonic":{"secs":"1"}}}})",
       "linux.timeOffsets.monotonic.secs: expected an integer"},
      {R"({"linux":{"devices":[{"path":"/dev/x","major":"1"}]}})",
       "linux.devices[0].major: expected an integer"},
      {R"({"linux":{"resources":{"blockIO":{"weight":70000}}}})",
       "linux.resources.blockIO.weight: integer 70000 out of range [0, 65535]"},
      {R"({"linux":{"resources":{"blockIO":{"throttleReadBpsDevice":[{"major":8,"minor":0}]}}}})",
       "linux.resources.blockIO.throttleReadBpsDevice[0].rate: required"},
      {R"({"linux":{"resources":{"pids":{"limit":9223372036854775808}}}})",
       "linux.resources.pids.limit: integer 9223372036854775808 out of range"},
      {R"({"linux":{"resources":{"hugepageLimits":[{"pageSize":2}]}}})",
       "linux.resources.hugepageLimits[0].pageSize: expected a string"},
      {R"({"linux":{"resources":{"unified":{"memory.max":5}}}})",
       "linux.resources.unified[\"memory.max\"]: expected a string"},
      {R"({"linux":{"seccomp":{"syscalls":[{"names":["read"],)"
       R"("args":[{"index":0,"value":-1,"op":"SCMP_CMP_EQ"}]}]}}})",
       "linux.seccomp.syscalls[0].args[0].value: integer -1 out of range"},
      {R"({"linux":{"seccomp":{"syscalls":[{"names":["read"],"args":[{"index":0,"value":1}]}]}}})",
       "linux.seccomp.syscalls[0].args[0].op: required"},
      {R"({"linux":{"maskedPaths":"/proc"}})", "linux.maskedPaths: expected an array"},
      {R"({"linux":{"sysctl":[]}})", "linux.sysctl: expected an object"},
      {R"({"mounts":[{"destination":"/x","uidMappings":[]}]})",
       "mounts[0].uidMappings: idmapped mounts are not supported"},
      {R"([])", "(document): expected an object, got an array"},
  };
  for (const Case& c : cases) {
    std::string err = ErrorOf(c.json);
    EXPECT_EQ(err.rfind(c.message, 0), 0u) << c.json << "\n  got: " << err;
  }
}

TEST(ParseConfig, UnsignedExtremesParse) {
  Result<Config> r = ParseConfig(
      R"({"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],
          "action":"SCMP_ACT_ALLOW","args":[{"index":1,"value":18446744073709551615,
          "valueTwo":18446744073709551615,"op":"SCMP_CMP_MASKED_EQ"}]}]},
          "resources":{"memory":{"limit":9223372036854775807,"swap":-1}}}})");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->linux.seccomp->syscalls[0].args[0].value, UINT64_MAX);
  EXPECT_EQ(r->linux.seccomp->syscalls[0].args[0].value_two, UINT64_MAX);
  EXPECT_EQ(r->linux.resources->memory->limit, INT64_MAX);
  EXPECT_EQ(r->linux.resources->memory->swap, -1);
}

TEST(ParseConfig, UnknownFieldsAndNullsAreIgnored) {
  Result<Config> r = ParseConfig(
      R"({"ociVersion":"1.0.2","future":{"x":[1,2]},"process":{"args":["sh"],"cwd":"/",
          "ioPriority":{"class":"IOPRIO_CLASS_IDLE"},"capabilities":null},
          "linux":{"personality":{"domain":"LINUX"},"seccomp":null,"maskedPaths":null}})");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->process.args, (std::vector<std::string>{"sh"}));
  EXPECT_FALSE(r->process.capabilities.has_value());
  EXPECT_FALSE(r->linux.seccomp.has_value());
  EXPECT_FALSE(r->linux.has_masked_paths);
}

TEST(ParseConfig, ProcessWithoutCwdLeavesItEmpty) {
  Result<Config> r = ParseConfig(R"({"process":{"args":["sh"]}})");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->has_process);
  EXPECT_EQ(r->process.cwd, "");  // so Validate reports the missing required field
}

std::string Nested(int depth) {
  return R"({"ociVersion":"1.0.2","x":)" + std::string(static_cast<size_t>(depth) - 1, '[') +
         std::string(static_cast<size_t>(depth) - 1, ']') + "}";
}

TEST(ParseConfig, DeepNestingRefused) {
  EXPECT_TRUE(ParseConfig(Nested(64)).ok());
  std::string err = ErrorOf(Nested(65));
  EXPECT_NE(err.find("nesting deeper than 64"), std::string::npos) << err;
  // Far deeper than any stack would take if the parser recursed.
  err = ErrorOf(std::string(1000000, '['));
  EXPECT_NE(err.find("nesting deeper than 64"), std::string::npos) << err;
}

TEST(ParseConfig, OversizeRefused) {
  std::string big = R"({"ociVersion":"1.0.2","pad":")" + std::string(16u << 20, 'a') + "\"}";
  std::string err = ErrorOf(big);
  EXPECT_NE(err.find("exceeds the limit of 16777216"), std::string::npos) << err;
}

TEST(ParseConfig, SyntaxErrorsSayWhere) {
  std::string err = ErrorOf("{\n\"ociVersion\": \"1.0.2\",\n}");
  EXPECT_NE(err.find("line 3"), std::string::npos) << err;
  EXPECT_EQ(err.find("[json.exception"), std::string::npos) << err;
  EXPECT_FALSE(ParseConfig("").ok());
  EXPECT_FALSE(ParseConfig("{} trailing").ok());
  EXPECT_FALSE(ParseConfig("{\"a\":\"\xff\"}").ok());  // invalid UTF-8
}

// `update --resources` reads a linux.resources object by itself.
TEST(ParseResourcesDocument, ObjectAlone) {
  Result<Resources> r = ParseResourcesDocument(R"({"memory": {"limit": 33554432, "swap": -1},
      "cpu": {"shares": 512, "cpus": "0-1"}, "pids": {"limit": 20},
      "blockIO": {"weight": 300}, "unified": {"memory.high": "max"}})");
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_TRUE(r->memory && r->memory->limit && r->memory->swap);
  EXPECT_EQ(*r->memory->limit, 33554432);
  EXPECT_EQ(*r->memory->swap, -1);
  EXPECT_FALSE(r->memory->reservation);
  ASSERT_TRUE(r->cpu && r->cpu->shares);
  EXPECT_EQ(*r->cpu->shares, 512u);
  EXPECT_EQ(r->cpu->cpus, "0-1");
  EXPECT_EQ(r->pids_limit, 20);
  ASSERT_TRUE(r->block_io && r->block_io->weight);
  EXPECT_EQ(*r->block_io->weight, 300);
  EXPECT_EQ(r->unified.at("memory.high"), "max");
  EXPECT_TRUE(r->devices.empty());

  Result<Resources> empty = ParseResourcesDocument("{}");
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->memory || empty->cpu || empty->pids_limit || empty->block_io);
}

TEST(ParseResourcesDocument, ErrorsNameTheField) {
  Result<Resources> r = ParseResourcesDocument(R"({"memory": {"limit": "1g"}})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("linux.resources.memory.limit"), std::string::npos)
      << r.error().message();
  EXPECT_FALSE(ParseResourcesDocument("{bad").ok());
  EXPECT_FALSE(ParseResourcesDocument("[]").ok());
  EXPECT_FALSE(ParseResourcesDocument("").ok());
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/bh-oci-test-XXXXXX";
    path_ = ::mkdtemp(tmpl) != nullptr ? tmpl : "";
  }
  ~TempDir() {
    if (!path_.empty()) (void)RemoveAll(path_);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(LoadConfig, ReadsBundleConfig) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  ASSERT_TRUE(WriteFileAtomic(dir.path() + "/config.json", ReadCorpus("minimal.json")).ok());
  Result<Config> r = LoadConfig(dir.path());
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->process.args, (std::vector<std::string>{"sh"}));
}

TEST(LoadConfig, ErrorsNameTheBundle) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  Result<Config> r = LoadConfig(dir.path() + "/nope");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "bundle " + dir.path() + "/nope does not exist");

  r = LoadConfig(dir.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "bundle " + dir.path() + ": config.json does not exist");

  ASSERT_TRUE(WriteFileAtomic(dir.path() + "/config.json", R"({"process":{"args":[1]}})").ok());
  r = LoadConfig(dir.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(
      r.error().message(),
      "bundle " + dir.path() + ": config.json: process.args[0]: expected a string, got an integer");

  r = LoadConfig(dir.path() + "/config.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("is not a directory"), std::string::npos);
}

TEST(LoadConfig, OversizeFileRefused) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  ASSERT_TRUE(WriteFileAtomic(dir.path() + "/config.json", std::string((16u << 20) + 1, ' ')).ok());
  Result<Config> r = LoadConfig(dir.path());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("larger than"), std::string::npos) << r.error().message();
}

// A FIFO or device planted as config.json is refused at once: opening a FIFO for reading
// would otherwise wait for a writer forever, and /dev/zero never ends.
TEST(LoadConfig, NonRegularFileRefused) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string path = dir.path() + "/config.json";
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
  Result<Config> r = LoadConfig(dir.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "bundle " + dir.path() + ": config.json is not a regular file");
  ASSERT_EQ(unlink(path.c_str()), 0);
  ASSERT_EQ(symlink("/dev/zero", path.c_str()), 0);
  r = LoadConfig(dir.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "bundle " + dir.path() + ": config.json is not a regular file");
}

}  // namespace
}  // namespace bulkhead::oci
