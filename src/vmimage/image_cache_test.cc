#include "vmimage/image_cache.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <string>
#include <vector>

#include "vmimage/test_tree.h"

namespace bulkhead::vmimage {
namespace {

using testing::CacheIn;
using testing::Command;
using testing::MakeSampleTree;
using testing::PutFile;
using testing::SetMtime;
using testing::TempDir;

HeldImage Ensure(const std::string& rootfs, const ImageCache& cache) {
  auto r = EnsureImage(rootfs, cache);
  EXPECT_TRUE(r.ok()) << r.error().message();
  return r.ok() ? std::move(*r) : HeldImage{};
}

struct stat Stat(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st;
}

// What fsck.erofs extracts from the image must be the tree: contents, modes, owners, regular
// files' mtimes, symlink targets, special files.
void ExpectExtractedMatches(const std::string& src, const std::string& out) {
  struct stat a = Stat(src), b = Stat(out);
  // fsck.erofs 1.5 extracts without set-id and sticky bits; the kernel test below sees them.
  constexpr mode_t kIdBits = S_ISUID | S_ISGID | S_ISVTX;
  EXPECT_EQ(a.st_mode & ~kIdBits, b.st_mode) << out;
  EXPECT_EQ(a.st_uid, b.st_uid) << out;
  EXPECT_EQ(a.st_gid, b.st_gid) << out;
  if (S_ISREG(a.st_mode)) {
    EXPECT_EQ(*ReadFile(src, 4 << 20), *ReadFile(out, 4 << 20)) << out;
    EXPECT_EQ(a.st_mtim.tv_sec, b.st_mtim.tv_sec) << out;
    EXPECT_EQ(a.st_mtim.tv_nsec, b.st_mtim.tv_nsec) << out;
  } else if (S_ISLNK(a.st_mode)) {
    char ta[256] = {}, tb[256] = {};
    ASSERT_GT(::readlink(src.c_str(), ta, sizeof ta), 0);
    ASSERT_GT(::readlink(out.c_str(), tb, sizeof tb), 0) << out;
    EXPECT_STREQ(ta, tb) << out;
  } else if (S_ISCHR(a.st_mode) || S_ISBLK(a.st_mode)) {
    EXPECT_EQ(a.st_rdev, b.st_rdev) << out;
  } else if (S_ISDIR(a.st_mode)) {
    DIR* d = ::opendir(src.c_str());
    ASSERT_NE(d, nullptr);
    while (struct dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") ExpectExtractedMatches(src + "/" + n, out + "/" + n);
    }
    ::closedir(d);
  }
}

std::string Dump(const std::string& image, const std::string& path) {
  return Command("TZ=UTC dump.erofs --path=" + path + " " + image);
}

TEST(ImageCache, BuildsAnImageThatHoldsTheTree) {
  TempDir t;
  MakeSampleTree(t / "root");
  HeldImage img = Ensure(t / "root", CacheIn(t));
  ASSERT_TRUE(img.fd);
  EXPECT_TRUE(img.built());
  EXPECT_EQ(img.path, t / "cache/" + img.key + ".erofs");
  EXPECT_EQ(Stat(img.path).st_mode & 07777, 0600u);
  EXPECT_EQ(Stat(t / "cache").st_mode & 07777, 0700u);

  int status = -1;
  std::string out = Command("fsck.erofs --extract=" + t / "x" + " " + img.path, &status);
  ASSERT_EQ(status, 0) << out;
  // The extracted root belongs to fsck.erofs; what matters is everything in it.
  DIR* d = ::opendir((t / "root").c_str());
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") ExpectExtractedMatches(t / "root/" + n, t / "x/" + n);
  }
  ::closedir(d);
  // What extraction does not show, dump.erofs does: links, xattrs, directory mtimes.
  EXPECT_NE(Dump(img.path, "/sub/tool-hard").find("Links: 2"), std::string::npos);
  EXPECT_EQ(Dump(img.path, "/etc/conf").find("Xattr size: 0"), std::string::npos)
      << Dump(img.path, "/etc/conf");
  EXPECT_NE(Dump(img.path, "/sub").find("Timestamp: 2020-09-13 12:31:40.000000500"),
            std::string::npos)
      << Dump(img.path, "/sub");
}

// The reader that matters is the kernel: mounted, the image must be the tree exactly
// (set-id bits, xattrs, hard links, directory and symlink mtimes included).
TEST(ImageCache, TheKernelMountsTheImageAsTheTree) {
  TempDir t;
  MakeSampleTree(t / "root");
  HeldImage img = Ensure(t / "root", CacheIn(t));
  // A private mount namespace, so the mount cannot outlive this test process.
  if (::unshare(CLONE_NEWNS) != 0 ||
      ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    GTEST_SKIP() << "no mount namespace here";
  }
  ASSERT_EQ(::mkdir((t / "m").c_str(), 0700), 0);
  int status = -1;
  std::string out = Command("mount -t erofs -o loop,ro,nodev " + img.path + " " + t / "m", &status);
  if (status != 0) GTEST_SKIP() << "cannot mount erofs here: " << out;
  testing::ExpectSameTree(t / "root", t / "m");
  EXPECT_EQ(Stat(t / "m/bin/tool").st_ino, Stat(t / "m/sub/tool-hard").st_ino);
  EXPECT_EQ(testing::XattrText(t / "m/etc/conf"), "user.origin=sample;");
  EXPECT_EQ(testing::XattrText(t / "m/link-rel"), "trusted.note=on a link;");
  EXPECT_EQ(Command("umount " + t / "m"), "");
}

TEST(ImageCache, TheSecondStartReusesTheImage) {
  TempDir t;
  MakeSampleTree(t / "root");
  ImageCache cache = CacheIn(t);
  HeldImage first = Ensure(t / "root", cache);
  ASSERT_TRUE(first.built());
  ino_t ino = Stat(first.path).st_ino;
  HeldImage second = Ensure(t / "root", cache);
  EXPECT_EQ(second.origin, ImageOrigin::kSameContent) << "fresh files: contents are read";
  EXPECT_EQ(second.key, first.key);
  EXPECT_EQ(Stat(second.path).st_ino, ino) << "not rebuilt";

  // Once its files are old enough, the tree's identity names the key without reading them.
  cache.limits.memo_min_age_ns = 0;
  EXPECT_EQ(Ensure(t / "root", cache).origin, ImageOrigin::kSameContent);  // records it
  HeldImage fourth = Ensure(t / "root", cache);
  EXPECT_EQ(fourth.origin, ImageOrigin::kSameIdentity);
  EXPECT_EQ(fourth.key, first.key);
  EXPECT_EQ(Stat(fourth.path).st_ino, ino);
  cache.identity_memo = false;
  EXPECT_EQ(Ensure(t / "root", cache).origin, ImageOrigin::kSameContent);
}

TEST(ImageCache, AChangedByteWithSizeAndMtimeKeptGivesANewImage) {
  TempDir t;
  MakeSampleTree(t / "root");
  ImageCache cache = CacheIn(t);
  cache.limits.memo_min_age_ns = 0;
  HeldImage a = Ensure(t / "root", cache);
  Ensure(t / "root", cache);  // the identity memo now knows this tree
  struct stat before = Stat(t / "root/bin/tool");
  PutFile(t / "root/bin/tool", "#!/bin/sh\necho toal\n", 0755);
  SetMtime(t / "root/bin/tool", before.st_mtim.tv_sec, before.st_mtim.tv_nsec);
  struct stat after = Stat(t / "root/bin/tool");
  ASSERT_EQ(after.st_size, before.st_size);
  ASSERT_EQ(after.st_ino, before.st_ino);
  HeldImage b = Ensure(t / "root", cache);
  EXPECT_TRUE(b.built());
  EXPECT_NE(b.key, a.key);
  EXPECT_NE(Command("fsck.erofs --extract=" + t / "x" + " " + b.path), "x");
  EXPECT_EQ(*ReadFile(t / "x/bin/tool"), "#!/bin/sh\necho toal\n");
}

TEST(ImageCache, IdenticalTreesInTwoPlacesShareOneImage) {
  TempDir t;
  MakeSampleTree(t / "one");
  MakeSampleTree(t / "two");
  ImageCache cache = CacheIn(t);
  HeldImage a = Ensure(t / "one", cache);
  HeldImage b = Ensure(t / "two", cache);
  EXPECT_TRUE(a.built());
  EXPECT_EQ(b.origin, ImageOrigin::kSameContent);
  EXPECT_EQ(a.key, b.key);
  EXPECT_EQ(Stat(a.path).st_ino, Stat(b.path).st_ino);
}

TEST(ImageCache, MkfsOptionsArePartOfTheKey) {
  TempDir t;
  MakeSampleTree(t / "root");
  ImageCache cache = CacheIn(t);
  HeldImage plain = Ensure(t / "root", cache);
  cache.mkfs_args = {"-zlz4hc"};
  HeldImage compressed = Ensure(t / "root", cache);
  EXPECT_TRUE(compressed.built());
  EXPECT_NE(plain.key, compressed.key);
}

void ExpectNothingLeft(const std::string& cache) {
  EXPECT_EQ(testing::Names(cache), (std::vector<std::string>{"index", "locks", "tmp"}));
  for (const char* sub : {"index", "locks", "tmp"}) {
    EXPECT_TRUE(testing::Names(cache + "/" + sub).empty()) << sub;
  }
}

TEST(ImageCache, AFailedBuildLeavesNothingAndSaysWhy) {
  TempDir t;
  MakeSampleTree(t / "root");
  ImageCache cache = CacheIn(t);
  cache.mkfs_args = {"-zbogus"};
  auto r = EnsureImage(t / "root", cache);
  ASSERT_FALSE(r.ok());
  const std::string& msg = r.error().message();
  EXPECT_NE(msg.find("image of rootfs " + t / "root"), std::string::npos) << msg;
  EXPECT_NE(msg.find("exited with status 1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Cannot find a valid compressor bogus"), std::string::npos) << msg;
  ExpectNothingLeft(cache.dir);
}

// A full disk is the failure mkfs.erofs meets in practice: a 1 MiB tmpfs holds the staged
// copy of 600 KiB but not the image as well.
TEST(ImageCache, AFullDiskLeavesNothingBehind) {
  TempDir t;
  ASSERT_EQ(::mkdir((t / "root").c_str(), 0755), 0);
  PutFile(t / "root/blob", std::string(600 << 10, 'x'));
  ASSERT_EQ(::mkdir((t / "small").c_str(), 0700), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::unshare(CLONE_NEWNS) != 0 ||
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) ||
        ::mount("tmpfs", (t / "small").c_str(), "tmpfs", 0, "size=1m,mode=0700") != 0) {
      ::_exit(77);
    }
    ImageCache cache;
    cache.dir = t / "small/cache";
    auto r = EnsureImage(t / "root", cache);
    if (r.ok() || r.error().message().find("No space left") == std::string::npos) ::_exit(1);
    std::vector<std::string> top = testing::Names(cache.dir);
    if (top.size() != 3 || !testing::Names(cache.dir + "/tmp").empty() ||
        !testing::Names(cache.dir + "/locks").empty()) {
      ::_exit(2);
    }
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "no mount namespace here";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: no ENOSPC error, 2: files left behind";
}

TEST(ImageCache, ConcurrentStartsOfOneTreeBuildOnce) {
  TempDir t;
  MakeSampleTree(t / "root");
  ImageCache cache = CacheIn(t);
  std::vector<pid_t> pids;
  for (int i = 0; i < 4; ++i) {
    pid_t pid = ::fork();
    if (pid == 0) {
      auto r = EnsureImage(t / "root", cache);
      ::_exit(!r.ok() ? 1 : r->built() ? 10 : 11);
    }
    pids.push_back(pid);
  }
  int built = 0, reused = 0;
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    built += WEXITSTATUS(status) == 10;
    reused += WEXITSTATUS(status) == 11;
  }
  EXPECT_EQ(built, 1);
  EXPECT_EQ(reused, 3);
  EXPECT_EQ(testing::Names(cache.dir + "/tmp").size(), 0u);
  EXPECT_EQ(testing::Names(cache.dir + "/locks").size(), 0u);
}

}  // namespace
}  // namespace bulkhead::vmimage
