#include "jail/rootfs_path.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <string>

#include <gtest/gtest.h>

#include "base/fs.h"

namespace bulkhead::jail {
namespace {

// A root full of hostile symlinks, next to an "outside" directory a resolver must never
// reach. The host paths the links name (/etc/passwd, /) hold different content.
class RootfsPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/bh-rootfs-path-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    root_ = base_ + "/root";
    tag_ = "bh-escape-" + std::to_string(getpid());
    ASSERT_TRUE(MkdirAll(root_ + "/etc").ok());
    ASSERT_TRUE(MkdirAll(root_ + "/sub/dir").ok());
    ASSERT_TRUE(MkdirAll(base_ + "/outside").ok());
    ASSERT_TRUE(WriteFileAtomic(root_ + "/etc/passwd", "inside\n").ok());
    ASSERT_TRUE(WriteFileAtomic(base_ + "/outside/secret", "outside\n").ok());
    Link("/", "abs");
    Link("../../../../../../../..", "up");
    Link("../outside", "outside_rel");
    Link("/etc/passwd", "passwd");
    Link("loop2", "loop1");
    Link("loop1", "loop2");
    Link("self", "self");
    Link("../../../outside/secret", "sub/deep");
    Link("/" + tag_ + "/by/link", "dangle");
    Link("../../" + tag_ + "-rel/x", "sub/dangle_rel");
    Link("abs/up/abs/etc", "chain");
    int fd = open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    root_fd_.reset(fd);
    outside_before_ = List(base_);
  }

  void TearDown() override {
    // Nothing may appear next to the root or at the host's top level.
    EXPECT_EQ(List(base_), outside_before_);
    EXPECT_FALSE(PathExists("/" + tag_));
    EXPECT_FALSE(PathExists("/" + tag_ + "-rel"));
    EXPECT_TRUE(RemoveAll(base_).ok());
  }

  void Link(const std::string& target, const std::string& name) {
    ASSERT_EQ(symlink(target.c_str(), (root_ + "/" + name).c_str()), 0) << name;
  }

  static std::set<std::string> List(const std::string& dir) {
    std::set<std::string> out;
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) return out;
    while (dirent* e = readdir(d)) out.insert(e->d_name);
    closedir(d);
    return out;
  }

  static std::string ReadAll(int fd) {
    auto r = ReadFd(fd, 4096);
    return r.ok() ? *r : "<error " + r.error().message() + ">";
  }

  // True when fd is the object at host path `path`.
  static bool SameFile(int fd, const std::string& path) {
    struct stat a, b;
    return fstat(fd, &a) == 0 && lstat(path.c_str(), &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
  }

  std::string base_, root_, tag_;
  UniqueFd root_fd_;
  std::set<std::string> outside_before_;
};

// Both resolvers must behave the same: openat2 and the fallback walk.
enum class Impl { kOpenat2, kWalk };

class OpenInRootTest : public RootfsPathTest, public ::testing::WithParamInterface<Impl> {
 protected:
  Result<UniqueFd> Open(std::string_view path, int flags) {
    return GetParam() == Impl::kOpenat2 ? OpenInRoot(root_fd_.get(), path, flags)
                                        : OpenInRootByWalk(root_fd_.get(), path, flags);
  }
  std::string ReadPath(std::string_view path) {
    auto fd = Open(path, O_RDONLY);
    if (!fd.ok()) return "<error " + fd.error().message() + ">";
    return ReadAll(fd->get());
  }
  int Errno(std::string_view path, int flags = O_RDONLY) {
    auto fd = Open(path, flags);
    return fd.ok() ? 0 : fd.error().errno_value();
  }
};

TEST_P(OpenInRootTest, PlainPaths) {
  EXPECT_EQ(ReadPath("/etc/passwd"), "inside\n");
  EXPECT_EQ(ReadPath("etc/passwd"), "inside\n");
  EXPECT_EQ(ReadPath("./etc/../etc//passwd"), "inside\n");
}

TEST_P(OpenInRootTest, AbsoluteSymlinkRestartsAtRoot) {
  EXPECT_EQ(ReadPath("abs/etc/passwd"), "inside\n");
  EXPECT_EQ(ReadPath("/abs/abs/etc/passwd"), "inside\n");
  EXPECT_EQ(ReadPath("passwd"), "inside\n");
  EXPECT_EQ(ReadPath("chain/passwd"), "inside\n");
}

TEST_P(OpenInRootTest, DotDotStopsAtRoot) {
  EXPECT_EQ(ReadPath("../../../../etc/passwd"), "inside\n");
  EXPECT_EQ(ReadPath("/../etc/passwd"), "inside\n");
  EXPECT_EQ(ReadPath("up/etc/passwd"), "inside\n");
  EXPECT_EQ(ReadPath("sub/dir/../../../etc/passwd"), "inside\n");
}

TEST_P(OpenInRootTest, RelativeSymlinksCannotReachOutside) {
  // Both resolve to <root>/outside, which does not exist; the real outside must not show.
  EXPECT_EQ(Errno("outside_rel/secret"), ENOENT);
  EXPECT_EQ(Errno("sub/deep"), ENOENT);
}

TEST_P(OpenInRootTest, LoopsFailWithEloop) {
  EXPECT_EQ(Errno("loop1"), ELOOP);
  EXPECT_EQ(Errno("self/x"), ELOOP);
}

TEST_P(OpenInRootTest, RootAndNonDirectories) {
  auto fd = Open("/", O_RDONLY | O_DIRECTORY);
  ASSERT_TRUE(fd.ok()) << fd.error().message();
  EXPECT_TRUE(SameFile(fd->get(), root_));
  auto up = Open("abs/..", O_PATH);
  ASSERT_TRUE(up.ok()) << up.error().message();
  EXPECT_TRUE(SameFile(up->get(), root_));
  EXPECT_EQ(Errno("etc/passwd/x"), ENOTDIR);
  EXPECT_EQ(Errno("missing/x"), ENOENT);
}

