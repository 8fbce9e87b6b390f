#include "jail/devices.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "base/fs.h"
#include "base/unique_fd.h"

namespace bulkhead::jail {
namespace {

oci::Device Dev(const std::string& path, const std::string& type, int64_t major, int64_t minor) {
  oci::Device d;
  d.path = path;
  d.type = type;
  d.major = major;
  d.minor = minor;
  return d;
}

TEST(DevicesTest, DefaultsAreTheSpecsSix) {
  auto defaults = DefaultDevices();
  ASSERT_EQ(defaults.size(), 6u);
  EXPECT_EQ(defaults[0].path, "/dev/null");
  EXPECT_EQ(defaults[0].major, 1);
  EXPECT_EQ(defaults[0].minor, 3);
  EXPECT_EQ(defaults[5].path, "/dev/tty");
  EXPECT_EQ(defaults[5].major, 5);
  for (const auto& d : defaults) {
    EXPECT_EQ(d.type, "c");
    EXPECT_EQ(d.file_mode, 0666u);
  }
}

TEST(DevicesTest, ConfiguredDeviceReplacesDefault) {
  oci::Config config;
  oci::Device tty = Dev("/dev/tty", "c", 5, 0);
  tty.file_mode = 0600;
  config.linux.devices = {tty, Dev("/dev/fuse", "c", 10, 229)};
  auto all = DevicesToCreate(config);
  ASSERT_EQ(all.size(), 7u);
  int ttys = 0;
  for (const auto& d : all) {
    if (d.path == "/dev/tty") {
      ++ttys;
      EXPECT_EQ(d.file_mode, 0600u);
    }
  }
  EXPECT_EQ(ttys, 1);
  EXPECT_EQ(all.back().path, "/dev/fuse");
}

class DeviceNodesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "mknod needs root";
    char tmpl[] = "/tmp/bh-devices-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    int fd = open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    root_fd_.reset(fd);
  }
  void TearDown() override {
    if (!root_.empty()) {
      EXPECT_TRUE(RemoveAll(root_).ok());
    }
  }
  std::string root_;
  UniqueFd root_fd_;
};

TEST_F(DeviceNodesTest, MknodWithModeAndOwner) {
  // A symlink where a node goes must be replaced, never followed out of the root.
  ASSERT_EQ(mkdir((root_ + "/dev").c_str(), 0755), 0);
  ASSERT_EQ(symlink("/etc/hostname", (root_ + "/dev/null").c_str()), 0);
  oci::Device custom = Dev("/dev/sub/custom", "c", 1, 5);
  custom.file_mode = 0620;
  custom.uid = 1000;
  custom.gid = 5;
  oci::Device fifo = Dev("/dev/fifo", "p", 0, 0);
  std::vector<oci::Device> devs = DefaultDevices();
  devs.push_back(custom);
  devs.push_back(fifo);
  mode_t old = umask(077);  // must not trim the configured modes
  Status st = CreateDevices(root_fd_.get(), devs, /*in_user_namespace=*/false);
  umask(old);
  ASSERT_TRUE(st.ok()) << st.error().message();
  struct stat s;
  ASSERT_EQ(lstat((root_ + "/dev/null").c_str(), &s), 0);
  EXPECT_TRUE(S_ISCHR(s.st_mode));
  EXPECT_EQ(s.st_rdev, makedev(1, 3));
  EXPECT_EQ(s.st_mode & 07777, 0666u);
  ASSERT_EQ(lstat((root_ + "/dev/sub/custom").c_str(), &s), 0);
  EXPECT_TRUE(S_ISCHR(s.st_mode));
  EXPECT_EQ(s.st_rdev, makedev(1, 5));
  EXPECT_EQ(s.st_mode & 07777, 0620u);
  EXPECT_EQ(s.st_uid, 1000u);
  EXPECT_EQ(s.st_gid, 5u);
  ASSERT_EQ(lstat((root_ + "/dev/fifo").c_str(), &s), 0);
  EXPECT_TRUE(S_ISFIFO(s.st_mode));
  ASSERT_EQ(lstat("/etc/hostname", &s), 0);
  EXPECT_TRUE(S_ISREG(s.st_mode));
}

TEST_F(DeviceNodesTest, BadTypeIsAnError) {
  Status st = CreateDevices(root_fd_.get(), {Dev("/dev/x", "z", 1, 1)}, false);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("device /dev/x"), std::string::npos) << st.error().message();
}

TEST_F(DeviceNodesTest, Symlinks) {
  ASSERT_TRUE(CreateDevSymlinks(root_fd_.get()).ok());
  char buf[64];
  auto link = [&](const char* name) {
    ssize_t n = readlink((root_ + "/dev/" + name).c_str(), buf, sizeof(buf));
    return n < 0 ? std::string("<none>") : std::string(buf, static_cast<size_t>(n));
  };
  EXPECT_EQ(link("fd"), "/proc/self/fd");
  EXPECT_EQ(link("stdin"), "/proc/self/fd/0");
  EXPECT_EQ(link("stdout"), "/proc/self/fd/1");
  EXPECT_EQ(link("stderr"), "/proc/self/fd/2");
  EXPECT_EQ(link("ptmx"), "pts/ptmx");
  // Running twice is fine (an image may already carry them).
  EXPECT_TRUE(CreateDevSymlinks(root_fd_.get()).ok());
}

}  // namespace
}  // namespace bulkhead::jail
