#include "seccomp/cache.h"

#include <gtest/gtest.h>
#include <dirent.h>
#include <sys/stat.h>

#include <cstdlib>

#include "base/fs.h"
#include "seccomp/default_profile.h"

namespace bulkhead::seccomp {
namespace {

oci::Seccomp Small() {
  oci::Seccomp p;
  p.default_action = "SCMP_ACT_ALLOW";
  p.architectures = {"SCMP_ARCH_X86_64"};
  oci::SeccompSyscall s;
  s.names = {"mount", "umount2"};
  s.action = "SCMP_ACT_ERRNO";
  s.errno_ret = 1;
  p.syscalls.push_back(s);
  return p;
}

std::string TempDir() {
  char tmpl[] = "/tmp/bh-seccomp-cache-XXXXXX";
  EXPECT_NE(mkdtemp(tmpl), nullptr);
  return tmpl;
}

TEST(SeccompCache, KeyChangesWithEveryField) {
  oci::Seccomp a = Small();
  std::string k = CacheKey(a);
  oci::Seccomp b = a;
  b.syscalls[0].errno_ret = 2;
  EXPECT_NE(CacheKey(b), k);
  b = a;
  b.syscalls[0].names.push_back("chroot");
  EXPECT_NE(CacheKey(b), k);
  b = a;
  b.syscalls[0].args.push_back({0, 1, 0, "SCMP_CMP_EQ"});
  EXPECT_NE(CacheKey(b), k);
  b = a;
  b.flags = {"SECCOMP_FILTER_FLAG_LOG"};
  EXPECT_NE(CacheKey(b), k);
  b = a;
  b.default_errno_ret = 38;
  EXPECT_NE(CacheKey(b), k);
  // Names cannot run into each other: ["ab"] differs from ["a", "b"].
  b = a;
  b.syscalls[0].names = {"ab"};
  oci::Seccomp c = a;
  c.syscalls[0].names = {"a", "b"};
  EXPECT_NE(CacheKey(b), CacheKey(c));
  EXPECT_EQ(CacheKey(Small()), k);
}

TEST(SeccompCache, EntryRoundTripsAndRefusesOtherKeys) {
  auto p = Compile(Small());
  ASSERT_TRUE(p.ok()) << p.error().message();
  std::string key = CacheKey(Small());
  std::string bytes = EncodeEntry(key, *p);
  auto back = DecodeEntry(key, bytes);
  ASSERT_TRUE(back.ok()) << back.error().message();
  ASSERT_EQ(back->filter.size(), p->filter.size());
  for (size_t i = 0; i < p->filter.size(); ++i) {
    EXPECT_EQ(back->filter[i].code, p->filter[i].code);
    EXPECT_EQ(back->filter[i].k, p->filter[i].k);
  }
  EXPECT_EQ(back->flags, p->flags);
  EXPECT_FALSE(DecodeEntry(key + "x", bytes).ok());
  EXPECT_FALSE(DecodeEntry(key, bytes.substr(0, bytes.size() - 3)).ok());
  EXPECT_FALSE(DecodeEntry(key, bytes + "junk1234").ok());
  EXPECT_FALSE(DecodeEntry(key, "").ok());
}

TEST(SeccompCache, SecondCompileComesFromTheCacheAndMatches) {
  std::string dir = TempDir();
  oci::Seccomp profile = DefaultProfile();
  auto first = CompileCached(profile, dir + "/c");
  ASSERT_TRUE(first.ok()) << first.error().message();
  struct stat st {};
  ASSERT_EQ(stat((dir + "/c").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  auto second = CompileCached(profile, dir + "/c");
  ASSERT_TRUE(second.ok());
  auto direct = Compile(profile);
  ASSERT_TRUE(direct.ok());
  ASSERT_EQ(second->filter.size(), direct->filter.size());
  EXPECT_EQ(0, memcmp(second->filter.data(), direct->filter.data(),
                      direct->filter.size() * sizeof(struct sock_filter)));
  ASSERT_TRUE(RemoveAll(dir).ok());
}

TEST(SeccompCache, DamagedEntryIsRecompiled) {
  std::string dir = TempDir();
  oci::Seccomp profile = Small();
  ASSERT_TRUE(CompileCached(profile, dir).ok());
  // Overwrite every entry with garbage: the next compile must not use it.
  auto direct = Compile(profile);
  ASSERT_TRUE(direct.ok());
  DIR* d = opendir(dir.c_str());
  ASSERT_NE(d, nullptr);
  while (struct dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') {
      ASSERT_TRUE(WriteFileAtomic(dir + "/" + e->d_name, "garbage").ok());
    }
  }
  closedir(d);
  auto again = CompileCached(profile, dir);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->filter.size(), direct->filter.size());
  ASSERT_TRUE(RemoveAll(dir).ok());
}

}  // namespace
}  // namespace bulkhead::seccomp
