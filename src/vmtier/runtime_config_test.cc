#include "vmtier/runtime_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"

namespace bulkhead::vmtier {
namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/bh-vmtier-test.XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { (void)RemoveAll(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string Message(const Result<RuntimeConfig>& r) { return r.ok() ? "" : r.error().message(); }

TEST(RuntimeConfig, DefaultsSitBesideTheBinary) {
  RuntimeConfig c = DefaultRuntimeConfig("/opt/bh/bin");
  EXPECT_EQ(c.isolation, Isolation::kContainer);
  EXPECT_EQ(c.kernel, "/opt/bh/lib/bulkhead/vmlinux");
  EXPECT_EQ(c.initrd, "/opt/bh/lib/bulkhead/initrd.img");
  EXPECT_EQ(c.vmm, "/opt/bh/bin/bulkhead-vmm");
  EXPECT_EQ(c.image_cache, "/var/lib/bulkhead/images");
  EXPECT_EQ(c.vcpus, 1u);
  EXPECT_EQ(c.memory_mib, 256u);
}

TEST(RuntimeConfig, EveryKeyIsRead) {
  auto r = ParseRuntimeConfig(R"({"isolation": "vm", "kernel": "/k/vmlinux", "initrd": "/k/i.img",
      "vmm": "/usr/libexec/bulkhead-vmm", "image_cache": "/srv/images", "vcpus": 4,
      "memory_mib": 512, "memory_overhead_mib": 32, "upper_size_mib": 128, "volume_size_mib": 16,
      "boot_timeout_s": 5})",
                              "/opt/bh/bin", "f.json");
  ASSERT_TRUE(r.ok()) << Message(r);
  EXPECT_EQ(r->isolation, Isolation::kVm);
  EXPECT_EQ(r->kernel, "/k/vmlinux");
  EXPECT_EQ(r->initrd, "/k/i.img");
  EXPECT_EQ(r->vmm, "/usr/libexec/bulkhead-vmm");
  EXPECT_EQ(r->image_cache, "/srv/images");
  EXPECT_EQ(r->vcpus, 4u);
  EXPECT_EQ(r->memory_mib, 512u);
  EXPECT_EQ(r->memory_overhead_mib, 32u);
  EXPECT_EQ(r->upper_size_mib, 128u);
  EXPECT_EQ(r->volume_size_mib, 16u);
  EXPECT_EQ(r->boot_timeout_s, 5u);
}

TEST(RuntimeConfig, AnEmptyObjectKeepsTheDefaults) {
  auto r = ParseRuntimeConfig("{}", "/b/bin", "f.json");
  ASSERT_TRUE(r.ok()) << Message(r);
  EXPECT_EQ(r->kernel, "/b/lib/bulkhead/vmlinux");
  EXPECT_EQ(r->isolation, Isolation::kContainer);
}

TEST(RuntimeConfig, BadFilesAreErrorsNamingTheFileAndKey) {
  struct Case {
    const char* json;
    const char* names;
  } cases[] = {
      {R"({"isolation": "kvm"})", "\"kvm\" is not an isolation tier"},
      {R"({"isolation": 1})", "isolation"},
      {R"({"kernel": "vmlinux"})", "\"kernel\": \"vmlinux\" is not an absolute path"},
      {R"({"vcpus": 0})", "\"vcpus\": 0 is outside 1..32"},
      {R"({"vcpus": 33})", "\"vcpus\": 33 is outside 1..32"},
      {R"({"vcpus": -1})", "vcpus"},
      {R"({"memory_mib": 16})", "\"memory_mib\": 16 is outside"},
      {R"({"boot_timeout_s": 0})", "boot_timeout_s"},
      {R"({"memory": 512})", "unknown key \"memory\""},
      {R"([])", "object"},
      {R"({"vcpus": 2,})", "f.json"},
  };
  for (const Case& c : cases) {
    auto r = ParseRuntimeConfig(c.json, "/b/bin", "f.json");
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_NE(r.error().message().find(c.names), std::string::npos)
        << c.json << " -> " << r.error().message();
    EXPECT_NE(r.error().message().find("f.json"), std::string::npos) << r.error().message();
  }
}

TEST(RuntimeConfig, LoadPrefersTheFlagThenTheVariableThenTheDefaultPath) {
  TempDir t;
  std::string a = t.path() + "/a.json", b = t.path() + "/b.json";
  ASSERT_TRUE(WriteFileAtomic(a, R"({"vcpus": 2})").ok());
  ASSERT_TRUE(WriteFileAtomic(b, R"({"vcpus": 3})").ok());
  auto r = LoadRuntimeConfig(a, b.c_str(), "/b/bin");
  ASSERT_TRUE(r.ok()) << Message(r);
  EXPECT_EQ(r->vcpus, 2u);
  r = LoadRuntimeConfig("", b.c_str(), "/b/bin");
  ASSERT_TRUE(r.ok()) << Message(r);
  EXPECT_EQ(r->vcpus, 3u);
}

TEST(RuntimeConfig, ANamedFileMustExist) {
  TempDir t;
  std::string missing = t.path() + "/none.json";
  auto r = LoadRuntimeConfig(missing, nullptr, "/b/bin");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find(missing), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("--runtime-config"), std::string::npos);
  r = LoadRuntimeConfig("", missing.c_str(), "/b/bin");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find(kRuntimeConfigEnv), std::string::npos);
}

