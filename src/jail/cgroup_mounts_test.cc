#include "jail/cgroup_mounts.h"

#include <gtest/gtest.h>

namespace bulkhead::jail {
namespace {

// A systemd host booted with the legacy (v1-only) layout.
constexpr std::string_view kV1Mountinfo =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "25 22 0:23 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
    "26 25 0:24 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup "
    "cgroup rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd\n"
    "28 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:13 - cgroup "
    "cgroup rw,cpu,cpuacct\n"
    "29 25 0:27 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup "
    "cgroup rw,memory\n"
    "30 25 0:28 / /sys/fs/cgroup/net_cls,net_prio rw,relatime shared:15 - cgroup cgroup "
    "rw,net_cls,net_prio\n"
    "31 25 0:29 / /sys/fs/cgroup/cpuset rw,relatime shared:16 - cgroup cgroup rw,cpuset\n"
    "32 25 0:30 / /sys/fs/cgroup/devices rw,relatime shared:17 - cgroup cgroup rw,devices\n"
    "33 25 0:31 / /sys/fs/cgroup/freezer rw,relatime shared:18 - cgroup cgroup rw,freezer\n"
    "34 25 0:32 / /sys/fs/cgroup/pids rw,relatime shared:19 - cgroup cgroup rw,pids\n"
    "35 25 0:33 / /sys/fs/cgroup/blkio rw,relatime shared:20 - cgroup cgroup rw,blkio\n"
    "36 25 0:34 / /sys/fs/cgroup/hugetlb rw,relatime shared:21 - cgroup cgroup rw,hugetlb\n"
    "37 25 0:35 / /sys/fs/cgroup/perf_event rw,relatime shared:22 - cgroup cgroup rw,perf_event\n";
constexpr std::string_view kV1Self =
    "11:pids:/user.slice/user-0.slice/session-1.scope\n"
    "4:memory:/user.slice\n"
    "3:cpu,cpuacct:/user.slice\n"
    "1:name=systemd:/user.slice/user-0.slice/session-1.scope\n";

constexpr std::string_view kV2Mountinfo =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "26 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";
constexpr std::string_view kV2Self = "0::/user.slice/user-0.slice/session-3.scope\n";
constexpr std::string_view kV2Controllers = "cpuset cpu io memory hugetlb pids rdma misc\n";

// This project's development machines, verbatim.
constexpr std::string_view kHybridMountinfo =
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "35 30 0:32 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "36 30 0:33 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "37 30 0:34 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
constexpr std::string_view kHybridSelf =
    "9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n5:devices:/\n"
    "4:memory:/process_api/0f9d3583ae6d215afe709d53bd1fe437\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n"
    "0::/\n";

TEST(CgroupMounts, V1Only) {
  auto m = DetectCgroupsFrom(kV1Mountinfo, kV1Self, "");
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_EQ(m->layout, CgroupLayout::kV1);
  EXPECT_EQ(m->Unified(), nullptr);
  ASSERT_NE(m->Find("memory"), nullptr);
  EXPECT_EQ(m->Find("memory")->mount_point, "/sys/fs/cgroup/memory");
  EXPECT_FALSE(m->Find("memory")->v2);
  // Co-mounted controllers share one hierarchy.
  EXPECT_EQ(m->Find("cpu"), m->Find("cpuacct"));
  EXPECT_EQ(m->Find("cpu")->mount_point, "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(m->Find("net_prio")->mount_point, "/sys/fs/cgroup/net_cls,net_prio");
  // Mount options are not controllers.
  EXPECT_EQ(m->Find("xattr"), nullptr);
  EXPECT_EQ(m->Find("rw"), nullptr);
  ASSERT_NE(m->Find("name=systemd"), nullptr);
  EXPECT_EQ(m->Find("name=systemd")->controllers, std::vector<std::string>{"name=systemd"});
  EXPECT_EQ(m->Find("io"), nullptr);
  EXPECT_EQ(m->hierarchies.size(), 11u);
  EXPECT_EQ(m->Find("memory")->self, "/user.slice");
  EXPECT_EQ(m->Find("pids")->self, "/user.slice/user-0.slice/session-1.scope");
  EXPECT_EQ(m->Find("name=systemd")->self, "/user.slice/user-0.slice/session-1.scope");
  EXPECT_EQ(m->Find("freezer")->self, "/");  // no line for it: the root
}

TEST(CgroupMounts, PureV2) {
  auto m = DetectCgroupsFrom(kV2Mountinfo, kV2Self, kV2Controllers);
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_EQ(m->layout, CgroupLayout::kV2);
  ASSERT_EQ(m->hierarchies.size(), 1u);
  const CgroupHierarchy* u = m->Unified();
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->mount_point, "/sys/fs/cgroup");
  EXPECT_EQ(m->Find("memory"), u);
  EXPECT_EQ(m->Find("io"), u);
  EXPECT_EQ(m->Find("misc"), u);
  // Freezing and device filtering are core v2 features.
  EXPECT_EQ(m->Find("freezer"), u);
  EXPECT_EQ(m->Find("devices"), u);
  EXPECT_EQ(m->Find("blkio"), nullptr);
  EXPECT_EQ(u->self, "/user.slice/user-0.slice/session-3.scope");
  EXPECT_EQ(FindCgroup2Mount(kV2Mountinfo), "/sys/fs/cgroup");
}

TEST(CgroupMounts, HybridOfThisProject) {
  auto m = DetectCgroupsFrom(kHybridMountinfo, kHybridSelf, "hugetlb\n");
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_EQ(m->layout, CgroupLayout::kHybrid);
  EXPECT_EQ(m->hierarchies.size(), 10u);
  const CgroupHierarchy* u = m->Unified();
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->mount_point, "/sys/fs/cgroup/unified");
  EXPECT_EQ(m->Find("hugetlb"), u);
  EXPECT_EQ(m->Find("cpu")->mount_point, "/sys/fs/cgroup/cpu");
  EXPECT_EQ(m->Find("cpuacct")->mount_point, "/sys/fs/cgroup/cpuacct");
  EXPECT_FALSE(m->Find("memory")->v2);
  // v1 has them, so v2 does not get them.
  EXPECT_FALSE(m->Find("freezer")->v2);
  EXPECT_FALSE(m->Find("devices")->v2);
  EXPECT_EQ(u->controllers, std::vector<std::string>{"hugetlb"});
  EXPECT_EQ(m->Find("memory")->self, "/process_api/0f9d3583ae6d215afe709d53bd1fe437");
  EXPECT_EQ(m->Find("cpu")->self, "/");
  EXPECT_EQ(u->self, "/");
  EXPECT_EQ(FindCgroup2Mount(kHybridMountinfo), "/sys/fs/cgroup/unified");
}

// A private mount namespace that mounted cgroup2 over the hybrid tree: the v1 mounts are
// still listed but hidden, so the layout is pure v2 at /sys/fs/cgroup.
TEST(CgroupMounts, LaterMountHidesTheOnesBeneath) {
  std::string info(kHybridMountinfo);
  info += "900 25 0:99 / /sys/fs/cgroup rw,relatime - cgroup2 none rw\n";
  auto m = DetectCgroupsFrom(info, "0::/\n", "cpu memory pids\n");
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_EQ(m->layout, CgroupLayout::kV2);
  ASSERT_EQ(m->hierarchies.size(), 1u);
  EXPECT_EQ(m->Unified()->mount_point, "/sys/fs/cgroup");
  EXPECT_EQ(FindCgroup2Mount(info), "/sys/fs/cgroup");
}

TEST(CgroupMounts, HybridPrefersV1WhenBothOffer) {
  auto m = DetectCgroupsFrom(kHybridMountinfo, kHybridSelf, "memory hugetlb rdma\n");
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->Find("memory")->v2);
  EXPECT_TRUE(m->Find("rdma")->v2);
  EXPECT_EQ(m->Unified()->controllers, (std::vector<std::string>{"hugetlb", "rdma"}));
}

