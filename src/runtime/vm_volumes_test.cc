#include "runtime/vm_volumes.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "base/fs.h"
#include "vmimage/test_tree.h"

namespace bulkhead::runtime {
namespace {

using vmimage::testing::CacheIn;
using vmimage::testing::PutFile;
using vmimage::testing::TempDir;

vmtier::Volume FileVolume(const std::string& source) {
  vmtier::Volume v;
  v.source = source;
  v.file = true;
  v.serial = "vol0";
  v.guest_dir = "/run/bulkhead/volumes/0";
  return v;
}

TEST(VmVolumes, AnUnchangedFileMapsToTheSameImageAndLeavesNoStaging) {
  if (geteuid() != 0) GTEST_SKIP() << "imaging needs root";
  TempDir t;
  ASSERT_TRUE(MkdirAll(t / "state").ok());
  PutFile(t / "app.conf", "x=1\n");
  vmimage::ImageCache cache = CacheIn(t);
  auto first = ImageVolumes({FileVolume(t / "app.conf")}, cache, t / "state");
  ASSERT_TRUE(first.ok()) << first.error().message();
  ASSERT_EQ(first->size(), 1u);
  EXPECT_TRUE((*first)[0].built());
  EXPECT_FALSE(PathExists(t / "state/vol0"));  // the staged directory is gone again
  auto second = ImageVolumes({FileVolume(t / "app.conf")}, cache, t / "state");
  ASSERT_TRUE(second.ok()) << second.error().message();
  EXPECT_FALSE((*second)[0].built());
  EXPECT_EQ((*second)[0].key, (*first)[0].key);
  // A changed file is a new image.
  PutFile(t / "app.conf", "x=2\n");
  auto third = ImageVolumes({FileVolume(t / "app.conf")}, cache, t / "state");
  ASSERT_TRUE(third.ok()) << third.error().message();
  EXPECT_NE((*third)[0].key, (*first)[0].key);
}

TEST(VmVolumes, ADirectoryIsImagedWhole) {
  if (geteuid() != 0) GTEST_SKIP() << "imaging needs root";
  TempDir t;
  ASSERT_TRUE(MkdirAll(t / "data/sub").ok());
  PutFile(t / "data/sub/weights", std::string(10000, 'w'));
  vmtier::Volume v;
  v.source = t / "data";
  v.serial = "vol0";
  v.guest_dir = "/run/bulkhead/volumes/0";
  auto images = ImageVolumes({v}, CacheIn(t), t.path());
  ASSERT_TRUE(images.ok()) << images.error().message();
  ASSERT_EQ(images->size(), 1u);
  EXPECT_TRUE((*images)[0].fd.valid());
  // A source that went away between planning and imaging is an error naming it.
  v.source = t / "gone";
  auto gone = ImageVolumes({v}, CacheIn(t), t.path());
  ASSERT_FALSE(gone.ok());
  EXPECT_NE(gone.error().message().find(t / "gone"), std::string::npos) << gone.error().message();
}

}  // namespace
}  // namespace bulkhead::runtime