TEST(RuntimeConfig, BinaryDirResolvesPathsAndSearchesPath) {
  TempDir t;
  ASSERT_TRUE(MkdirAll(t.path() + "/bin").ok());
  std::string exe = t.path() + "/bin/bh-test-exe";
  ASSERT_TRUE(WriteFileAtomic(exe, "#!/bin/sh\n", 0755).ok());
  ASSERT_EQ(symlink(exe.c_str(), (t.path() + "/link").c_str()), 0);
  char real[PATH_MAX];
  ASSERT_NE(realpath(t.path().c_str(), real), nullptr);
  std::string bin = std::string(real) + "/bin";
  EXPECT_EQ(*BinaryDir(exe, nullptr), bin);
  EXPECT_EQ(*BinaryDir(t.path() + "/link", nullptr), bin);  // a symlink elsewhere: its target's
  std::string path = "/nonexistent:" + t.path() + "/bin";
  EXPECT_EQ(*BinaryDir("bh-test-exe", path.c_str()), bin);
  auto r = BinaryDir("bh-no-such-exe", path.c_str());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("bh-no-such-exe"), std::string::npos);
}

TEST(RuntimeConfig, MissingAssetsAreNamed) {
  TempDir t;
  RuntimeConfig c = DefaultRuntimeConfig(t.path() + "/bin");
  auto st = CheckVmAssets(c);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find(c.kernel), std::string::npos) << st.error().message();
  ASSERT_TRUE(MkdirAll(t.path() + "/lib/bulkhead").ok());
  ASSERT_TRUE(WriteFileAtomic(c.kernel, "k").ok());
  st = CheckVmAssets(c);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find(c.initrd), std::string::npos) << st.error().message();
  ASSERT_TRUE(WriteFileAtomic(c.initrd, "i").ok());
  st = CheckVmAssets(c);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find(c.vmm), std::string::npos) << st.error().message();
  ASSERT_TRUE(MkdirAll(t.path() + "/bin").ok());
  ASSERT_TRUE(WriteFileAtomic(c.vmm, "#!/bin/sh\n", 0644).ok());
  st = CheckVmAssets(c);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("not executable"), std::string::npos);
  ASSERT_EQ(chmod(c.vmm.c_str(), 0755), 0);
  EXPECT_TRUE(CheckVmAssets(c).ok());
}

}  // namespace
}  // namespace bulkhead::vmtier
