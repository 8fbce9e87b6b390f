#include "vminit/disk.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <string>

#include "base/fs.h"

namespace bulkhead::vminit {
namespace {

// A fake /sys/block: one directory per disk, with a serial file where given.
class FakeSysBlock : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/bh-sysblock.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { (void)RemoveAll(root_); }

  void Disk(const std::string& name, const char* serial) {
    ASSERT_TRUE(MkdirAll(JoinPath(root_, name)).ok());
    if (serial != nullptr) {
      ASSERT_TRUE(WriteFileAtomic(JoinPath(JoinPath(root_, name), "serial"), serial).ok());
    }
  }
  std::string Find(std::string_view serial) {
    Result<std::string> r = FindDiskBySerial(root_, serial);
    return r.ok() ? *r : "error: " + r.error().message();
  }

  std::string root_;
};

TEST_F(FakeSysBlock, FindsTheDiskWhateverItsPosition) {
  Disk("vda", "scratch\n");
  Disk("vdb", "rootfs\n");
  Disk("vdc", "weights\n");
  EXPECT_EQ(Find("rootfs"), "vdb");
  EXPECT_EQ(Find("scratch"), "vda");
  EXPECT_EQ(Find("weights"), "vdc");
}

TEST_F(FakeSysBlock, OnlyVirtioDisksAndWholeSerials) {
  Disk("loop0", "rootfs\n");
  Disk("sda", "rootfs\n");
  Disk("vda", "rootfs2\n");
  Disk("vdb", nullptr);
  EXPECT_EQ(Find("rootfs"),
            "error: no virtio disk has serial \"rootfs\" (disks: vda=\"rootfs2\", "
            "vdb=\"(no serial)\")");
}

TEST_F(FakeSysBlock, NoDisksAtAll) {
  EXPECT_EQ(Find("rootfs"), "error: no virtio disk has serial \"rootfs\" (disks: none)");
}

TEST_F(FakeSysBlock, TwoDisksWithOneSerialAreRefused) {
  Disk("vda", "rootfs\n");
  Disk("vdb", "rootfs");
  EXPECT_EQ(Find("rootfs"), "error: disks vda and vdb both have serial \"rootfs\"");
}

TEST_F(FakeSysBlock, MissingSysBlock) {
  Result<std::string> r = FindDiskBySerial(root_ + "/nonexistent", "rootfs");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().errno_value(), ENOENT);
}

}  // namespace
}  // namespace bulkhead::vminit
