#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "vmimage/image_cache.h"
#include "vmimage/test_tree.h"

namespace bulkhead::vmimage {
namespace {

using testing::CacheIn;
using testing::Names;
using testing::PutDir;
using testing::PutFile;
using testing::SetMtime;
using testing::TempDir;

// A one-file tree per name, so that each makes an image of its own.
HeldImage Build(const TempDir& t, const std::string& name, const ImageCache& cache) {
  PutDir(t / name);
  PutFile(t / name + "/f", name + std::string(10000, 'x'));
  auto r = EnsureImage(t / name, cache);
  EXPECT_TRUE(r.ok()) << r.error().message();
  EXPECT_TRUE(r.ok() && r->built());
  return r.ok() ? std::move(*r) : HeldImage{};
}

bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

uint64_t Size(const std::string& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return static_cast<uint64_t>(st.st_size);
}

TEST(Prune, DeletesTheLeastRecentlyUsedAndNeverAHeldImage) {
  TempDir t;
  ImageCache cache = CacheIn(t);
  HeldImage a = Build(t, "a", cache);  // stays held
  std::string b = Build(t, "b", cache).path, c = Build(t, "c", cache).path;
  // Last uses: a oldest, then b, then c.
  SetMtime(a.path, 100, 0);
  SetMtime(b, 200, 0);
  SetMtime(c, 300, 0);
  uint64_t each = Size(a.path);
  ASSERT_EQ(Size(b), each);

  // Room for two: a would go first, but it is held, so b goes.
  auto r = Prune(cache, 2 * each);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->removed, 1u);
  EXPECT_EQ(r->held, 1u);
  EXPECT_EQ(r->kept, 2u);
  EXPECT_EQ(r->kept_bytes, 2 * each);
  EXPECT_TRUE(Exists(a.path));
  EXPECT_FALSE(Exists(b));
  EXPECT_TRUE(Exists(c));

  // Nothing fits in zero bytes, but the held image still stays; released, it goes too.
  r = Prune(cache, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->removed, 1u);
  EXPECT_TRUE(Exists(a.path));
  EXPECT_FALSE(Exists(c));
  int dup = ::dup(a.fd.get());  // a duplicate (as a child inherits it) holds it as well
  a.fd.reset();
  EXPECT_EQ(Prune(cache, 0)->removed, 0u);
  ::close(dup);
  EXPECT_EQ(Prune(cache, 0)->removed, 1u);
  EXPECT_FALSE(Exists(a.path));
}

TEST(Prune, UsingAnImageMakesItRecent) {
  TempDir t;
  ImageCache cache = CacheIn(t);
  std::string a = Build(t, "a", cache).path, b = Build(t, "b", cache).path;
  SetMtime(a, 100, 0);
  SetMtime(b, 200, 0);
  ASSERT_TRUE(EnsureImage(t / "a", cache).ok());  // a is now the most recent
  ASSERT_EQ(Prune(cache, Size(a))->removed, 1u);
  EXPECT_TRUE(Exists(a));
  EXPECT_FALSE(Exists(b));
}

TEST(Prune, APrunedImageIsBuiltAgainEvenWhenItsIdentityIsKnown) {
  TempDir t;
  ImageCache cache = CacheIn(t);
  cache.limits.memo_min_age_ns = 0;
  Build(t, "a", cache);
  ASSERT_EQ(EnsureImage(t / "a", cache)->origin, ImageOrigin::kSameIdentity);
  ASSERT_EQ(Prune(cache, 0)->removed, 1u);
  EXPECT_TRUE(Names(t / "cache/index").empty()) << "index entries of deleted images go too";
  auto again = EnsureImage(t / "a", cache);
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_TRUE(again->built());
}

TEST(Prune, SweepsWhatDeadBuildersLeft) {
  TempDir t;
  ImageCache cache = CacheIn(t);
  HeldImage live = Build(t, "a", cache);
  // A dead builder's staging directory (old, unlocked), a live one's (old, locked), a young one
  // (maybe locked a moment from now), a lock file nobody holds, and an index entry for an image
  // that is not there.
  PutDir(t / "cache/tmp/dead");
  PutFile(t / "cache/tmp/dead/image", "partial");
  SetMtime(t / "cache/tmp/dead", 100, 0);
  PutDir(t / "cache/tmp/busy");
  SetMtime(t / "cache/tmp/busy", 100, 0);
  int busy = ::open((t / "cache/tmp/busy").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_EQ(::flock(busy, LOCK_EX), 0);
  PutDir(t / "cache/tmp/young");
  PutFile(t / "cache/locks/" + std::string(64, 'a') + ".lock", "");
  PutFile(t / "cache/index/" + std::string(64, 'b'), std::string(64, 'c') + "\n");

  auto r = Prune(cache, 1ull << 40);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->removed, 0u);
  EXPECT_EQ(Names(t / "cache/tmp"), (std::vector<std::string>{"busy", "young"}));
  EXPECT_TRUE(Names(t / "cache/locks").empty());
  EXPECT_TRUE(Names(t / "cache/index").empty());
  EXPECT_TRUE(Exists(live.path));
  ::close(busy);
}

}  // namespace
}  // namespace bulkhead::vmimage
