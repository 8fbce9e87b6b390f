#include "jail/cgroup_util.h"

#include <gtest/gtest.h>

namespace bulkhead::jail {
namespace {

std::string Norm(const std::string& path, const std::string& id = "abc") {
  auto r = NormalizeCgroupsPath(path, id);
  return r.ok() ? *r : "ERROR: " + r.error().message();
}

TEST(CgroupPath, EmptyMeansBulkheadSlashId) { EXPECT_EQ(Norm(""), "/bulkhead/abc"); }

TEST(CgroupPath, SystemdFormIsRefused) {
  auto r = NormalizeCgroupsPath("system.slice:docker:abc", "abc");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().errno_value(), EINVAL);
  EXPECT_NE(r.error().message().find("systemd cgroups"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("linux.cgroupsPath"), std::string::npos);
}

TEST(CgroupPath, DotDotIsRefused) {
  for (const char* p : {"/a/../b", "..", "a/..", "../x"}) {
    auto r = NormalizeCgroupsPath(p, "abc");
    ASSERT_FALSE(r.ok()) << p;
    EXPECT_NE(r.error().message().find("\"..\""), std::string::npos) << r.error().message();
  }
  // A name that merely contains dots is fine.
  EXPECT_EQ(Norm("/a/..b/c.."), "/a/..b/c..");
}

TEST(CgroupPath, CleansAndKeepsRelativeness) {
  EXPECT_EQ(Norm("/a//b/./c/"), "/a/b/c");
  EXPECT_EQ(Norm("a/./b//c"), "a/b/c");
  EXPECT_EQ(Norm("x"), "x");
}

TEST(CgroupPath, RootAndBadIdsAreRefused) {
  EXPECT_FALSE(NormalizeCgroupsPath("/", "abc").ok());
  EXPECT_FALSE(NormalizeCgroupsPath("/./", "abc").ok());
  EXPECT_FALSE(NormalizeCgroupsPath("", "").ok());
  EXPECT_FALSE(NormalizeCgroupsPath("", "a/b").ok());
  EXPECT_FALSE(NormalizeCgroupsPath("", "..").ok());
}

TEST(CgroupPath, DirInHierarchy) {
  CgroupHierarchy h;
  h.mount_point = "/sys/fs/cgroup/memory";
  h.self = "/process_api/123";
  EXPECT_EQ(CgroupDirIn(h, "/bulkhead/abc"), "/sys/fs/cgroup/memory/bulkhead/abc");
  // Relative paths start at the caller's own cgroup, as runc does.
  EXPECT_EQ(CgroupDirIn(h, "sub/abc"), "/sys/fs/cgroup/memory/process_api/123/sub/abc");
  h.self = "/";
  EXPECT_EQ(CgroupDirIn(h, "sub"), "/sys/fs/cgroup/memory/sub");
}

TEST(CgroupConvert, SharesToWeight) {
  EXPECT_EQ(CpuSharesToWeight(2), 1u);
  EXPECT_EQ(CpuSharesToWeight(1024), 39u);  // the default shares map to about weight 39
  EXPECT_EQ(CpuSharesToWeight(262144), 10000u);
  EXPECT_EQ(CpuSharesToWeight(512), 20u);
  // Out-of-range values are clamped to the v1 range first.
  EXPECT_EQ(CpuSharesToWeight(1), 1u);
  EXPECT_EQ(CpuSharesToWeight(1u << 30), 10000u);
}

TEST(CgroupConvert, CpuMax) {
  EXPECT_EQ(FormatCpuMax(50000, 100000), "50000 100000");
  EXPECT_EQ(FormatCpuMax(std::nullopt, 50000), "max 50000");
  EXPECT_EQ(FormatCpuMax(-1, 250000), "max 250000");
  EXPECT_EQ(FormatCpuMax(0, 100000), "max 100000");
  EXPECT_EQ(FormatCpuMax(20000, std::nullopt), "20000 100000");
  EXPECT_EQ(FormatCpuMax(20000, 0), "20000 100000");
}

TEST(CgroupConvert, BlkioWeight) {
  EXPECT_EQ(BlkioWeightToIoWeight(10), 1u);
  EXPECT_EQ(BlkioWeightToIoWeight(500), 4950u);
  EXPECT_EQ(BlkioWeightToIoWeight(1000), 10000u);
  EXPECT_EQ(BlkioWeightToIoWeight(5), 1u);
}

TEST(CgroupConvert, Limits) {
  EXPECT_EQ(FormatPidsMax(0), "max");
  EXPECT_EQ(FormatPidsMax(-1), "max");
  EXPECT_EQ(FormatPidsMax(100), "100");
  EXPECT_EQ(FormatV2Limit(-1), "max");
  EXPECT_EQ(FormatV2Limit(0), "0");
  EXPECT_EQ(FormatV2Limit(1 << 20), "1048576");
}

}  // namespace
}  // namespace bulkhead::jail
