#include "vmimage/tree_walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "base/fs.h"
#include "base/unique_fd.h"
#include "vmimage/test_tree.h"

namespace bulkhead::vmimage {
namespace {

using testing::MakeSampleTree;
using testing::PutFile;
using testing::SetMtime;
using testing::TempDir;

UniqueFd OpenDir(const std::string& path) {
  return UniqueFd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

WalkResult Stage(const std::string& tree, const std::string& stage, WalkLimits limits = {},
                 std::string_view preamble = "p") {
  EXPECT_EQ(::mkdir(stage.c_str(), 0700), 0);
  UniqueFd src = OpenDir(tree), dst = OpenDir(stage);
  auto r = StageTree(src.get(), dst.get(), preamble, limits);
  EXPECT_TRUE(r.ok()) << r.error().message();
  return r.ok() ? *r : WalkResult{};
}

std::string ContentKey(const std::string& tree, std::string_view preamble = "p") {
  TempDir stage;
  return Hex(Stage(tree, stage / "s", {}, preamble).content);
}

TEST(TreeWalk, IdenticalTreesShareTheContentKeyNotTheIdentity) {
  TempDir t;
  MakeSampleTree(t / "a");
  MakeSampleTree(t / "b");
  WalkResult a = Stage(t / "a", t / "sa"), b = Stage(t / "b", t / "sb");
  EXPECT_EQ(Hex(a.content), Hex(b.content));
  // Other inodes: the identity says "maybe different", and the contents decide.
  EXPECT_NE(Hex(a.identity), Hex(b.identity));
  EXPECT_EQ(a.entries, b.entries);
  EXPECT_EQ(a.bytes, b.bytes);
}

TEST(TreeWalk, TheThreeWalksAgree) {
  TempDir t;
  MakeSampleTree(t / "a");
  WalkResult staged = Stage(t / "a", t / "s");
  UniqueFd src = OpenDir(t / "a");
  auto id = HashIdentity(src.get(), "p", {});
  ASSERT_TRUE(id.ok()) << id.error().message();
  EXPECT_EQ(Hex(id->identity), Hex(staged.identity));
  EXPECT_EQ(id->entries, staged.entries);
  auto read = HashContent(src.get(), "p", {});
  ASSERT_TRUE(read.ok()) << read.error().message();
  EXPECT_EQ(Hex(read->content), Hex(staged.content));
  EXPECT_EQ(Hex(read->identity), Hex(staged.identity));
}

TEST(TreeWalk, TheKeyCoversThePreamble) {
  TempDir t;
  MakeSampleTree(t / "a");
  EXPECT_NE(ContentKey(t / "a", "mkfs 1"), ContentKey(t / "a", "mkfs 2"));
}

// Each change, made to a fresh sample tree, must give a key of its own.
TEST(TreeWalk, EveryDifferenceGivesAnotherKey) {
  TempDir base;
  MakeSampleTree(base / "t");
  const std::string base_key = ContentKey(base / "t");
  const std::vector<std::pair<const char*, std::function<void(const std::string&)>>> changes = {
      {"one byte, same size and mtime",
       [](const std::string& r) {
         PutFile(r + "/etc/conf", "key=valuf\n", 0640);
         ASSERT_EQ(::chown((r + "/etc/conf").c_str(), 1000, 2000), 0);
         ASSERT_EQ(::chmod((r + "/etc/conf").c_str(), 0640), 0);
         SetMtime(r + "/etc/conf", 1'234'567'890, 123'456'789);
       }},
      {"a byte in a hole",
       [](const std::string& r) {
         int fd = ::open((r + "/sparse").c_str(), O_WRONLY | O_CLOEXEC);
         ASSERT_EQ(::pwrite(fd, "x", 1, 100), 1);
         ::close(fd);
         SetMtime(r + "/sparse", 1'600'000'000, 0);
       }},
      {"mode",
       [](const std::string& r) { ASSERT_EQ(::chmod((r + "/bin/tool").c_str(), 0700), 0); }},
      {"setuid bit",
       [](const std::string& r) { ASSERT_EQ(::chmod((r + "/etc/setuid").c_str(), 0755), 0); }},
      {"owner", [](const std::string& r) { ASSERT_EQ(::lchown((r + "/empty").c_str(), 1, 0), 0); }},
      {"group", [](const std::string& r) { ASSERT_EQ(::lchown((r + "/empty").c_str(), 0, 1), 0); }},
      {"symlink owner",
       [](const std::string& r) { ASSERT_EQ(::lchown((r + "/link-abs").c_str(), 5, 5), 0); }},
      {"mtime nanoseconds",
       [](const std::string& r) { SetMtime(r + "/etc/conf", 1'234'567'890, 123'456'790); }},
      {"directory mtime", [](const std::string& r) { SetMtime(r + "/sub", 1'600'000'300, 501); }},
      {"symlink mtime", [](const std::string& r) { SetMtime(r + "/link-rel", 1, 0); }},
      {"symlink target",
       [](const std::string& r) {
         ASSERT_EQ(::unlink((r + "/link-abs").c_str()), 0);
         testing::PutLink("/etc/passwe", r + "/link-abs");
       }},
      {"xattr value",
       [](const std::string& r) {
         ASSERT_EQ(::lsetxattr((r + "/etc/conf").c_str(), "user.origin", "samplf", 6, 0), 0);
       }},
      {"xattr on a symlink",
       [](const std::string& r) {
         ASSERT_EQ(::lsetxattr((r + "/link-rel").c_str(), "trusted.note", "on a lin_", 9, 0), 0);
       }},
      {"xattr on a directory",
       [](const std::string& r) {
         ASSERT_EQ(::setxattr((r + "/sub").c_str(), "user.x", "1", 1, 0), 0);
       }},
      {"device number",
       [](const std::string& r) {
         ASSERT_EQ(::unlink((r + "/dev/null").c_str()), 0);
         ASSERT_EQ(::mknod((r + "/dev/null").c_str(), S_IFCHR | 0666, makedev(1, 5)), 0);
         ASSERT_EQ(::chmod((r + "/dev/null").c_str(), 0666), 0);
         SetMtime(r + "/dev/null", 1'600'000'200, 0);
       }},
      {"fifo becomes socket",
       [](const std::string& r) {
         ASSERT_EQ(::unlink((r + "/fifo").c_str()), 0);
         ASSERT_EQ(::mknod((r + "/fifo").c_str(), S_IFSOCK | 0600, 0), 0);
         SetMtime(r + "/fifo", 1'600'000'200, 0);
       }},
      {"hard link becomes a copy",
       [](const std::string& r) {
         ASSERT_EQ(::unlink((r + "/sub/tool-hard").c_str()), 0);
         PutFile(r + "/sub/tool-hard", "#!/bin/sh\necho tool\n", 0755);
       }},
      {"renamed",
       [](const std::string& r) {
         ASSERT_EQ(::rename((r + "/empty").c_str(), (r + "/emptz").c_str()), 0);
       }},
      {"one more empty file", [](const std::string& r) { PutFile(r + "/new", ""); }},
  };
  std::vector<std::string> keys;
  for (const auto& [what, change] : changes) {
    TempDir t;
    MakeSampleTree(t / "t");
    change(t / "t");
    for (const char* d : {"", "sub", "etc"}) SetMtime(t / "t/" + d, 1'600'000'300, 500);
    if (std::string(what) == "directory mtime") SetMtime(t / "t/sub", 1'600'000'300, 501);
    std::string key = ContentKey(t / "t");
    EXPECT_NE(key, base_key) << what;
    for (const std::string& k : keys) EXPECT_NE(key, k) << what;
    keys.push_back(key);
  }
}

TEST(TreeWalk, TheStagedCopyMatchesTheSource) {
  TempDir t;
  MakeSampleTree(t / "a");
  Stage(t / "a", t / "s");
  testing::ExpectSameTree(t / "a", t / "s");
  struct stat tool, hard, sparse;
  ASSERT_EQ(::stat((t / "s/bin/tool").c_str(), &tool), 0);
  ASSERT_EQ(::stat((t / "s/sub/tool-hard").c_str(), &hard), 0);
  EXPECT_EQ(tool.st_ino, hard.st_ino) << "hard links stay links";
  ASSERT_EQ(::stat((t / "s/sparse").c_str(), &sparse), 0);
  EXPECT_LT(sparse.st_blocks * 512, 1 << 20) << "holes stay holes";
}

TEST(TreeWalk, FreshFilesAreNotTrustedByIdentity) {
  TempDir t;
  MakeSampleTree(t / "a");
  EXPECT_FALSE(Stage(t / "a", t / "s1").memo_safe) << "ctimes are younger than two seconds";
  WalkLimits now;
  now.memo_min_age_ns = 0;
  EXPECT_TRUE(Stage(t / "a", t / "s2", now).memo_safe);
}

TEST(TreeWalk, RewritingAFileChangesTheIdentityEvenWithSizeAndMtimeKept) {
  TempDir t;
  MakeSampleTree(t / "a");
  UniqueFd src = OpenDir(t / "a");
  auto before = HashIdentity(src.get(), "p", {});
  ASSERT_TRUE(before.ok());
  PutFile(t / "a/sub/deep/file", "DEEP\n");
  SetMtime(t / "a/sub/deep/file", 1'600'000'000, 0);
  auto after = HashIdentity(src.get(), "p", {});
  ASSERT_TRUE(after.ok());
  EXPECT_NE(Hex(before->identity), Hex(after->identity));
}

}  // namespace
}  // namespace bulkhead::vmimage
