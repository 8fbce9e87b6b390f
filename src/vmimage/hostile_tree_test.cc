// Rootfs trees made to hurt: links out of the tree, special files, odd names, huge and deep
// trees, a symlinked rootfs, a cache directory someone else could write.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "vmimage/image_cache.h"
#include "vmimage/test_tree.h"

namespace bulkhead::vmimage {
namespace {

using testing::CacheIn;
using testing::Command;
using testing::Names;
using testing::PutDir;
using testing::PutFile;
using testing::PutLink;
using testing::TempDir;

// Fails the test (SIGALRM) instead of hanging it if the walk blocks on something.
class Deadline {
 public:
  Deadline() { ::alarm(60); }
  ~Deadline() { ::alarm(0); }
};

std::string Extract(const TempDir& t, const HeldImage& img) {
  int status = -1;
  std::string out = Command("fsck.erofs --extract=" + t / "x" + " " + img.path, &status);
  EXPECT_EQ(status, 0) << out;
  return t / "x";
}

std::string LinkTarget(const std::string& path) {
  char buf[256] = {};
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
  return n < 0 ? "(not a symlink)" : std::string(buf, static_cast<size_t>(n));
}

TEST(HostileTree, LinksOutOfTheTreeStayLinksAndAreNeverFollowed) {
  TempDir t;
  Deadline d;
  PutDir(t / "root");
  PutLink("/", t / "root/host");
  PutLink("..", t / "root/up");
  PutLink("../../../../../../etc", t / "root/etc");
  PutLink("/etc/shadow", t / "root/shadow");
  PutLink("loop-b", t / "root/loop-a");
  PutLink("loop-a", t / "root/loop-b");
  auto r = EnsureImage(t / "root", CacheIn(t));
  ASSERT_TRUE(r.ok()) << r.error().message();
  std::string x = Extract(t, *r);
  EXPECT_EQ(Names(x),
            (std::vector<std::string>{"etc", "host", "loop-a", "loop-b", "shadow", "up"}));
  EXPECT_EQ(LinkTarget(x + "/host"), "/");
  EXPECT_EQ(LinkTarget(x + "/up"), "..");
  EXPECT_EQ(LinkTarget(x + "/etc"), "../../../../../../etc");
  EXPECT_EQ(LinkTarget(x + "/shadow"), "/etc/shadow");
  struct stat st;
  ASSERT_EQ(::stat(r->path.c_str(), &st), 0);
  EXPECT_LT(st.st_size, 64 << 10) << "the image holds links, not the host's files";
}

TEST(HostileTree, SpecialFilesAreImagedWithoutBeingOpened) {
  TempDir t;
  Deadline d;  // opening the FIFO for reading would block forever: no writer
  PutDir(t / "root");
  ASSERT_EQ(::mkfifo((t / "root/fifo").c_str(), 0644), 0);
  ASSERT_EQ(::mknod((t / "root/sock").c_str(), S_IFSOCK | 0600, 0), 0);
  // Devices whose opening would do things: a disk and a watchdog (opening it arms a reboot).
  ASSERT_EQ(::mknod((t / "root/disk").c_str(), S_IFBLK | 0600, makedev(8, 0)), 0);
  ASSERT_EQ(::mknod((t / "root/watchdog").c_str(), S_IFCHR | 0600, makedev(10, 130)), 0);
  auto r = EnsureImage(t / "root", CacheIn(t));
  ASSERT_TRUE(r.ok()) << r.error().message();
  std::string dump = Command("dump.erofs --path=/watchdog " + r->path);
  EXPECT_NE(dump.find("char dev"), std::string::npos) << dump;
  dump = Command("dump.erofs --path=/disk " + r->path);
  EXPECT_NE(dump.find("block dev"), std::string::npos) << dump;
  dump = Command("dump.erofs --path=/fifo " + r->path);
  EXPECT_NE(dump.find("fifo"), std::string::npos) << dump;
}

TEST(HostileTree, OddNamesAreKeptAndShownEscaped) {
  TempDir t;
  PutDir(t / "root");
  const std::vector<std::string> names = {"\n",   "\x1b[31mred", "\xff\xfe",           "-rf",
                                          "a\\b", " ",           std::string(254, 'n')};
  for (const std::string& n : names) PutFile(t / "root/" + n, n);
  auto r = EnsureImage(t / "root", CacheIn(t));
  ASSERT_TRUE(r.ok()) << r.error().message();
  std::string x = Extract(t, *r);
  for (const std::string& n : names) EXPECT_EQ(*ReadFile(x + "/" + n), n);

  // Linux allows 255 bytes, mkfs.erofs 1.5 one less: said up front, not as its bare ENOENT.
  PutFile(t / "root/" + std::string(255, 'n'), "");
  auto r255 = EnsureImage(t / "root", CacheIn(t));
  ASSERT_FALSE(r255.ok());
  EXPECT_NE(r255.error().message().find("a name longer than 254 bytes"), std::string::npos)
      << r255.error().message();
  ASSERT_EQ(::unlink((t / "root/" + std::string(255, 'n')).c_str()), 0);

  // An error about such a name must not carry its control bytes into a log.
  PutDir(t / "root/\x1b");
  PutDir(t / "root/\x1b/\x1b");
  ImageCache shallow = CacheIn(t);
  shallow.limits.max_depth = 1;
  auto deep = EnsureImage(t / "root", shallow);
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.error().message().find("/\\x1b/\\x1b: the rootfs exceeds the limit of 1 "
                                        "directory levels"),
            std::string::npos)
      << deep.error().message();
  EXPECT_EQ(deep.error().message().find('\x1b'), std::string::npos);
}

TEST(HostileTree, AHugeSparseFileHitsTheSizeLimitWithoutBeingRead) {
  TempDir t;
  PutDir(t / "root");
  PutFile(t / "root/huge", "");
  ASSERT_EQ(::truncate((t / "root/huge").c_str(), 1ll << 40), 0);  // 1 TiB of hole
  auto start = std::chrono::steady_clock::now();
  auto r = EnsureImage(t / "root", CacheIn(t));
  ASSERT_FALSE(r.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_NE(r.error().message().find("/huge: the rootfs exceeds the limit of 34359738368 bytes"),
            std::string::npos)
      << r.error().message();
  EXPECT_TRUE(Names(t / "cache/tmp").empty());
}

TEST(HostileTree, DeepAndWideTreesHitTheirLimits) {
  TempDir t;
  PutDir(t / "root");
  std::string p = t / "root";
  for (int i = 0; i < 200; ++i) {
    p += "/d";
    PutDir(p);
  }
  auto r = EnsureImage(t / "root", CacheIn(t));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("limit of 128 directory levels"), std::string::npos)
      << r.error().message();

  PutDir(t / "wide");
  for (int i = 0; i < 20; ++i) PutFile(t / "wide/" + std::to_string(i), "");
  ImageCache small = CacheIn(t);
  small.limits.max_entries = 10;
  r = EnsureImage(t / "wide", small);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("limit of 10 entries"), std::string::npos)
      << r.error().message();
}

