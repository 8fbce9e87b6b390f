#include "base/fs.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

namespace bulkhead {
namespace {

std::string TempDir() {
  char tmpl[] = "/tmp/bh_fs_test.XXXXXX";
  char* d = mkdtemp(tmpl);
  EXPECT_NE(d, nullptr);
  return d;
}

TEST(Fs, AtomicWriteAndRead) {
  std::string dir = TempDir();
  std::string p = dir + "/f";
  ASSERT_TRUE(WriteFileAtomic(p, "hello").ok());
  auto r = ReadFile(p);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "hello");
  EXPECT_FALSE(PathExists(p + ".tmp"));
  ASSERT_TRUE(RemoveAll(dir).ok());
  EXPECT_FALSE(PathExists(dir));
}

TEST(Fs, ReadFileRefusesOversize) {
  std::string dir = TempDir();
  std::string p = dir + "/big";
  ASSERT_TRUE(WriteFileAtomic(p, std::string(100, 'x')).ok());
  auto r = ReadFile(p, 10);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().errno_value(), EFBIG);
  ASSERT_TRUE(RemoveAll(dir).ok());
}

TEST(Fs, RemoveAllDoesNotFollowSymlinks) {
  std::string dir = TempDir();
  std::string outside = TempDir();
  ASSERT_TRUE(WriteFileAtomic(outside + "/keep", "x").ok());
  ASSERT_TRUE(MkdirAll(dir + "/a/b/c").ok());
  ASSERT_EQ(symlink(outside.c_str(), (dir + "/a/link").c_str()), 0);
  ASSERT_TRUE(RemoveAll(dir).ok());
  EXPECT_FALSE(PathExists(dir));
  EXPECT_TRUE(PathExists(outside + "/keep"));
  ASSERT_TRUE(RemoveAll(outside).ok());
}

TEST(Fs, MissingFileNamesPath) {
  auto r = ReadFile("/nonexistent/bulkhead/file");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("/nonexistent/bulkhead/file"), std::string::npos);
}

TEST(Fs, JoinPath) {
  EXPECT_EQ(JoinPath("/a", "/b"), "/a/b");
  EXPECT_EQ(JoinPath("/a/", "b"), "/a/b");
}

}  // namespace
}  // namespace bulkhead