TEST(CgroupMounts, NothingMountedIsAnError) {
  auto m = DetectCgroupsFrom("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n", "", "");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().errno_value(), ENOENT);
}

TEST(CgroupMounts, BindMountedSubtreeAndEscapes) {
  // A container that sees only its own subtree; the mount point has a space in it.
  constexpr std::string_view info =
      "100 90 0:31 /docker/abc /sys/fs/my\\040cgroup/memory rw - cgroup cgroup rw,memory\n"
      "garbage line\n"
      "101 90 0:32 /docker/abc /sys/fs/my\\040cgroup/pids rw - cgroup cgroup rw,pids\n";
  constexpr std::string_view self = "4:memory:/docker/abc/inner\n3:pids:/elsewhere\n";
  auto m = DetectCgroupsFrom(info, self, "");
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_EQ(m->Find("memory")->mount_point, "/sys/fs/my cgroup/memory");
  EXPECT_EQ(m->Find("memory")->mount_root, "/docker/abc");
  EXPECT_EQ(m->Find("memory")->self, "/inner");
  EXPECT_EQ(m->Find("pids")->self, "/");  // outside the visible subtree
}

TEST(CgroupMounts, SecondMountOfAControllerIsIgnored) {
  std::string info(kHybridMountinfo);
  info += "50 30 0:31 / /mnt/memory-again rw - cgroup cgroup rw,memory\n";
  info += "51 30 0:37 / /mnt/unified-again rw - cgroup2 cgroup2 rw\n";
  auto m = DetectCgroupsFrom(info, kHybridSelf, "hugetlb");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->hierarchies.size(), 10u);
  EXPECT_EQ(m->Find("memory")->mount_point, "/sys/fs/cgroup/memory");
  EXPECT_EQ(m->Unified()->mount_point, "/sys/fs/cgroup/unified");
}

TEST(CgroupMounts, DetectsThisHost) {
  auto m = DetectCgroups();
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_FALSE(m->hierarchies.empty());
  // Every host this runtime supports has these, in some hierarchy.
  EXPECT_NE(m->Find("memory"), nullptr);
  EXPECT_NE(m->Find("freezer"), nullptr);
  EXPECT_NE(m->Find("devices"), nullptr);
}

}  // namespace
}  // namespace bulkhead::jail
