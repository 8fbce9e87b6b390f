// Helpers for the vmimage tests: temporary directories and a sample rootfs that exercises
// every kind of entry an image keeps. Test-only; aborts the test on setup failures.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "base/fs.h"
#include "vmimage/image_cache.h"

namespace bulkhead::vmimage::testing {

// A fresh directory under /tmp, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/bh-vmimage-XXXXXX";
    char* p = ::mkdtemp(tmpl);
    if (p == nullptr) std::abort();
    path_ = p;
  }
  ~TempDir() { (void)RemoveAll(path_); }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

// A cache in the test's own directory.
inline ImageCache CacheIn(const TempDir& t) {
  ImageCache c;
  c.dir = t / "cache";
  return c;
}

inline void SetMtime(const std::string& path, time_t sec, long nsec) {
  struct timespec t[2] = {{sec, nsec}, {sec, nsec}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), t, AT_SYMLINK_NOFOLLOW), 0) << path;
}

inline void PutFile(const std::string& path, const std::string& data, mode_t mode = 0644) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  ::close(fd);
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
  SetMtime(path, 1'600'000'000, 0);
}

inline void PutDir(const std::string& path, mode_t mode = 0755) {
  ASSERT_EQ(::mkdir(path.c_str(), mode), 0) << path;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

inline void PutLink(const std::string& target, const std::string& path) {
  ASSERT_EQ(::symlink(target.c_str(), path.c_str()), 0) << path;
  SetMtime(path, 1'600'000'100, 0);
}

// Every kind of entry: files with odd modes, owners, sub-second mtimes and xattrs, an
// empty and a sparse file, symlinks (relative, absolute, dangling), a hard link, a FIFO, a
// socket and a device node, a name with odd bytes, and nested directories. Every mtime is
// fixed, so two calls make trees that are the same byte for byte.
inline void MakeSampleTree(const std::string& root) {
  PutDir(root);
  PutDir(root + "/bin");
  PutFile(root + "/bin/tool", "#!/bin/sh\necho tool\n", 0755);
  PutDir(root + "/etc", 0750);
  PutFile(root + "/etc/conf", "key=value\n", 0640);
  ASSERT_EQ(::chown((root + "/etc/conf").c_str(), 1000, 2000), 0);
  ASSERT_EQ(::chmod((root + "/etc/conf").c_str(), 0640), 0);
  ASSERT_EQ(::setxattr((root + "/etc/conf").c_str(), "user.origin", "sample", 6, 0), 0);
  SetMtime(root + "/etc/conf", 1'234'567'890, 123'456'789);
  PutFile(root + "/etc/setuid", "suid", 04755);
  PutFile(root + "/empty", "");
  std::string sparse = root + "/sparse";
  PutFile(sparse, "");
  ASSERT_EQ(::truncate(sparse.c_str(), 1 << 20), 0);
  int fd = ::open(sparse.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_EQ(::pwrite(fd, "middle", 6, 512 * 1024), 6);
  ::close(fd);
  SetMtime(sparse, 1'600'000'000, 0);
  PutLink("etc/conf", root + "/link-rel");
  // Only trusted.* and security.* xattrs can sit on a symlink (and only root sets trusted.*).
  ASSERT_EQ(::lsetxattr((root + "/link-rel").c_str(), "trusted.note", "on a link", 9, 0), 0);
  PutLink("/etc/passwd", root + "/link-abs");
  PutLink("../../nowhere", root + "/link-dangling");
  PutDir(root + "/sub");
  PutDir(root + "/sub/deep");
  PutFile(root + "/sub/deep/file", "deep\n");
  ASSERT_EQ(::link((root + "/bin/tool").c_str(), (root + "/sub/tool-hard").c_str()), 0);
  ASSERT_EQ(::mkfifo((root + "/fifo").c_str(), 0600), 0);
  ASSERT_EQ(::mknod((root + "/sock").c_str(), S_IFSOCK | 0755, 0), 0);
  PutDir(root + "/dev");
  ASSERT_EQ(::mknod((root + "/dev/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
  ASSERT_EQ(::chmod((root + "/dev/null").c_str(), 0666), 0);
  PutFile(root + "/odd\n\xff name", "odd\n");
  for (const char* p : {"fifo", "sock", "dev/null"}) SetMtime(root + "/" + p, 1'600'000'200, 0);
  // Directories last: making their children changed their mtimes.
  for (const char* d : {"bin", "etc", "sub/deep", "sub", "dev", ""}) {
    SetMtime(root + "/" + d, 1'600'000'300, 500);
  }
}

// Every entry of `b` is as in `a`: type, mode, owner, mtime, device number, xattr names,
// contents and symlink targets.
// "name=value;" for each xattr of `path` (not following a symlink).
inline std::string XattrText(const std::string& path) {
  char names[1024];
  ssize_t n = ::llistxattr(path.c_str(), names, sizeof names);
  std::string out;
  for (ssize_t i = 0; i < n; i += static_cast<ssize_t>(std::strlen(names + i)) + 1) {
    char value[256];
    ssize_t v = ::lgetxattr(path.c_str(), names + i, value, sizeof value);
    out +=
        std::string(names + i) + "=" + std::string(value, v > 0 ? static_cast<size_t>(v) : 0) + ";";
  }
  return out;
}

inline std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

inline void ExpectSameTree(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  ASSERT_EQ(::lstat(a.c_str(), &sa), 0) << a;
  ASSERT_EQ(::lstat(b.c_str(), &sb), 0) << b;
  EXPECT_EQ(sa.st_mode, sb.st_mode) << b;
  EXPECT_EQ(sa.st_uid, sb.st_uid) << b;
  EXPECT_EQ(sa.st_gid, sb.st_gid) << b;
  EXPECT_EQ(sa.st_mtim.tv_sec, sb.st_mtim.tv_sec) << b;
  EXPECT_EQ(sa.st_mtim.tv_nsec, sb.st_mtim.tv_nsec) << b;
  EXPECT_EQ(sa.st_rdev, sb.st_rdev) << b;
  EXPECT_EQ(XattrText(a), XattrText(b)) << b;
  if (S_ISREG(sa.st_mode)) {
    EXPECT_EQ(sa.st_size, sb.st_size) << b;
    EXPECT_EQ(*ReadFile(a, 2 << 20), *ReadFile(b, 2 << 20)) << b;
  } else if (S_ISLNK(sa.st_mode)) {
    char ta[256] = {}, tb[256] = {};
    EXPECT_EQ(::readlink(a.c_str(), ta, sizeof ta), ::readlink(b.c_str(), tb, sizeof tb));
    EXPECT_STREQ(ta, tb) << b;
  } else if (S_ISDIR(sa.st_mode)) {
    auto a_names = Names(a), b_names = Names(b);
    EXPECT_EQ(a_names, b_names) << b;
    for (const std::string& n : a_names) ExpectSameTree(a + "/" + n, b + "/" + n);
  }
}

// Output of a command line (paths in it come from mkdtemp, so no quoting is needed).
inline std::string Command(const std::string& cmd, int* status = nullptr) {
  std::string out;
  FILE* f = ::popen((cmd + " 2>&1").c_str(), "r");
  if (f == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = ::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  int st = ::pclose(f);
  if (status != nullptr) *status = st;
  return out;
}

}  // namespace bulkhead::vmimage::testing
