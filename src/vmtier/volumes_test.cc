#include "vmtier/volumes.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"

namespace bulkhead::vmtier {
namespace {

class Volumes : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/bh-volumes-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(MkdirAll(dir_ + "/data").ok());
    ASSERT_TRUE(WriteFileAtomic(dir_ + "/app.conf", "x=1\n").ok());
  }
  void TearDown() override { (void)RemoveAll(dir_); }
  static oci::Mount Bind(const std::string& dest, const std::string& source,
                         std::vector<std::string> options) {
    return {dest, "bind", source, std::move(options)};
  }
  std::string dir_;
};

TEST_F(Volumes, BindsBecomeDisksInOrder) {
  oci::Config c;
  c.mounts.push_back({"/proc", "proc", "proc", {}});
  c.mounts.push_back(Bind("/data", dir_ + "/data", {"rbind", "ro"}));
  c.mounts.push_back({"/etc/app.conf", "none", "app.conf", {"bind", "rw", "ro"}});
  c.mounts.push_back(Bind("/scratch", dir_ + "/data", {"rbind", "ro", "rw"}));
  auto v = PlanVolumes(c, dir_);
  ASSERT_TRUE(v.ok()) << v.error().message();
  ASSERT_EQ(v->size(), 3u);
  EXPECT_FALSE((*v)[0].writable);
  EXPECT_FALSE((*v)[1].writable);
  // The last of ro and rw counts.
  EXPECT_TRUE((*v)[2].writable);
  EXPECT_EQ((*v)[2].number, 2u);
  EXPECT_EQ((*v)[2].GuestSource(), "/run/bulkhead/volumes/2");
  EXPECT_EQ((*v)[0].mount_index, 1u);
  EXPECT_FALSE((*v)[0].file);
  EXPECT_EQ((*v)[0].serial, "vol0");
  EXPECT_EQ((*v)[0].GuestSource(), "/run/bulkhead/volumes/0");
  // A relative source starts at the bundle; a file is bound from inside its image.
  EXPECT_EQ((*v)[1].source, dir_ + "/app.conf");
  EXPECT_TRUE((*v)[1].file);
  EXPECT_EQ((*v)[1].serial, "vol1");
  EXPECT_EQ((*v)[1].GuestSource(), "/run/bulkhead/volumes/1/app.conf");
}

TEST_F(Volumes, ASymlinkedSourceIsImagedWhereItPoints) {
  ASSERT_EQ(symlink((dir_ + "/data").c_str(), (dir_ + "/link").c_str()), 0);
  oci::Config c;
  c.mounts.push_back(Bind("/data", dir_ + "/link", {"rbind", "ro"}));
  auto v = PlanVolumes(c, dir_);
  ASSERT_TRUE(v.ok()) << v.error().message();
  char* real = realpath((dir_ + "/data").c_str(), nullptr);
  ASSERT_NE(real, nullptr);
  EXPECT_EQ((*v)[0].source, real);
  free(real);
  EXPECT_FALSE((*v)[0].file);
}

TEST_F(Volumes, RefusesWhatAVolumeCannotCarry) {
  auto error = [&](const oci::Mount& m) {
    oci::Config c;
    c.mounts.push_back(m);
    auto v = PlanVolumes(c, dir_);
    return v.ok() ? std::string("(planned)") : v.error().message();
  };
  EXPECT_NE(error(Bind("/data", dir_ + "/missing", {"rbind"})).find("mounts[0] (/data): the source"),
            std::string::npos);
  EXPECT_NE(error(Bind("/x", dir_ + "/missing", {"ro"})).find("the source " + dir_ + "/missing"),
            std::string::npos);
  EXPECT_NE(error(Bind("/null", "/dev/null", {"ro"})).find("neither a directory nor a regular file"),
            std::string::npos);
  EXPECT_NE(error(Bind("/x", "", {"ro"})).find("needs a source"), std::string::npos);
  oci::Config many;
  for (int i = 0; i < 8; ++i) many.mounts.push_back(Bind("/d" + std::to_string(i), dir_ + "/data", {"ro"}));
  auto v = PlanVolumes(many, dir_);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message().find("mounts[7] (/d7): more than 7 bind mounts"), std::string::npos)
      << v.error().message();
}

}  // namespace
}  // namespace bulkhead::vmtier