TEST(HostileTree, UnreadableModesAreImagedAsTheyAre) {
  TempDir t;
  PutDir(t / "root");
  PutDir(t / "root/locked", 0000);
  PutFile(t / "root/locked/secret", "s", 0000);
  auto r = EnsureImage(t / "root", CacheIn(t));
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_NE(Command("dump.erofs --path=/locked/secret " + r->path).find("Access: 0000"),
            std::string::npos);
}

TEST(HostileTree, ASymlinkedRootfsIsRefused) {
  TempDir t;
  PutLink("/", t / "rootfs");
  auto r = EnsureImage(t / "rootfs", CacheIn(t));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("is a symlink"), std::string::npos) << r.error().message();
}

TEST(HostileTree, TheCacheDirectoryIsOursAlone) {
  TempDir t;
  PutDir(t / "root");
  PutDir(t / "cache", 0777);
  auto r = EnsureImage(t / "root", CacheIn(t));
  ASSERT_TRUE(r.ok()) << r.error().message();
  struct stat st;
  ASSERT_EQ(::stat((t / "cache").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u) << "tightened";

  PutDir(t / "theirs", 0700);
  ASSERT_EQ(::chown((t / "theirs").c_str(), 1000, 1000), 0);
  ImageCache theirs;
  theirs.dir = t / "theirs";
  r = EnsureImage(t / "root", theirs);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("belongs to uid 1000"), std::string::npos)
      << r.error().message();
}

}  // namespace
}  // namespace bulkhead::vmimage