TEST_P(OpenInRootTest, NoFollowOnTheLastComponent) {
  auto fd = Open("passwd", O_PATH | O_NOFOLLOW);
  ASSERT_TRUE(fd.ok()) << fd.error().message();
  EXPECT_TRUE(SameFile(fd->get(), root_ + "/passwd"));
  struct stat st;
  ASSERT_EQ(fstat(fd->get(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(Errno("passwd", O_RDONLY | O_NOFOLLOW), ELOOP);
}

TEST_P(OpenInRootTest, CreateThroughAbsoluteSymlinkStaysInside) {
  std::string name = "abs/" + tag_;
  auto fd = Open(name, O_CREAT | O_WRONLY);
  ASSERT_TRUE(fd.ok()) << fd.error().message();
  EXPECT_TRUE(SameFile(fd->get(), root_ + "/" + tag_));
  EXPECT_EQ(unlink((root_ + "/" + tag_).c_str()), 0);
}

TEST_P(OpenInRootTest, ResultIsCloseOnExec) {
  auto fd = Open("etc/passwd", O_RDONLY);
  ASSERT_TRUE(fd.ok());
  EXPECT_NE(fcntl(fd->get(), F_GETFD) & FD_CLOEXEC, 0);
}

INSTANTIATE_TEST_SUITE_P(Both, OpenInRootTest, ::testing::Values(Impl::kOpenat2, Impl::kWalk),
                         [](const ::testing::TestParamInfo<Impl>& p) {
                           return p.param == Impl::kOpenat2 ? "Openat2" : "Walk";
                         });

TEST_F(RootfsPathTest, Openat2RefusesMagicLinks) {
  int host_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(host_root, 0);
  UniqueFd r(host_root);
  auto fd = OpenInRoot(r.get(), "/proc/self/fd/" + std::to_string(root_fd_.get()), O_PATH);
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.error().errno_value(), ELOOP);
}

TEST_F(RootfsPathTest, MkdirAllThroughHostileLinksStaysInside) {
  struct Case {
    const char* path;
    std::string expect;  // host path the final directory must be
  };
  const Case cases[] = {
      {"abs/newdir/a/b", root_ + "/newdir/a/b"},
      {"up/made", root_ + "/made"},
      {"../../made2", root_ + "/made2"},
      {"outside_rel/escape", root_ + "/outside/escape"},
      {"dangle/x", root_ + "/" + tag_ + "/by/link/x"},
      {"sub/dangle_rel/y", root_ + "/" + tag_ + "-rel/x/y"},
      {"chain/sub", root_ + "/etc/sub"},
      {"sub/dir", root_ + "/sub/dir"},
  };
  for (const Case& c : cases) {
    auto fd = MkdirAllInRoot(root_fd_.get(), c.path, 0755);
    ASSERT_TRUE(fd.ok()) << c.path << ": " << fd.error().message();
    EXPECT_TRUE(SameFile(fd->get(), c.expect)) << c.path;
    struct stat st;
    ASSERT_EQ(fstat(fd->get(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode)) << c.path;
    EXPECT_EQ(fcntl(fd->get(), F_GETFL) & O_PATH, O_PATH) << c.path;
  }
  EXPECT_FALSE(PathExists(base_ + "/outside/escape"));
}

TEST_F(RootfsPathTest, MkdirAllCreatesFiles) {
  auto fd = MkdirAllInRoot(root_fd_.get(), "abs/files/newfile", 0755, /*as_file=*/true);
  ASSERT_TRUE(fd.ok()) << fd.error().message();
  struct stat st;
  ASSERT_EQ(lstat((root_ + "/files/newfile").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_size, 0);
  EXPECT_TRUE(SameFile(fd->get(), root_ + "/files/newfile"));
  // An existing file is reused, through a symlink too.
  auto again = MkdirAllInRoot(root_fd_.get(), "passwd", 0755, true);
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_TRUE(SameFile(again->get(), root_ + "/etc/passwd"));
  EXPECT_EQ(ReadAll(OpenInRoot(root_fd_.get(), "etc/passwd", O_RDONLY)->get()), "inside\n");
}

TEST_F(RootfsPathTest, MkdirAllErrors) {
  auto as_file_dir = MkdirAllInRoot(root_fd_.get(), "sub/dir", 0755, true);
  ASSERT_FALSE(as_file_dir.ok());
  EXPECT_EQ(as_file_dir.error().errno_value(), EISDIR);
  auto through_file = MkdirAllInRoot(root_fd_.get(), "etc/passwd/x", 0755);
  ASSERT_FALSE(through_file.ok());
  EXPECT_EQ(through_file.error().errno_value(), ENOTDIR);
  auto file_as_dir = MkdirAllInRoot(root_fd_.get(), "etc/passwd", 0755);
  ASSERT_FALSE(file_as_dir.ok());
  EXPECT_EQ(file_as_dir.error().errno_value(), ENOTDIR);
  auto loop = MkdirAllInRoot(root_fd_.get(), "loop1/x", 0755);
  ASSERT_FALSE(loop.ok());
  EXPECT_EQ(loop.error().errno_value(), ELOOP);
  EXPECT_NE(loop.error().message().find("loop1/x"), std::string::npos) << loop.error().message();
}

TEST(FdPathTest, NamesTheFd) { EXPECT_EQ(FdPath(7), "/proc/self/fd/7"); }

}  // namespace
}  // namespace bulkhead::jail
